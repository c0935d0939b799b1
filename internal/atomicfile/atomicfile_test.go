package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to write
		check func(t *testing.T, dir, path string)
	}{
		{"new file", func(t *testing.T, dir string) string { return filepath.Join(dir, "config") }, nil},
		{"replaces a 0644 file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config")
			if err := os.WriteFile(p, []byte("old content that is longer"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil},
		{"keeps a symbolic link", func(t *testing.T, dir string) string {
			target := filepath.Join(dir, "real")
			if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, "link")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, func(t *testing.T, dir, path string) {
			if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("link replaced by a file: %v %v", fi, err)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "real")); string(data) != "new" {
				t.Errorf("target = %q", data)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := tc.setup(t, dir)
			if err := Write(path, []byte("new"), 0o600); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil || string(data) != "new" {
				t.Fatalf("content = %q, %v", data, err)
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, %v", fi.Mode().Perm(), err)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "config" && e.Name() != "real" && e.Name() != "link" {
					t.Errorf("left behind: %s", e.Name())
				}
			}
			if tc.check != nil {
				tc.check(t, dir, path)
			}
		})
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing", "config")
	if err := Write(path, []byte("x"), 0o600); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file exists after a failed write: %v", err)
	}
}
