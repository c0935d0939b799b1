package access

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/safetext"
)

// Access is a resolved way to reach one cluster: the plugin to run and the
// cluster to talk to. It is a plain value; every Resolve returns a fresh one,
// sharing nothing with the provider file, the profile or other results.
type Access struct {
	// Namespace and Name identify the ClusterProfile.
	Namespace string
	Name      string
	// Provider is the access provider that was selected.
	Provider string
	Exec     ExecSettings
	Cluster  ClusterSettings
}

// ExecSettings is the final exec plugin invocation, after the provider's
// ExecConfig (the input) has been merged with what the profile contributes.
type ExecSettings struct {
	// APIVersion is the ExecCredential version the plugin speaks.
	APIVersion string
	// Command is the plugin to run, as the provider file names it.
	Command string
	// Args are the provider's arguments followed by the profile's.
	Args []string
	// Env is the provider's variables in their order (replaced values in
	// place), then the profile's new ones sorted by name.
	Env []EnvVar
	// InstallHint is shown by client-go when Command cannot be found.
	InstallHint string
	// ProvideClusterInfo hands the cluster (and Config) to the plugin in
	// KUBERNETES_EXEC_INFO.
	ProvideClusterInfo bool
	// InteractiveMode is Never, IfAvailable or Always; never empty.
	InteractiveMode clientcmdapi.ExecInteractiveMode
	// Config is the client.authentication.k8s.io/exec extension as compact
	// JSON (an object), or nil.
	Config json.RawMessage
}

// ClusterSettings is how to reach the cluster's API server, validated.
type ClusterSettings struct {
	// Server is an absolute https:// URL without user information, query or
	// fragment.
	Server string
	// CertificateAuthorityData holds one or more PEM certificates, or is nil
	// to use the system roots.
	CertificateAuthorityData []byte
	// TLSServerName overrides the name the server certificate is checked
	// against.
	TLSServerName string
	// InsecureSkipTLSVerify is never set together with
	// CertificateAuthorityData.
	InsecureSkipTLSVerify bool
	// ProxyURL is an http, https or socks5 URL, or empty to follow the
	// standard proxy environment variables.
	ProxyURL string
	// DisableCompression turns off response compression.
	DisableCompression bool
}

// ObjectName returns "<namespace>/<name>", or the name alone for a profile
// without a namespace.
func (a *Access) ObjectName() string { return objectName(a.Namespace, a.Name) }

