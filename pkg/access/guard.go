package access

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/cpaccess/cpaccess/internal/safetext"
)

// A ClusterProfile is written by someone else: its status may be set by any
// controller or user allowed to patch it. What it contributes to a plugin that
// runs inside the consuming process's identity is guarded here.

// deniedEnvVars are variables a profile may never set, unless the provider
// file allows them by name: they change which program or library runs, where
// it reads trust roots or credentials from, where it sends traffic, or what it
// logs.
var deniedEnvVars = map[string]bool{
	"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "SHELL": true, "PWD": true,
	"ENV": true, "BASH_ENV": true, "IFS": true, "CDPATH": true, "PS4": true, "PROMPT_COMMAND": true,
	"TMPDIR": true, "KUBECONFIG": true, "KUBERNETES_EXEC_INFO": true, "KUBECACHEDIR": true,
	"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "SSLKEYLOGFILE": true, "CURL_CA_BUNDLE": true, "REQUESTS_CA_BUNDLE": true,
	"NODE_EXTRA_CA_CERTS": true, "NODE_OPTIONS": true, "NODE_PATH": true, "NODE_TLS_REJECT_UNAUTHORIZED": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true, "ALL_PROXY": true,
	"GODEBUG": true, "GOTRACEBACK": true, "GOFLAGS": true, "GOCOVERDIR": true,
	"PYTHONPATH": true, "PYTHONSTARTUP": true, "PYTHONHOME": true, "PYTHONHTTPSVERIFY": true, "PERL5OPT": true, "PERL5LIB": true,
	"RUBYOPT": true, "RUBYLIB": true, "JAVA_TOOL_OPTIONS": true, "_JAVA_OPTIONS": true, "JDK_JAVA_OPTIONS": true,
	"XDG_CACHE_HOME": true, "XDG_CONFIG_HOME": true, "XDG_DATA_HOME": true, "XDG_RUNTIME_DIR": true,
	// kubelogin and azidentity: switch the login method, read another
	// token file or secret, or fetch a token from a URL the profile chooses.
	"AAD_LOGIN_METHOD": true, "AZURE_FEDERATED_TOKEN_FILE": true,
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": true, "ACTIONS_ID_TOKEN_REQUEST_URL": true,
	"AZURE_CLIENT_SECRET": true, "AZURE_CLIENT_CERTIFICATE_PATH": true, "AZURE_CLIENT_CERTIFICATE_PASSWORD": true,
	"AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": true, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": true,
	"AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE": true, "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD": true,
	"AAD_USER_PRINCIPAL_NAME": true, "AAD_USER_PRINCIPAL_PASSWORD": true, "ARM_CLIENT_SECRET": true,
	"ARM_CLIENT_CERTIFICATE_PATH": true, "ARM_CLIENT_CERTIFICATE_PASSWORD": true,
	"AZURE_USERNAME": true, "AZURE_PASSWORD": true, "AZURE_CONFIG_DIR": true,
	"AZURE_REGIONAL_AUTHORITY_NAME": true, "IDENTITY_ENDPOINT": true, "MSI_ENDPOINT": true, "IMDS_ENDPOINT": true,
	// Other cloud SDKs: credential files, endpoints and trust.
	"AWS_SHARED_CREDENTIALS_FILE": true, "AWS_CONFIG_FILE": true, "AWS_WEB_IDENTITY_TOKEN_FILE": true,
	"AWS_CONTAINER_CREDENTIALS_FULL_URI": true, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": true,
	"AWS_CONTAINER_AUTHORIZATION_TOKEN": true, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": true,
	"AWS_CA_BUNDLE": true, "AWS_EC2_METADATA_SERVICE_ENDPOINT": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"GOOGLE_APPLICATION_CREDENTIALS": true, "CLOUDSDK_CONFIG": true, "GCE_METADATA_HOST": true,
	"GCE_METADATA_IP": true, "GCE_METADATA_ROOT": true,
}

