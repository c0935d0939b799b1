package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// ErrReported is returned when a command has already reported its failures
// on the error stream and only the exit code is left to set.
var ErrReported = errors.New("failed: see the messages above")

// NewRootCommand returns the cpaccess command tree.
func NewRootCommand(streams IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cpaccess",
		Short: "Turn ClusterProfiles into working kubeconfigs and client configs",
		Long: `cpaccess resolves ClusterProfiles (multicluster.x-k8s.io/v1alpha1) with a
provider file into kubeconfigs whose users run the right credential plugin,
such as kubelogin for AKS with Microsoft Entra Workload ID.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.AddCommand(newKubeconfigCommand(streams), newVersionCommand(streams))
	return root
}

// Run runs cpaccess with args and returns the process exit code.
func Run(ctx context.Context, streams IOStreams, args []string) int {
	cmd := NewRootCommand(streams)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, ErrReported) {
			// The error may carry a hub's answer: escape it, keeping only
			// the line breaks of errors that span several lines.
			fmt.Fprintf(streams.ErrOut, "Error: %s\n", escapeText(err.Error(), true, 0))
		}
		return 1
	}
	return 0
}
