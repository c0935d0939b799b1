// Command aks-workload-identity resolves the example ClusterProfile with the
// example provider file through the cpaccess library and prints the exec
// invocation a client would run to sign in to the AKS cluster, followed by a
// few settings of the resulting rest.Config.
//
// Run it from the repository root:
//
//	go run ./examples/aks-workload-identity
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cpaccess/cpaccess/pkg/access"
)

func main() {
	os.Exit(run(os.Stdout, os.Stderr, os.Args[1:]))
}

func run(stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("aks-workload-identity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	providerFile := fs.String("provider-file", "examples/aks-workload-identity/providers.yaml", "provider file")
	profileFile := fs.String("profile", "examples/aks-workload-identity/clusterprofile.yaml", "ClusterProfile file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := resolve(stdout, *providerFile, *profileFile); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}

func resolve(w io.Writer, providerFile, profileFile string) error {
	providers, err := access.LoadProviderFile(providerFile)
	if err != nil {
		return err
	}
	f, err := os.Open(profileFile)
	if err != nil {
		return fmt.Errorf("failed to open ClusterProfile file: %w", err)
	}
	defer f.Close()
	cps, err := access.DecodeClusterProfiles(f, profileFile)
	if err != nil {
		return err
	}
	if len(cps) != 1 {
		return fmt.Errorf("failed to read %s: expected one ClusterProfile, found %d", profileFile, len(cps))
	}
	a, err := providers.Resolve(cps[0])
	if err != nil {
		return err
	}
	cfg := a.RESTConfig()
	fmt.Fprintf(w, "# ClusterProfile %s via access provider %q\n", a.ObjectName(), a.Provider)
	var line []string
	for _, e := range cfg.ExecProvider.Env {
		line = append(line, e.Name+"="+shellQuote(e.Value))
	}
	line = append(line, shellQuote(cfg.ExecProvider.Command))
	for _, arg := range cfg.ExecProvider.Args {
		line = append(line, shellQuote(arg))
	}
	fmt.Fprintln(w, strings.Join(line, " "))
	fmt.Fprintf(w, "# server: %s\n", cfg.Host)
	fmt.Fprintf(w, "# CA bundle: %d bytes; exec API: %s; interactive: %s\n", len(cfg.CAData), cfg.ExecProvider.APIVersion, cfg.ExecProvider.InteractiveMode)
	fmt.Fprintf(w, "# fingerprint: %s\n", a.Fingerprint())
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
