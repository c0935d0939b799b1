package kubecluster_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpaccess/cpaccess/internal/kubecluster"
)

func TestLookupBinary(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notexec"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := kubecluster.LookupBinary(dir, "tool"); err != nil || got != exe {
		t.Errorf("LookupBinary(tool) = %q, %v; want %q", got, err, exe)
	}
	for _, name := range []string{"notexec", "cpaccess-no-such-tool"} {
		_, err := kubecluster.LookupBinary(dir, name)
		if err == nil || !strings.Contains(err.Error(), "make tools") {
			t.Errorf("LookupBinary(%s) error = %v, want one pointing at `make tools`", name, err)
		}
	}
	if got := kubecluster.MissingBinaries("cpaccess-no-such-tool", "sh"); len(got) != 1 || got[0] != "cpaccess-no-such-tool" {
		t.Errorf("MissingBinaries = %v, want only the missing tool", got)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := kubecluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "kubecluster")); err != nil {
		t.Errorf("ModuleRoot() = %s, which does not hold internal/kubecluster", root)
	}
}
