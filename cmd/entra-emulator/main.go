// Command entra-emulator runs the local Microsoft Entra ID emulator of
// package entraemulator until SIGINT or SIGTERM.
//
//	entra-emulator --config directory.yaml [--address 127.0.0.1:8443] [--ca-file ca.pem]
//
// It prints shell assignments on stdout, one per line, and logs to stderr:
//
//	ENTRA_EMULATOR_URL=https://127.0.0.1:PORT
//	AZURE_AUTHORITY_HOST=https://127.0.0.1:PORT/
//	ENTRA_EMULATOR_CA_FILE=/path/ca.pem      (with --ca-file)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newCommand(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// flagpole holds the command's flag values.
type flagpole struct {
	config  string
	address string
	caFile  string
	debug   bool
}

func newCommand(stdout, stderr io.Writer) *cobra.Command {
	var flags flagpole
	cmd := &cobra.Command{
		Use:           "entra-emulator --config FILE",
		Short:         "Run a local Microsoft Entra ID emulator for workload identity federation",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), flags, stdout, stderr)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	f := cmd.Flags()
	f.StringVar(&flags.config, "config", "", "YAML or JSON directory config (required)")
	f.StringVar(&flags.address, "address", "", "listen address, overriding the config (default 127.0.0.1:0)")
	f.StringVar(&flags.caFile, "ca-file", "", "write the emulator's CA certificate (PEM) to this file")
	f.BoolVar(&flags.debug, "debug", false, "log at debug level")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// run starts the emulator and serves until ctx is done.
func run(ctx context.Context, flags flagpole, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if flags.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg, err := entraemulator.LoadConfig(flags.config)
	if err != nil {
		return err
	}
	if flags.address != "" {
		cfg.Address = flags.address
	}
	srv, err := entraemulator.Start(ctx, cfg, entraemulator.WithLogger(logger))
	if err != nil {
		return fmt.Errorf("failed to start emulator: %w", err)
	}
	if flags.caFile != "" {
		if err := srv.WriteCAFile(flags.caFile); err != nil {
			return errors.Join(err, srv.Close())
		}
	}
	fmt.Fprintf(stdout, "ENTRA_EMULATOR_URL=%s\n", srv.URL())
	fmt.Fprintf(stdout, "AZURE_AUTHORITY_HOST=%s\n", srv.AuthorityHost())
	if flags.caFile != "" {
		fmt.Fprintf(stdout, "ENTRA_EMULATOR_CA_FILE=%s\n", flags.caFile)
	}

	<-ctx.Done()
	logger.Info("shutting down", "stats", srv.Stats().String())
	if err := srv.Close(); err != nil {
		return fmt.Errorf("failed to stop emulator: %w", err)
	}
	return nil
}
