package access_test

import (
	"strings"
	"testing"

	"github.com/cpaccess/cpaccess/pkg/access"
)

func TestProfileCannotSmuggle(t *testing.T) {
	t.Parallel()
	open := aksProvider(access.CLIArgsAppend, access.EnvVarsReplace)
	open.ExecConfig.Args = append(open.ExecConfig.Args, "--federated-token-file", "/var/run/secrets/tokens/t", "--environment", "AzurePublicCloud")
	allowListed := open
	allowListed.Name = "allow"
	allowListed.AllowedProfileArgs = []string{"--tenant-id", "-v"}
	allowListed.AllowedProfileEnvVars = []string{"AZURE_CLIENT_ID", "HTTPS_PROXY"}
	pinned := aksProvider(access.CLIArgsAppend, access.EnvVarsReplace)
	pinned.Name = "pinned"
	pinned.ExecConfig.Args = append(pinned.ExecConfig.Args, "-t", "tenant", "--authority-host", "https://login.microsoftonline.com/", "-e", "AzurePublicCloud")
	goStyle := access.Provider{Name: "gostyle", ExecConfig: &access.ExecConfig{APIVersion: v1, Command: "spire-plugin", Args: []string{"-socketPath", "/run/spire.sock"}},
		ProfileSourcedCLIArgsPolicy: access.CLIArgsAppend}
	p := mustProviders(t, open, allowListed, pinned, goStyle)

	tests := []struct {
		name     string
		provider string
		args     string // additional-args JSON, or ""
		envs     string // additional-envs JSON, or ""
		want     string // "" means accepted
	}{
		{"cluster settings pass", "aks", `["--tenant-id", "t", "--authority-host=https://login.microsoftonline.com/", "--disable-instance-discovery"]`, `{"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}`, ""},
		{"LD_PRELOAD", "aks", "", `{"LD_PRELOAD": "/tmp/evil.so"}`, `variable "LD_PRELOAD" may not come from a ClusterProfile`},
		{"PATH", "aks", "", `{"PATH": "/tmp"}`, `variable "PATH" may not come from a ClusterProfile`},
		{"lower-case proxy", "aks", "", `{"https_proxy": "http://evil"}`, `variable "https_proxy" may not come from a ClusterProfile`},
		{"DYLD family", "aks", "", `{"DYLD_INSERT_LIBRARIES": "x"}`, "may not come from a ClusterProfile"},
		{"trust roots", "aks", "", `{"SSL_CERT_FILE": "/tmp/ca"}`, "may not come from a ClusterProfile"},
		{"token file redirect", "aks", "", `{"AZURE_FEDERATED_TOKEN_FILE": "/etc/shadow"}`, "may not come from a ClusterProfile"},
		{"GitHub token branch", "aks", "", `{"ACTIONS_ID_TOKEN_REQUEST_URL": "https://evil"}`, "may not come from a ClusterProfile"},
		{"login method via env", "aks", "", `{"AAD_LOGIN_METHOD": "azurecli"}`, "may not come from a ClusterProfile"},
		{"login method flag", "aks", `["--login", "azurecli"]`, "", `flag "--login" may not come from a ClusterProfile`},
		{"login shorthand glued", "aks", `["-lazurecli"]`, "", `flag "-lazurecli" may not come from a ClusterProfile`},
		{"shorthand alias of a pinned flag", "pinned", `["-t", "other-tenant"]`, "", `flag "-t" is already set by the provider`},
		{"long form of a pinned shorthand", "pinned", `["--environment=AzureChinaCloud"]`, "", `flag "--environment" is already set by the provider`},
		{"Go-style single-dash long flag", "aks", `["-kubeconfig=/tmp/evil"]`, "", `flag "-kubeconfig" may not come from a ClusterProfile`},
		{"Go-style client secret", "aks", `["-client-secret=x"]`, "", `may not come from a ClusterProfile`},
		{"Go-style token file", "aks", `["-federated-token-file=/etc/shadow"]`, "", `may not come from a ClusterProfile`},
		{"double-dash over a Go-style pinned flag", "gostyle", `["--socketPath=/evil"]`, "", `flag "--socketPath" is already set by the provider`},
		{"bundled shorthands hide -v", "aks", `["-xv9"]`, "", `flag "-xv9" may not come from a ClusterProfile`},
		{"Go-style cluster flag passes", "gostyle", `["-audience", "spire"]`, "", ""},
		{"tab", "aks", `["--tenant-id", "a\tb"]`, "", "(U+0009) are not allowed"},
		{"escape", "aks", `["--tenant-id", "\u001b[8m"]`, "", "(U+001B) are not allowed"},
		{"bidi override", "aks", `["--tenant-id", "abc\u202edef"]`, "", "(U+202E) are not allowed"},
		{"env value with NUL", "aks", "", `{"AZURE_CLIENT_ID": "a\u0000b"}`, `variable "AZURE_CLIENT_ID": control or bidirectional characters (U+0000)`},
		{"env beats a pinned flag", "pinned", "", `{"AZURE_AUTHORITY_HOST": "https://evil.example/"}`, `variable "AZURE_AUTHORITY_HOST" would override the provider's own --authority-host`},
		{"env beats a pinned shorthand", "pinned", "", `{"AZURE_TENANT_ID": "other"}`, `would override the provider's own --tenant-id`},
		{"env of an unpinned flag passes", "aks", "", `{"AZURE_TENANT_ID": "t"}`, ""},
		{"TLS verification off for node", "aks", "", `{"NODE_TLS_REJECT_UNAUTHORIZED": "0"}`, "may not come from a ClusterProfile"},
		{"TLS key log", "aks", "", `{"SSLKEYLOGFILE": "/tmp/keys"}`, "may not come from a ClusterProfile"},
		{"AWS endpoint family", "aks", "", `{"AWS_ENDPOINT_URL_STS": "https://evil"}`, "may not come from a ClusterProfile"},
		{"gcloud endpoint override family", "aks", "", `{"CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER": "https://evil"}`, "may not come from a ClusterProfile"},
		{"verbosity logs tokens", "aks", `["-v", "10"]`, "", `flag "-v" may not come from a ClusterProfile`},
		{"verbosity glued", "aks", `["-v=5"]`, "", `flag "-v"`},
		{"token file flag", "aks", `["--federated-token-file=/etc/shadow"]`, "", `flag "--federated-token-file" may not come from a ClusterProfile`},
		{"override provider flag", "aks", `["--server-id", "other"]`, "", `flag "--server-id" is already set by the provider`},
		{"override provider flag with =", "aks", `["--environment=AzureChinaCloud"]`, "", `flag "--environment" is already set by the provider`},
		{"end of flags", "aks", `["--", "x"]`, "", `"--" (end of flags) is not allowed`},
		{"newline", "aks", `["--tenant-id", "t\nINJECTED"]`, "", "(U+000A) are not allowed"},
		{"allow list admits listed flag", "allow", `["--tenant-id", "t", "-v", "1"]`, "", ""},
		{"allow list refuses others", "allow", `["--authority-host", "https://x/"]`, "", `flag "--authority-host" is not in the provider's allowedProfileArgs`},
		{"allow list admits listed variable", "allow", "", `{"AZURE_CLIENT_ID": "c", "HTTPS_PROXY": "http://proxy:3128"}`, ""},
		{"allow list refuses other variables", "allow", "", `{"AZURE_TENANT_ID": "t"}`, `variable "AZURE_TENANT_ID" is not in the provider's allowedProfileEnvVars`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := cluster("https://c.example")
			if tc.args != "" {
				c.Extensions = append(c.Extensions, ext(argsExt, tc.args))
			}
			if tc.envs != "" {
				c.Extensions = append(c.Extensions, ext(envsExt, tc.envs))
			}
			a, err := p.Resolve(profile("ns", "c", ap(tc.provider, c)))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve accepted it: args %q env %v", a.Exec.Args, a.Exec.Env)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestProviderWarnings(t *testing.T) {
	t.Parallel()
	open := aksProvider(access.CLIArgsAppend, access.EnvVarsReplace)
	closed := aksProvider(access.CLIArgsAppend, access.EnvVarsAppendIfNotExists)
	closed.Name = "closed"
	closed.AllowedProfileArgs = []string{"--tenant-id"}
	closed.AllowedProfileEnvVars = []string{"AZURE_CLIENT_ID"}
	ignoring := aksProvider(access.CLIArgsIgnore, "")
	ignoring.Name = "ignoring"
	w := mustProviders(t, open, closed, ignoring).Warnings()
	if len(w) != 2 || !strings.Contains(w[0], `provider "aks" appends profile arguments without allowedProfileArgs`) ||
		!strings.Contains(w[1], `provider "aks" takes profile environment variables without allowedProfileEnvVars`) {
		t.Errorf("warnings = %q", w)
	}
	if w := exampleProviders(t).Warnings(); len(w) != 0 {
		t.Errorf("the example provider file warns: %q", w)
	}
}
