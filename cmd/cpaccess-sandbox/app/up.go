package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
		Long: `up starts the sandbox, writes env.sh into the work directory and prints the
paths, identities and commands to try, then runs until interrupted.

The commands use cpaccess by its absolute path: --cpaccess, else one built
from this module into <work-dir>/bin (outside the module, <bin-dir>/cpaccess,
else cpaccess on PATH).

Source env.sh in a shell to run them: it points KUBECONFIG at the hub and
SSL_CERT_FILE at a bundle of the system trust roots plus the emulator's CA
(so other TLS clients in that shell keep working), gives kubelogin the
sandbox's cache, and unsets the AZURE_*/AAD_*/ARM_* variables that would
override what a kubeconfig tells kubelogin.`,
		Args: cobra.NoArgs,
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
	s, err := f.start(ctx, streams)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := s.stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	sb, cpaccessBin := s.sb, s.cpaccess
	info := newUpInfo(sb, cpaccessBin)
	if err := atomicfile.Write(info.EnvFile, []byte(envScript(os.Environ(), info)), 0o600); err != nil {
		return err
	}
	if err := writeUpInfo(streams.Out, info); err != nil {
		return err
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

// upInfo is what up prints and writes into env.sh.
type upInfo struct {
	WorkDir, EnvFile, GeneratedKubeconfig      string
	HubServer, HubKubeconfig, HubIssuer        string
	Namespace, Profile, Provider               string
	MemberServer, MemberKubeconfig             string
	EmulatorURL, EmulatorCAFile                string
	CABundleFile, CABundleSource, CacheDir     string
	AppSubject, TokenFile                      string
	Primary, Secondary                         sandbox.Identity
	ProviderFile, CPAccess, Kubelogin, Kubectl string
}

func newUpInfo(sb *sandbox.Sandbox, cpaccessBin string) upInfo {
	return upInfo{
		WorkDir:             sb.WorkDir(),
		EnvFile:             filepath.Join(sb.WorkDir(), "env.sh"),
		GeneratedKubeconfig: filepath.Join(sb.WorkDir(), "member.kubeconfig"),
		HubServer:           sb.Hub().Server(),
		HubKubeconfig:       sb.Hub().AdminKubeconfig(),
		HubIssuer:           sb.Hub().ServiceAccountIssuer(),
		Namespace:           sandbox.ProfileNamespace,
		Profile:             sandbox.ProfileName,
		Provider:            sandbox.ProviderName,
		MemberServer:        sb.Member().Server(),
		MemberKubeconfig:    sb.Member().AdminKubeconfig(),
		EmulatorURL:         sb.Emulator().URL(),
		EmulatorCAFile:      sb.EmulatorCAFile(),
		CABundleFile:        sb.CABundleFile(),
		CABundleSource:      sb.CABundleSource(),
		CacheDir:            filepath.Join(sb.WorkDir(), "home", ".cache"),
		AppSubject:          sb.ServiceAccountSubject(),
		TokenFile:           sb.FederatedTokenFile(),
		Primary:             sb.Primary(),
		Secondary:           sb.Secondary(),
		ProviderFile:        sb.ProviderFile(),
		CPAccess:            cpaccessBin,
		Kubelogin:           sb.KubeloginPath(),
		Kubectl:             sb.KubectlPath(),
	}
}

func writeUpInfo(w io.Writer, info upInfo) error {
	if err := upTemplate.Execute(w, info); err != nil {
		return fmt.Errorf("failed to print the sandbox details: %w", err)
	}
	return nil
}

var upTemplate = template.Must(template.New("up").Funcs(template.FuncMap{"q": shellWord}).Parse(`cpaccess sandbox
  work directory       {{.WorkDir}}
  hub                  {{.HubServer}}
    admin kubeconfig   {{.HubKubeconfig}}
    SA issuer          {{.HubIssuer}}
    ClusterProfile     {{.Namespace}}/{{.Profile}} (access provider {{.Provider}})
  member               {{.MemberServer}}
    admin kubeconfig   {{.MemberKubeconfig}}
  Entra ID emulator    {{.EmulatorURL}}
    CA                 {{.EmulatorCAFile}}
  app identity         {{.AppSubject}}
    federated token    {{.TokenFile}} (refreshed every 30m)
    tenant / client    {{.Primary.TenantID}} / {{.Primary.ClientID}}
    member username    {{.Primary.ObjectID}}
  second identity      {{.Secondary.TenantID}} / {{.Secondary.ClientID}} (member username {{.Secondary.ObjectID}})
  provider file        {{.ProviderFile}}
  cpaccess             {{.CPAccess}}
  kubelogin            {{.Kubelogin}}
  kubectl              {{.Kubectl}}

Environment for kubectl and kubelogin: source {{.EnvFile}}
  SSL_CERT_FILE   {{.CABundleFile}}
                  {{if .CABundleSource}}the system trust roots ({{.CABundleSource}}) plus the emulator's CA, so
                  other TLS clients in that shell keep working{{else}}the emulator's CA only: no system trust roots were found{{end}}
  KUBECONFIG      the hub's admin kubeconfig
  XDG_CACHE_HOME  {{.CacheDir}} (kubelogin's token cache)
  unset           AZURE_*, AAD_*, ARM_*, ACTIONS_ID_TOKEN_REQUEST_*, MSI_*, IDENTITY_*,
                  KUBECACHEDIR and KUBERNETES_EXEC_INFO, which would override the kubeconfig

Try, in that shell:
  {{q .CPAccess}} kubeconfig --provider-file {{q .ProviderFile}} --hub -n {{.Namespace}} {{.Profile}} -o {{q .GeneratedKubeconfig}}
  {{q .Kubectl}} --kubeconfig {{q .GeneratedKubeconfig}} get namespaces
  {{q .Kubectl}} --kubeconfig {{q .GeneratedKubeconfig}} auth whoami
`))

// envName is what envScript unsets: names a shell accepts.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envScript is a POSIX shell snippet giving a shell what kubectl and
// kubelogin need to use the sandbox, given that shell's environment: it
// unsets the variables that would override the kubeconfig's plugin
// settings, and sets SSL_CERT_FILE to the CA bundle (system roots plus the
// emulator's CA), XDG_CACHE_HOME and KUBECONFIG. HOME, SSL_CERT_DIR and the
// proxy variables are kept: Go clients never proxy loopback, and the shell
// must keep working for everything else.
func envScript(environ []string, info upInfo) string {
	var b strings.Builder
	b.WriteString("# Source this file to use the cpaccess sandbox from a shell.\n")
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !envName.MatchString(name) {
			continue
		}
		switch {
		case sandbox.KubeloginOverride(name), name == "KUBECACHEDIR", name == "KUBERNETES_EXEC_INFO":
			fmt.Fprintf(&b, "unset %s\n", name)
		}
	}
	b.WriteString("# The system trust roots plus the emulator's CA.\n")
	fmt.Fprintf(&b, "export SSL_CERT_FILE=%s\n", shellQuote(info.CABundleFile))
	fmt.Fprintf(&b, "export XDG_CACHE_HOME=%s\n", shellQuote(info.CacheDir))
	fmt.Fprintf(&b, "export KUBECONFIG=%s\n", shellQuote(info.HubKubeconfig))
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellWord is s as one shell word: as is when it holds only characters a
// shell takes literally, else quoted.
func shellWord(s string) string {
	if s != "" && plainWord.MatchString(s) {
		return s
	}
	return shellQuote(s)
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)
