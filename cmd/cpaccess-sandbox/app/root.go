// Package app is the cpaccess-sandbox command tree.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cpaccess/cpaccess/internal/sandbox"
)

// IOStreams are the streams a command reads and writes: program output on
// Out, progress and errors on ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// sandboxFlags are the flags shared by up and demo.
type sandboxFlags struct {
	workDir  string
	binDir   string
	verbose  bool
	cpaccess string
}

func (f *sandboxFlags) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.workDir, "work-dir", "", "directory for certificates, data, logs and generated files (default: a temporary directory, removed on exit)")
	cmd.Flags().StringVar(&f.binDir, "bin-dir", "", "directory holding etcd, kube-apiserver and kubelogin (default: <module root>/bin)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log sandbox progress on standard error")
	cmd.Flags().StringVar(&f.cpaccess, "cpaccess", "", "cpaccess binary to run (default: built from this module into <work-dir>/bin; outside the module, <bin-dir>/cpaccess, else cpaccess on PATH)")
}

// options are the sandbox options for workDir (see workDirectory).
func (f *sandboxFlags) options(streams IOStreams, workDir string) sandbox.Options {
	opts := sandbox.Options{WorkDir: workDir, BinDir: f.binDir}
	if f.verbose {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(streams.ErrOut, format+"\n", args...) }
	}
	return opts
}

// workDirectory returns the absolute work directory, creating it: --work-dir,
// or a new temporary directory that remove deletes. The commands own it
// (rather than the sandbox) because they put a cpaccess they build there.
func (f *sandboxFlags) workDirectory() (dir string, remove func() error, err error) {
	if f.workDir == "" {
		dir, err := os.MkdirTemp("", "cpaccess-sandbox-")
		if err != nil {
			return "", nil, fmt.Errorf("failed to create the work directory: %w", err)
		}
		return dir, func() error { return os.RemoveAll(dir) }, nil
	}
	dir, err = filepath.Abs(f.workDir)
	if err != nil {
		return "", nil, fmt.Errorf("failed to resolve --work-dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("failed to create the work directory: %w", err)
	}
	return dir, func() error { return nil }, nil
}

// session is a started sandbox and the cpaccess binary its commands use.
type session struct {
	sb       *sandbox.Sandbox
	cpaccess string
	workDir  string
	stop     func() error
}

// start creates the work directory, finds or builds cpaccess (--cpaccess
// first) and starts the sandbox. The session's stop tears the sandbox down
// and removes a temporary work directory.
func (f *sandboxFlags) start(ctx context.Context, streams IOStreams) (*session, error) {
	workDir, removeWorkDir, err := f.workDirectory()
	if err != nil {
		return nil, err
	}
	cpaccessBin, err := newCPAccessFinder(streams, f.binDir, workDir).find(ctx, f.cpaccess)
	if err != nil {
		return nil, errors.Join(err, removeWorkDir())
	}
	fmt.Fprintln(streams.ErrOut, "starting the sandbox (hub, member, Entra ID emulator) ...")
	sb, err := sandbox.Start(ctx, f.options(streams, workDir))
	if err != nil {
		return nil, errors.Join(err, removeWorkDir())
	}
	stop := func() error {
		fmt.Fprintln(streams.ErrOut, "stopping the sandbox ...")
		err := sb.Stop()
		if rmErr := removeWorkDir(); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("failed to remove the work directory: %w", rmErr))
		}
		return err
	}
	return &session{sb: sb, cpaccess: cpaccessBin, workDir: workDir, stop: stop}, nil
}

// NewRootCommand returns the cpaccess-sandbox command tree.
func NewRootCommand(streams IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cpaccess-sandbox",
		Short: "Run a hub, a member and an Entra ID emulator on loopback for cpaccess",
		Long: `cpaccess-sandbox starts real components on 127.0.0.1: a hub cluster
(etcd + kube-apiserver) holding the ClusterProfile fleet-system/bravelion and
the app's service account, a local Entra ID emulator that trusts the hub's
service-account issuer, and a member cluster that accepts the emulator's
tokens. kubelogin and kubectl are the real binaries.

Build the components first with "make tools".`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.AddCommand(newUpCommand(streams), newDemoCommand(streams))
	return root
}

// errReported is returned when the failure has already been printed.
var errReported = errors.New("failed: see the messages above")

// Run runs cpaccess-sandbox with args and returns the process exit code.
func Run(ctx context.Context, streams IOStreams, args []string) int {
	cmd := NewRootCommand(streams)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(streams.ErrOut, "Error: %v\n", err)
		}
		return 1
	}
	return 0
}