// deniedEnvPrefixes are families of variables a profile may never set.
var deniedEnvPrefixes = []string{
	"LD_", "DYLD_", "GCONV_", "MALLOC_", "GLIBC_",
	"AWS_ENDPOINT_URL", "CLOUDSDK_API_ENDPOINT_OVERRIDES_", "CLOUDSDK_AUTH_", "CLOUDSDK_PROXY_",
}

// deniedFlags are plugin flags a profile may never pass, unless the provider
// file allows them by name: they change the login method, read local files or
// secrets, move caches, raise log verbosity (kubelogin logs credentials at
// -v 5), or point the plugin at another kubeconfig.
var deniedFlags = map[string]bool{
	"login": true, "federated-token-file": true, "client-secret": true, "client-certificate": true,
	"client-certificate-password": true, "password": true, "username": true, "token": true,
	"cache-dir": true, "token-cache-dir": true, "kubeconfig": true, "context": true,
	"v": true, "verbosity": true, "vmodule": true, "log-file": true, "log_file": true,
	"log-dir": true, "log_dir": true, "alsologtostderr": true, "logtostderr": true,
	"disable-environment-override": true, "use-azurerm-env-vars": true,
	"exec": true, "config": true, "credentials-file": true, "profile": true,
}

// flagAliases maps known one-letter shorthands to their long names (kubelogin
// get-token: -l --login, -t --tenant-id, -e --environment), so that a
// profile cannot pass under one spelling a flag denied or pinned under the
// other.
var flagAliases = map[string]string{"l": "login", "t": "tenant-id", "e": "environment"}

// envFlagAliases maps variables that kubelogin reads to the flags they
// override: kubelogin lets the environment beat its flags, so a profile
// setting one of these would override a flag the provider pinned.
var envFlagAliases = map[string][]string{
	"AZURE_AUTHORITY_HOST":            {"authority-host"},
	"AZURE_TENANT_ID":                 {"tenant-id"},
	"ARM_TENANT_ID":                   {"tenant-id"},
	"AZURE_CLIENT_ID":                 {"client-id"},
	"ARM_CLIENT_ID":                   {"client-id"},
	"AAD_SERVICE_PRINCIPAL_CLIENT_ID": {"client-id"},
	"AZURE_ENVIRONMENT":               {"environment"},
	"AZURE_CLI_TIMEOUT":               {"timeout"},
	"AAD_LOGIN_METHOD":                {"login"},
	"AZURE_FEDERATED_TOKEN_FILE":      {"federated-token-file"},
}

// canonical returns the long name for a flag name.
func canonical(name string) string {
	if long, ok := flagAliases[name]; ok {
		return long
	}
	return name
}

// flagName returns the name of a flag argument: "--tenant-id=x" gives
// "tenant-id", "-v5" and "-v=5" give "v", "-kubeconfig=x" gives "kubeconfig".
// ok is false for arguments that are not flags. The bare "--" terminator has
// the empty name.
func flagName(arg string) (name string, ok bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" {
		return "", false
	}
	name = strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	return name, true
}

// ownFlagNames are the names a provider's own argument sets: its name, and
// for a single-dash word (-v5, or a Go-style -socketPath) also its first
// letter, which pflag reads as a shorthand with a glued value.
func ownFlagNames(arg string) []string {
	name, ok := flagName(arg)
	if !ok || name == "" {
		return nil
	}
	names := []string{canonical(name)}
	if !strings.HasPrefix(arg, "--") && len(name) > 1 {
		names = append(names, canonical(name[:1]))
	}
	return names
}

// profileFlagNames are every name a profile argument could set, whichever
// way the plugin parses it: its name (Go's flag package reads -kubeconfig as
// a long flag) and, for a single-dash word, each letter of its leading run of
// letters (pflag reads -xv9 as -x -v 9).
func profileFlagNames(arg string) []string {
	name, _ := flagName(arg)
	names := []string{canonical(name)}
	if !strings.HasPrefix(arg, "--") && len(name) > 1 {
		for _, r := range name {
			if !unicode.IsLetter(r) {
				break
			}
			names = append(names, canonical(string(r)))
		}
	}
	return names
}

