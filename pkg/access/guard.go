package access

import (
	"fmt"
	"strings"
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
	"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "CURL_CA_BUNDLE": true, "REQUESTS_CA_BUNDLE": true,
	"NODE_EXTRA_CA_CERTS": true, "NODE_OPTIONS": true, "NODE_PATH": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true, "ALL_PROXY": true,
	"GODEBUG": true, "GOTRACEBACK": true, "GOFLAGS": true, "GOCOVERDIR": true,
	"PYTHONPATH": true, "PYTHONSTARTUP": true, "PYTHONHOME": true, "PERL5OPT": true, "PERL5LIB": true,
	"RUBYOPT": true, "RUBYLIB": true, "JAVA_TOOL_OPTIONS": true, "_JAVA_OPTIONS": true, "JDK_JAVA_OPTIONS": true,
	"XDG_CACHE_HOME": true, "XDG_CONFIG_HOME": true, "XDG_DATA_HOME": true, "XDG_RUNTIME_DIR": true,
	// kubelogin and azidentity: switch the login method, read another
	// token file, or fetch a token from a URL the profile chooses.
	"AAD_LOGIN_METHOD": true, "AZURE_FEDERATED_TOKEN_FILE": true,
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": true, "ACTIONS_ID_TOKEN_REQUEST_URL": true,
	"AZURE_CLIENT_SECRET": true, "AZURE_CLIENT_CERTIFICATE_PATH": true, "AZURE_CLIENT_CERTIFICATE_PASSWORD": true,
	"AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": true, "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE": true,
	"AAD_USER_PRINCIPAL_NAME": true, "AAD_USER_PRINCIPAL_PASSWORD": true,
	"AZURE_USERNAME": true, "AZURE_PASSWORD": true, "AZURE_CONFIG_DIR": true,
	// Cloud SDKs: credential files and endpoints.
	"AWS_SHARED_CREDENTIALS_FILE": true, "AWS_CONFIG_FILE": true, "AWS_WEB_IDENTITY_TOKEN_FILE": true,
	"AWS_CONTAINER_CREDENTIALS_FULL_URI": true, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": true,
	"GOOGLE_APPLICATION_CREDENTIALS": true, "CLOUDSDK_CONFIG": true,
}

// deniedEnvPrefixes are families of variables a profile may never set.
var deniedEnvPrefixes = []string{"LD_", "DYLD_", "GCONV_", "MALLOC_", "GLIBC_"}

// deniedFlags are plugin flags a profile may never pass, unless the provider
// file allows them by name: they change the login method, read local files or
// secrets, move caches, raise log verbosity (kubelogin logs credentials at
// -v 5), or point the plugin at another kubeconfig.
var deniedFlags = map[string]bool{
	"l": true, "login": true,
	"federated-token-file": true, "client-secret": true, "client-certificate": true,
	"client-certificate-password": true, "password": true, "username": true, "token": true,
	"cache-dir": true, "token-cache-dir": true, "kubeconfig": true, "context": true,
	"v": true, "verbosity": true, "vmodule": true, "log-file": true, "log_file": true,
	"log-dir": true, "log_dir": true, "alsologtostderr": true, "logtostderr": true,
	"disable-environment-override": true, "use-azurerm-env-vars": true,
	"exec": true, "config": true, "credentials-file": true, "profile": true,
}

// flagName returns the name of a flag argument ("--tenant-id=x" gives
// "tenant-id", "-v5" gives "v"). ok is false for arguments that are not flags.
// The bare "--" terminator has the empty name.
func flagName(arg string) (name string, ok bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" {
		return "", false
	}
	name = strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	// Single-dash shorthand with a glued value: -v5, -lworkloadidentity.
	if !strings.HasPrefix(arg, "--") && len(name) > 1 {
		name = name[:1]
	}
	return name, true
}

// checkProfileArgs rejects profile-sourced arguments that could change what
// the plugin does beyond the cluster-specific settings it is meant to carry.
func (p *provider) checkProfileArgs(args []string) error {
	for i, a := range args {
		if strings.ContainsAny(a, "\x00\n\r") {
			return fmt.Errorf("args[%d]: control characters are not allowed", i)
		}
		name, isFlag := flagName(a)
		if !isFlag {
			continue
		}
		switch {
		case name == "":
			return fmt.Errorf("args[%d]: %q (end of flags) is not allowed", i, a)
		case p.allowedArgs[name]:
			continue
		case len(p.allowedArgs) > 0:
			return fmt.Errorf("args[%d]: flag %q is not in the provider's allowedProfileArgs", i, "--"+name)
		case deniedFlags[name]:
			return fmt.Errorf("args[%d]: flag %q may not come from a ClusterProfile (it changes how the plugin authenticates, reads local files or logs); allow it by name in the provider's allowedProfileArgs if you trust the profile's author", i, displayFlag(a, name))
		case p.ownFlags[name]:
			return fmt.Errorf("args[%d]: flag %q is already set by the provider and may not be overridden by a ClusterProfile", i, displayFlag(a, name))
		}
	}
	return nil
}

// checkProfileEnv rejects a profile-sourced variable name that is not allowed.
func (p *provider) checkProfileEnv(name string) error {
	switch {
	case !validEnvName(name):
		return fmt.Errorf("variable name %q is not valid: expected [A-Za-z_][A-Za-z0-9_]*", name)
	case p.allowedEnv[name]:
		return nil
	case len(p.allowedEnv) > 0:
		return fmt.Errorf("variable %q is not in the provider's allowedProfileEnvVars", name)
	case envDenied(name):
		return fmt.Errorf("variable %q may not come from a ClusterProfile (it changes which code runs, what it trusts, or where it reads credentials); allow it by name in the provider's allowedProfileEnvVars if you trust the profile's author", name)
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
