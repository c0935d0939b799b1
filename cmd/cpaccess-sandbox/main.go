// Command cpaccess-sandbox runs a hub cluster, a member cluster and the
// Entra ID emulator on loopback, wired for Azure workload identity, to try
// cpaccess end to end (`up`) or to watch it work step by step (`demo`).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cpaccess/cpaccess/cmd/cpaccess-sandbox/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, app.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}
