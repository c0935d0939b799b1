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
	p := mustProviders(t, open, allowListed)

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
		{"login shorthand glued", "aks", `["-lazurecli"]`, "", `flag "-l" may not come from a ClusterProfile`},
		{"verbosity logs tokens", "aks", `["-v", "10"]`, "", `flag "-v" may not come from a ClusterProfile`},
		{"verbosity glued", "aks", `["-v=5"]`, "", `flag "-v"`},
		{"token file flag", "aks", `["--federated-token-file=/etc/shadow"]`, "", `flag "--federated-token-file" may not come from a ClusterProfile`},
		{"override provider flag", "aks", `["--server-id", "other"]`, "", `flag "--server-id" is already set by the provider`},
		{"override provider flag with =", "aks", `["--environment=AzureChinaCloud"]`, "", `flag "--environment" is already set by the provider`},
		{"end of flags", "aks", `["--", "x"]`, "", `"--" (end of flags) is not allowed`},
		{"newline", "aks", `["--tenant-id", "t\nINJECTED"]`, "", "control characters are not allowed"},
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
