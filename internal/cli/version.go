package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cpaccess/cpaccess/internal/version"
)

func newVersionCommand(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the cpaccess version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(streams.Out, "cpaccess %s\n", version.Get())
			return err
		},
	}
}
