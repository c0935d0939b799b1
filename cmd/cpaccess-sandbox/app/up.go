package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpaccess/cpaccess/internal/atomicfile"
	"github.com/cpaccess/cpaccess/internal/sandbox"
)

func newUpCommand(streams IOStreams) *cobra.Command {
	f := &sandboxFlags{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the sandbox, print how to use it, and run until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(cmd.Context(), streams, f)
		},
	}
	f.addFlags(cmd)
	return cmd
}

// tokenRefresh is how often up rewrites the federated token file, well
// within its one-hour lifetime, as the kubelet does.
const tokenRefresh = 30 * time.Minute

func runUp(ctx context.Context, streams IOStreams, f *sandboxFlags) (err error) {
	fmt.Fprintln(streams.ErrOut, "starting the sandbox ...")
	sb, err := sandbox.Start(ctx, f.options(streams))
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(streams.ErrOut, "stopping the sandbox ...")
		if stopErr := sb.Stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	envFile := filepath.Join(sb.WorkDir(), "env.sh")
	if err := atomicfile.Write(envFile, []byte(envScript(sb)), 0o600); err != nil {
		return err
	}
	if err := upTemplate.Execute(streams.Out, upInfo{sb, envFile}); err != nil {
		return fmt.Errorf("failed to print the sandbox details: %w", err)
	}
	fmt.Fprintln(streams.ErrOut, "sandbox running; press Ctrl-C to stop")

	ticker := time.NewTicker(tokenRefresh)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			if err := sb.RefreshFederatedToken(ctx); err != nil && ctx.Err() == nil {
				fmt.Fprintf(streams.ErrOut, "warning: %v\n", err)
			}
		}
	}
}

type upInfo struct {
	*sandbox.Sandbox
	EnvFile string
}

// Names returns the fixed names, for the template.
func (upInfo) Names() map[string]string {
	return map[string]string{
		"Namespace": sandbox.ProfileNamespace, "Profile": sandbox.ProfileName,
		"Provider": sandbox.ProviderName,
	}
}

var upTemplate = template.Must(template.New("up").Parse(`cpaccess sandbox
  work directory       {{.WorkDir}}
  hub                  {{.Hub.Server}}
    admin kubeconfig   {{.Hub.AdminKubeconfig}}
    SA issuer          {{.Hub.ServiceAccountIssuer}}
    ClusterProfile     {{index .Names "Namespace"}}/{{index .Names "Profile"}} (access provider {{index .Names "Provider"}})
  member               {{.Member.Server}}
    admin kubeconfig   {{.Member.AdminKubeconfig}}
  Entra ID emulator    {{.Emulator.URL}}
    CA                 {{.EmulatorCAFile}}
  app identity         {{.ServiceAccountSubject}}
    federated token    {{.FederatedTokenFile}} (refreshed every 30m)
    tenant / client    {{.Primary.TenantID}} / {{.Primary.ClientID}}
    member username    {{.Primary.ObjectID}}
  second identity      {{.Secondary.TenantID}} / {{.Secondary.ClientID}} (member username {{.Secondary.ObjectID}})
  provider file        {{.ProviderFile}}
  kubelogin            {{.KubeloginPath}}
  kubectl              {{.KubectlPath}}

Environment for kubectl and kubelogin (trusts the emulator, clears AZURE_*/AAD_* overrides):
  source {{.EnvFile}}

Try:
  cpaccess kubeconfig --provider-file {{.ProviderFile}} --hub --kubeconfig {{.Hub.AdminKubeconfig}} -n {{index .Names "Namespace"}} {{index .Names "Profile"}} -o {{.WorkDir}}/member.kubeconfig
  kubectl --kubeconfig {{.WorkDir}}/member.kubeconfig get namespaces
  kubectl --kubeconfig {{.WorkDir}}/member.kubeconfig auth whoami
`))

// envScript is a POSIX shell snippet giving kubectl and kubelogin the
// sandbox's environment without replacing HOME.
func envScript(sb *sandbox.Sandbox) string {
	var b strings.Builder
	b.WriteString("# Source this file to use the cpaccess sandbox from a shell.\n")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "HOME" {
			continue
		}
		if len(sandbox.SanitizedEnviron([]string{kv})) == 0 {
			fmt.Fprintf(&b, "unset %s\n", name)
		}
	}
	fmt.Fprintf(&b, "export SSL_CERT_FILE=%s\n", shellQuote(sb.EmulatorCAFile()))
	fmt.Fprintf(&b, "export XDG_CACHE_HOME=%s\n", shellQuote(filepath.Join(sb.WorkDir(), "home", ".cache")))
	fmt.Fprintf(&b, "export KUBECONFIG=%s\n", shellQuote(sb.Hub().AdminKubeconfig()))
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
