package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

func TestWriteRefusesOddTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "missing", "target"), dangling); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	toDevNull := filepath.Join(dir, "null")
	if err := os.Symlink(os.DevNull, toDevNull); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:      "not a regular file",
		dir:       "not a regular file",
		dangling:  "cannot be resolved",
		loop:      "cannot be resolved",
		toDevNull: "not a regular file",
	} {
		if err := Write(path, []byte("x"), 0o600); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", path, err, want)
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Error("the FIFO was replaced")
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Error(os.DevNull + " is no longer a device")
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
