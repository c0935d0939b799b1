// Command cpaccess turns ClusterProfiles into kubeconfigs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cpaccess/cpaccess/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}
