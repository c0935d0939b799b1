package kubecluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ModuleRoot returns the directory holding the go.mod of the cpaccess module,
// found by walking up from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("failed to get working directory: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && isCPAccessModule(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("failed to find the module root: no go.mod of github.com/cpaccess/cpaccess above the working directory")
		}
		dir = parent
	}
}

func isCPAccessModule(gomod []byte) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == "github.com/cpaccess/cpaccess"
		}
	}
	return false
}

// DefaultBinDir returns <module root>/bin, where hack/build-tools.sh puts the
// real binaries.
func DefaultBinDir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin"), nil
}

// LookupBinary returns the absolute path of an executable called name, looked
// for first in binDir (DefaultBinDir when empty) and then on PATH.
func LookupBinary(binDir, name string) (string, error) {
	if binDir == "" {
		if d, err := DefaultBinDir(); err == nil {
			binDir = d
		}
	}
	if binDir != "" {
		p := filepath.Join(binDir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return filepath.Abs(p)
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("failed to find %s in %q or on PATH (run `make tools` to build the real binaries): %w", name, binDir, err)
	}
	return filepath.Abs(p)
}

// RequireBinaries skips the test when one of the named executables is found
// neither in the default bin directory nor on PATH. Under CI (the CI
// environment variable is non-empty) a missing binary fails the test instead,
// so that a CI run cannot silently skip the real-component tests.
func RequireBinaries(t testing.TB, names ...string) {
	t.Helper()
	missing := MissingBinaries(names...)
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing binaries %s (run `make tools` to build them into bin/)", strings.Join(missing, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// MissingBinaries reports which of the named executables cannot be found; it
// is RequireBinaries for code that has no testing.TB (such as TestMain).
func MissingBinaries(names ...string) []string {
	var missing []string
	for _, n := range names {
		if _, err := LookupBinary("", n); err != nil {
			missing = append(missing, n)
		}
	}
	return missing
}