// Fingerprint is a stable digest of everything that affects how the cluster
// is reached: the exec settings and the cluster settings. It ignores the
// profile's identity, conditions, properties and version, so status
// heartbeats do not change it. Equal fingerprints mean interchangeable
// clients.
func (a *Access) Fingerprint() string {
	// encoding/json writes struct fields in declaration order and base64 for
	// bytes: a canonical form for these plain types.
	canonical, _ := json.Marshal(struct {
		V       int
		Exec    ExecSettings
		Cluster ClusterSettings
	}{1, a.Exec, a.Cluster})
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DeepCopy returns a copy sharing no memory with a.
func (a *Access) DeepCopy() *Access {
	out := *a
	out.Exec.Args = slices.Clone(a.Exec.Args)
	out.Exec.Env = slices.Clone(a.Exec.Env)
	out.Exec.Config = slices.Clone(a.Exec.Config)
	out.Cluster.CertificateAuthorityData = slices.Clone(a.Cluster.CertificateAuthorityData)
	return &out
}

// ResolveError is returned by Resolve. It names the profile, the provider
// (when one was selected) and the field or extension at fault.
type ResolveError struct {
	Profile  string // "<namespace>/<name>"
	Provider string // selected access provider, or ""
	Field    string // e.g. "metadata.name", "cluster.server", `extension "<name>"`, `cluster.extensions "<name>"`, or ""
	Err      error
}

func (e *ResolveError) Error() string {
	var b strings.Builder
	b.WriteString("failed to resolve ClusterProfile ")
	b.WriteString(e.Profile)
	if e.Provider != "" {
		fmt.Fprintf(&b, ": access provider %q", e.Provider)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ResolveError) Unwrap() error { return e.Err }

// ErrNoMatchingProvider is wrapped by the error Resolve returns when the
// profile offers none of the configured providers.
var ErrNoMatchingProvider = errors.New("no matching access provider")

// Resolve turns one ClusterProfile into an Access by the rules of the
// provider file: the first provider in file order that the profile offers
// wins (status.accessProviders taking precedence over the deprecated
// status.credentialProviders for the same name); the reserved extensions are
// applied under the provider's policies; the cluster fields are validated.
//
// Resolve does not modify p or cp and is safe for concurrent use.
func (p *Providers) Resolve(cp *v1alpha1.ClusterProfile) (*Access, error) {
	if cp == nil {
		return nil, &ResolveError{Profile: "<nil>", Err: errors.New("no ClusterProfile given")}
	}
	name := objectName(cp.Namespace, cp.Name)
	if field, err := safetext.CheckObjectName(cp.Namespace, cp.Name); err != nil {
		return nil, &ResolveError{Profile: strconv.Quote(name), Field: field, Err: err}
	}
	if p == nil || len(p.providers) == 0 {
		return nil, &ResolveError{Profile: name, Err: errors.New("no providers: load a provider file with LoadProviderFile")}
	}
	pv, cluster, err := p.selectProvider(cp)
	if err != nil {
		return nil, &ResolveError{Profile: name, Err: err}
	}
	a, field, err := pv.resolve(cluster)
	if err != nil {
		return nil, &ResolveError{Profile: name, Provider: pv.Name, Field: field, Err: err}
	}
	a.Namespace, a.Name, a.Provider = cp.Namespace, cp.Name, pv.Name
	return a, nil
}

func (p *Providers) selectProvider(cp *v1alpha1.ClusterProfile) (*provider, *clientcmdv1.Cluster, error) {
	for _, list := range []struct {
		field string
		aps   []v1alpha1.AccessProvider
	}{{"status.accessProviders", cp.Status.AccessProviders}, {"status.credentialProviders", cp.Status.CredentialProviders}} {
		seen := make(map[string]bool, len(list.aps))
		for _, ap := range list.aps {
			if seen[ap.Name] {
				return nil, nil, fmt.Errorf("%s: access provider %q appears more than once; each name may appear once", list.field, ap.Name)
			}
			seen[ap.Name] = true
		}
	}
	find := func(name string) *clientcmdv1.Cluster {
		for i := range cp.Status.AccessProviders {
			if cp.Status.AccessProviders[i].Name == name {
				return &cp.Status.AccessProviders[i].Cluster
			}
		}
		for i := range cp.Status.CredentialProviders {
			if cp.Status.CredentialProviders[i].Name == name {
				return &cp.Status.CredentialProviders[i].Cluster
			}
		}
		return nil
	}
	for i := range p.providers {
		if c := find(p.providers[i].Name); c != nil {
			return &p.providers[i], c, nil
		}
	}
	var offered []string
	for _, ap := range cp.Status.AccessProviders {
		offered = append(offered, ap.Name)
	}
	for _, ap := range cp.Status.CredentialProviders {
		if !slices.Contains(offered, ap.Name) {
			offered = append(offered, ap.Name+" (credentialProviders)")
		}
	}
	offeredText := "none"
	if len(offered) > 0 {
		offeredText = quoteList(offered)
	}
	return nil, nil, fmt.Errorf("%w: the profile offers %s; the provider file %q configures %s",
		ErrNoMatchingProvider, offeredText, p.source, quoteList(p.Names()))
}

// resolve applies the provider to one access provider's cluster. On error it
// returns the field at fault.
func (pv *provider) resolve(c *clientcmdv1.Cluster) (*Access, string, error) {
	ec := pv.ExecConfig
	a := &Access{Exec: ExecSettings{
		APIVersion:         ec.APIVersion,
		Command:            ec.Command,
		InstallHint:        ec.InstallHint,
		ProvideClusterInfo: ec.ProvideClusterInfo,
		InteractiveMode:    ec.InteractiveMode,
	}}

	exts := map[string][]byte{}
	for _, e := range c.Extensions {
		if _, dup := exts[e.Name]; dup {
			return nil, fmt.Sprintf("cluster.extensions %q", e.Name), errors.New("the extension appears more than once; each name may appear once")
		}
		exts[e.Name] = nil
		switch e.Name {
		case ExtensionAdditionalArgs:
			if pv.ProfileSourcedCLIArgsPolicy != CLIArgsAppend {
				continue // not applied, not parsed
			}
		case ExtensionAdditionalEnvs:
			if pv.ProfileSourcedEnvVarsPolicy == "" || pv.ProfileSourcedEnvVarsPolicy == EnvVarsIgnore {
				continue
			}
		case ExtensionExec:
		default:
			continue
		}
		raw, err := rawExtensionJSON(e.Extension)
		if err != nil {
			return nil, extField(e.Name), err
		}
		if raw == nil {
			raw = nullPayload
		}
		exts[e.Name] = raw
	}

	// Args: the provider's, then the profile's.
	a.Exec.Args = make([]string, 0, len(ec.Args)+4)
	a.Exec.Args = append(a.Exec.Args, ec.Args...)
	if raw := exts[ExtensionAdditionalArgs]; raw != nil {
		extra, err := parseAdditionalArgs(nonNull(raw))
		if err != nil {
			return nil, extField(ExtensionAdditionalArgs), err
		}
		if err := pv.checkProfileArgs(extra); err != nil {
			return nil, extField(ExtensionAdditionalArgs), err
		}
		a.Exec.Args = append(a.Exec.Args, extra...)
	}

	// Env: the provider's in its order, then new names sorted.
	a.Exec.Env = slices.Clone(ec.Env)
	if raw := exts[ExtensionAdditionalEnvs]; raw != nil {
		extra, err := parseAdditionalEnvs(nonNull(raw))
		if err != nil {
			return nil, extField(ExtensionAdditionalEnvs), err
		}
		var added []EnvVar
		for _, e := range extra {
			if err := pv.checkProfileEnv(e.Name, e.Value); err != nil {
				return nil, extField(ExtensionAdditionalEnvs), err
			}
			if i, ok := pv.ownEnv[e.Name]; ok {
				if pv.ProfileSourcedEnvVarsPolicy == EnvVarsReplace {
					a.Exec.Env[i].Value = e.Value
				}
				continue
			}
			added = append(added, e)
		}
		slices.SortFunc(added, func(x, y EnvVar) int { return strings.Compare(x.Name, y.Name) })
		a.Exec.Env = append(a.Exec.Env, added...)
	}
	if len(a.Exec.Env) == 0 {
		a.Exec.Env = nil
	}

	if raw := exts[ExtensionExec]; raw != nil {
		cfg, err := parseExecExtension(nonNull(raw))
		if err != nil {
			return nil, extField(ExtensionExec), err
		}
		a.Exec.Config = cfg
	}

	cs, field, err := resolveCluster(c)
	if err != nil {
		return nil, field, err
	}
	a.Cluster = cs
	return a, "", nil
}

// nullPayload marks an extension present with a null or empty payload, which
// the parsers report as such.
var nullPayload = []byte("null")

func nonNull(raw []byte) []byte {
	if len(raw) == len(nullPayload) && string(raw) == string(nullPayload) {
		return nil
	}
	return raw
}

func extField(name string) string { return fmt.Sprintf("extension %q", name) }

// resolveCluster validates and copies the cluster fields.
func resolveCluster(c *clientcmdv1.Cluster) (ClusterSettings, string, error) {
	var cs ClusterSettings
	if c.Server == "" {
		return cs, "cluster.server", errors.New("is required: expected an https:// URL, found nothing")
	}
	u, err := url.Parse(c.Server)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return cs, "cluster.server", fmt.Errorf("expected an absolute https:// URL, found %q", redactURL(c.Server))
	}
	if u.Scheme != "https" {
		return cs, "cluster.server", fmt.Errorf("expected an https:// URL (credentials must not travel in clear text), found scheme %q", u.Scheme)
	}
	if u.User != nil {
		return cs, "cluster.server", errors.New("must not carry user information")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return cs, "cluster.server", fmt.Errorf("must not carry a query or fragment, found %q", redactURL(c.Server))
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return cs, "cluster.server", fmt.Errorf("expected a port from 1 to 65535, found %q", port)
		}
	}
	if c.CertificateAuthority != "" {
		return cs, "cluster.certificate-authority", fmt.Errorf("a CA file path (%q) names a file on the profile author's machine and cannot be used here; put the PEM in certificate-authority-data", c.CertificateAuthority)
	}
	if len(c.CertificateAuthorityData) > 0 {
		if c.InsecureSkipTLSVerify {
			return cs, "cluster.insecure-skip-tls-verify", errors.New("is set together with certificate-authority-data; choose one (client-go refuses the pair)")
		}
		if err := checkPEMCertificates(c.CertificateAuthorityData); err != nil {
			return cs, "cluster.certificate-authority-data", err
		}
	}
	if c.ProxyURL != "" {
		pu, err := url.Parse(c.ProxyURL)
		if err != nil || pu.Host == "" {
			return cs, "cluster.proxy-url", fmt.Errorf("expected an http://, https:// or socks5:// URL, found %q", redactURL(c.ProxyURL))
		}
		switch pu.Scheme {
		case "http", "https", "socks5":
		default:
			return cs, "cluster.proxy-url", fmt.Errorf("expected scheme http, https or socks5, found %q", pu.Scheme)
		}
	}
	cs = ClusterSettings{
		Server:                   c.Server,
		CertificateAuthorityData: slices.Clone(c.CertificateAuthorityData),
		TLSServerName:            c.TLSServerName,
		InsecureSkipTLSVerify:    c.InsecureSkipTLSVerify,
		ProxyURL:                 c.ProxyURL,
		DisableCompression:       c.DisableCompression,
	}
	return cs, "", nil
}

// checkPEMCertificates requires at least one PEM certificate and nothing else.
func checkPEMCertificates(data []byte) error {
	rest := data
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("expected PEM certificates, found a %q block", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate %d does not parse: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return errors.New("expected at least one PEM certificate, found none")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return errors.New("found data after the last PEM certificate")
	}
	return nil
}

// redactURL hides credentials a URL may carry, including in scheme-less
// forms such as "user:pass@host", where url.Parse finds no user information.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "<redacted>", false
	}
	if u.Fragment != "" {
		u.Fragment = "<redacted>"
	}
	if u.User != nil {
		return u.Redacted()
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		return "<redacted>" + s[at:]
	}
	return u.Redacted()
}

func objectName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
