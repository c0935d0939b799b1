package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/cpaccess/cpaccess/internal/kubecluster"
)

// buildFunc builds ./cmd/cpaccess of the module at root into out.
type buildFunc func(ctx context.Context, root, out string) error

// goBuild runs "go build -o out ./cmd/cpaccess" in root.
func goBuild(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/cpaccess")
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to build cpaccess in %s: %w\n%s", root, err, output)
	}
	return nil
}

// cpaccessFinder decides which cpaccess binary up and demo run.
type cpaccessFinder struct {
	// binDir holds prebuilt binaries; empty means <module root>/bin.
	binDir string
	// buildDir receives a cpaccess built from the module.
	buildDir string
	// moduleRoot finds the cpaccess module (kubecluster.ModuleRoot).
	moduleRoot func() (string, error)
	build      buildFunc
	logf       func(format string, args ...any)
}

// find returns the absolute path of the cpaccess to run: explicit (the
// --cpaccess flag) when given; else, inside the module, one built from its
// source into buildDir, so a stale build never runs; else
// <bin-dir>/cpaccess when it exists; else cpaccess on PATH.
func (f cpaccessFinder) find(ctx context.Context, explicit string) (string, error) {
	if explicit != "" {
		p, err := filepath.Abs(explicit)
		if err != nil {
			return "", fmt.Errorf("failed to resolve --cpaccess: %w", err)
		}
		return p, nil
	}
	root, rootErr := f.moduleRoot()
	if rootErr == nil {
		if err := os.MkdirAll(f.buildDir, 0o700); err != nil {
			return "", fmt.Errorf("failed to create %s: %w", f.buildDir, err)
		}
		out, err := filepath.Abs(filepath.Join(f.buildDir, "cpaccess"))
		if err != nil {
			return "", err
		}
		f.logf("building cpaccess from %s into %s ...", root, out)
		if err := f.build(ctx, root, out); err != nil {
			return "", err
		}
		return out, nil
	}
	if f.binDir != "" {
		p := filepath.Join(f.binDir, "cpaccess")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return filepath.Abs(p)
		}
	}
	p, err := exec.LookPath("cpaccess")
	if err != nil {
		return "", errors.Join(
			fmt.Errorf("failed to find cpaccess: no cpaccess module to build it from (%w), none in %q, and none on PATH; pass --cpaccess", rootErr, f.binDir),
			err)
	}
	return filepath.Abs(p)
}

// newCPAccessFinder is the finder of the commands: prebuilt binaries in
// binDir, builds into <workDir>/bin.
func newCPAccessFinder(streams IOStreams, binDir, workDir string) cpaccessFinder {
	return cpaccessFinder{
		binDir:     binDir,
		buildDir:   filepath.Join(workDir, "bin"),
		moduleRoot: kubecluster.ModuleRoot,
		build:      goBuild,
		logf:       func(format string, args ...any) { fmt.Fprintf(streams.ErrOut, format+"\n", args...) },
	}
}
