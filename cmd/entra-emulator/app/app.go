// Package app implements the entra-emulator command.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

// Run runs the entra-emulator command with args, serving until ctx is done,
// and returns the process exit code.
func Run(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	cmd := newCommand(stdout, stderr)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

// flagpole holds the command's flag values.
type flagpole struct {
	config           string
	address          string
	allowNonLoopback bool
	caFile           string
	admin            string
	debug            bool
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
	f.StringVar(&flags.address, "address", "", "listen address, overriding the config (default 127.0.0.1:0); loopback only unless --allow-non-loopback")
	f.BoolVar(&flags.allowNonLoopback, "allow-non-loopback", false, "allow a listen address beyond loopback: anyone who reaches it can obtain the tokens the directory allows")
	f.StringVar(&flags.caFile, "ca-file", "", "write the emulator's CA certificate (PEM) to this file")
	f.StringVar(&flags.admin, "admin-address", "", "serve the admin API (stats, faults) over plain HTTP on this loopback address, e.g. 127.0.0.1:0")
	f.BoolVar(&flags.debug, "debug", false, "log at debug level")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// isLoopbackHost reports whether host (of a listen address) is "localhost"
// or a loopback IP address. An empty host, a wildcard address or any other
// name is not: it may be reached from elsewhere.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkListenAddress refuses a listen address beyond loopback unless
// allowed. A malformed address is left to the emulator's own validation.
func checkListenAddress(addr string, allowNonLoopback bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || isLoopbackHost(host) || allowNonLoopback {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s: it is not a loopback address, and the emulator issues tokens to anyone who reaches it without authentication (pass --allow-non-loopback to listen there anyway)", addr)
}

// listenLoopback listens on addr, which must be a loopback address: the
// admin API has no authentication.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("failed to parse --admin-address: %w", err)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("failed to listen on --admin-address %s: the admin API has no authentication and serves on loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on --admin-address: %w", err)
	}
	return ln, nil
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
	if err := checkListenAddress(cfg.Address, flags.allowNonLoopback); err != nil {
		return err
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
	var admin *http.Server
	if flags.admin != "" {
		ln, err := listenLoopback(flags.admin)
		if err != nil {
			return errors.Join(err, srv.Close())
		}
		admin = &http.Server{Handler: srv.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = admin.Serve(ln) }()
		defer func() { _ = admin.Close() }()
		flags.admin = "http://" + ln.Addr().String()
	}
	fmt.Fprintf(stdout, "ENTRA_EMULATOR_URL=%s\n", srv.URL())
	fmt.Fprintf(stdout, "AZURE_AUTHORITY_HOST=%s\n", srv.AuthorityHost())
	if flags.caFile != "" {
		fmt.Fprintf(stdout, "ENTRA_EMULATOR_CA_FILE=%s\n", flags.caFile)
	}
	if admin != nil {
		fmt.Fprintf(stdout, "ENTRA_EMULATOR_ADMIN_URL=%s\n", flags.admin)
	}

	<-ctx.Done()
	logger.Info("shutting down", "stats", srv.Stats().String())
	if err := srv.Close(); err != nil {
		return fmt.Errorf("failed to stop emulator: %w", err)
	}
	return nil
}