// checkProfileArgs rejects profile-sourced arguments that could change what
// the plugin does beyond the cluster-specific settings it is meant to carry.
func (p *provider) checkProfileArgs(args []string) error {
	for i, a := range args {
		if err := checkText(a); err != nil {
			return fmt.Errorf("args[%d]: %w", i, err)
		}
		name, isFlag := flagName(a)
		if !isFlag {
			continue
		}
		if name == "" {
			return fmt.Errorf("args[%d]: %q (end of flags) is not allowed", i, a)
		}
		if p.allowedArgs[canonical(name)] {
			continue
		}
		if len(p.allowedArgs) > 0 {
			return fmt.Errorf("args[%d]: flag %q is not in the provider's allowedProfileArgs", i, displayFlag(a, name))
		}
		for _, n := range profileFlagNames(a) {
			switch {
			case deniedFlags[n]:
				return fmt.Errorf("args[%d]: flag %q may not come from a ClusterProfile (it changes how the plugin authenticates, reads local files or logs); allow it by name in the provider's allowedProfileArgs if you trust the profile's author", i, displayFlag(a, name))
			case p.ownFlags[n]:
				return fmt.Errorf("args[%d]: flag %q is already set by the provider and may not be overridden by a ClusterProfile", i, displayFlag(a, name))
			}
		}
	}
	return nil
}

// checkProfileEnv rejects a profile-sourced variable that is not allowed.
func (p *provider) checkProfileEnv(name, value string) error {
	switch {
	case !validEnvName(name):
		return fmt.Errorf("variable name %q is not valid: expected [A-Za-z_][A-Za-z0-9_]*", name)
	case checkText(value) != nil:
		return fmt.Errorf("variable %q: %w", name, checkText(value))
	case p.allowedEnv[name]:
		return nil
	case len(p.allowedEnv) > 0:
		return fmt.Errorf("variable %q is not in the provider's allowedProfileEnvVars", name)
	case envDenied(name):
		return fmt.Errorf("variable %q may not come from a ClusterProfile (it changes which code runs, what it trusts, or where it reads credentials); allow it by name in the provider's allowedProfileEnvVars if you trust the profile's author", name)
	}
	for _, f := range envFlagAliases[strings.ToUpper(name)] {
		if p.ownFlags[f] {
			return fmt.Errorf("variable %q would override the provider's own --%s (kubelogin lets the environment beat its flags); allow it by name in the provider's allowedProfileEnvVars if you trust the profile's author", name, f)
		}
	}
	return nil
}

// checkText rejects control characters and bidirectional overrides, which
// can hide what an argument or value really says.
func checkText(s string) error {
	for _, r := range s {
		if safetext.Hidden(r) {
			return fmt.Errorf("control or bidirectional characters (%U) are not allowed", r)
		}
	}
	return nil
}

func envDenied(name string) bool {
	upper := strings.ToUpper(name)
	if deniedEnvVars[upper] {
		return true
	}
	for _, p := range deniedEnvPrefixes {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	return false
}

func displayFlag(arg, name string) string {
	if strings.HasPrefix(arg, "--") {
		return "--" + name
	}
	return "-" + name
}

// validEnvName reports whether name is a portable environment variable name.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// warnings describes what a provider leaves open to profiles, for callers
// to show at start-up.
func (p *provider) warnings() []string {
	var out []string
	if p.ProfileSourcedCLIArgsPolicy == CLIArgsAppend && len(p.allowedArgs) == 0 {
		out = append(out, fmt.Sprintf("provider %q appends profile arguments without allowedProfileArgs: any flag outside the built-in deny list may come from a ClusterProfile; list the flags you expect", p.Name))
	}
	if (p.ProfileSourcedEnvVarsPolicy == EnvVarsReplace || p.ProfileSourcedEnvVarsPolicy == EnvVarsAppendIfNotExists) && len(p.allowedEnv) == 0 {
		out = append(out, fmt.Sprintf("provider %q takes profile environment variables without allowedProfileEnvVars: any variable outside the built-in deny list may come from a ClusterProfile; list the variables you expect", p.Name))
	}
	return out
}
