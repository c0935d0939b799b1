package access

import (
	"net/http"
	"net/url"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// RESTConfig renders the access as a client-go *rest.Config. Each call returns
// a new config that shares no memory with a or with other configs.
//
// With no proxy URL no Proxy function is installed, so the standard proxy
// environment variables keep working and client-go can cache the transport.
func (a *Access) RESTConfig() *rest.Config {
	cfg := &rest.Config{
		Host: a.Cluster.Server,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:     slices.Clone(a.Cluster.CertificateAuthorityData),
			ServerName: a.Cluster.TLSServerName,
			Insecure:   a.Cluster.InsecureSkipTLSVerify,
		},
		DisableCompression: a.Cluster.DisableCompression,
		ExecProvider:       a.execConfig(),
	}
	if a.Cluster.ProxyURL != "" {
		// Validated by Resolve.
		if u, err := url.Parse(a.Cluster.ProxyURL); err == nil {
			cfg.Proxy = http.ProxyURL(u)
		}
	}
	return cfg
}

// execConfig renders the exec settings in client-go's form.
func (a *Access) execConfig() *clientcmdapi.ExecConfig {
	ec := &clientcmdapi.ExecConfig{
		APIVersion:         a.Exec.APIVersion,
		Command:            a.Exec.Command,
		Args:               slices.Clone(a.Exec.Args),
		InstallHint:        a.Exec.InstallHint,
		ProvideClusterInfo: a.Exec.ProvideClusterInfo,
		InteractiveMode:    a.Exec.InteractiveMode,
	}
	if ec.InteractiveMode == "" {
		ec.InteractiveMode = clientcmdapi.NeverExecInteractiveMode
	}
	ec.Env = make([]clientcmdapi.ExecEnvVar, 0, len(a.Exec.Env))
	for _, e := range a.Exec.Env {
		ec.Env = append(ec.Env, clientcmdapi.ExecEnvVar{Name: e.Name, Value: e.Value})
	}
	if a.Exec.Config != nil {
		ec.Config = a.execExtension()
	}
	return ec
}

func (a *Access) execExtension() *runtime.Unknown {
	return &runtime.Unknown{Raw: slices.Clone([]byte(a.Exec.Config)), ContentType: runtime.ContentTypeJSON}
}

// KubeconfigEntries renders the access as one kubeconfig cluster and user
// (NewKubeconfig adds the context joining them). The exec extension is kept under the cluster's extensions, where
// clientcmd hands it to the plugin.
func (a *Access) KubeconfigEntries() (*clientcmdapi.Cluster, *clientcmdapi.AuthInfo) {
	cluster := clientcmdapi.NewCluster()
	cluster.Server = a.Cluster.Server
	cluster.CertificateAuthorityData = slices.Clone(a.Cluster.CertificateAuthorityData)
	cluster.TLSServerName = a.Cluster.TLSServerName
	cluster.InsecureSkipTLSVerify = a.Cluster.InsecureSkipTLSVerify
	cluster.ProxyURL = a.Cluster.ProxyURL
	cluster.DisableCompression = a.Cluster.DisableCompression
	if a.Exec.Config != nil {
		cluster.Extensions[ExtensionExec] = a.execExtension()
	}
	user := clientcmdapi.NewAuthInfo()
	user.Exec = a.execConfig()
	user.Exec.Config = nil // carried by the cluster extension
	return cluster, user
}

// ContextName is the default kubeconfig name of an access:
// "<namespace>/<name>" of its ClusterProfile.
func ContextName(a *Access) string { return a.ObjectName() }

// NewKubeconfig renders accesses as a kubeconfig with one cluster, user and
// context each, all named by nameFn (ContextName when nil); nil entries are
// skipped. With exactly one access, current-context is set to it.
func NewKubeconfig(accesses []*Access, nameFn func(*Access) string) *clientcmdapi.Config {
	if nameFn == nil {
		nameFn = ContextName
	}
	cfg := clientcmdapi.NewConfig()
	var named []*Access
	for _, a := range accesses {
		if a != nil {
			named = append(named, a)
		}
	}
	for _, a := range named {
		name := nameFn(a)
		cluster, user := a.KubeconfigEntries()
		cfg.Clusters[name] = cluster
		cfg.AuthInfos[name] = user
		ctx := clientcmdapi.NewContext()
		ctx.Cluster, ctx.AuthInfo = name, name
		cfg.Contexts[name] = ctx
	}
	if len(named) == 1 {
		cfg.CurrentContext = nameFn(named[0])
	}
	return cfg
}

// MergeKubeconfig merges add into base and returns base: entries of add
// replace same-named entries of base; other entries of base are kept. A
// current-context set in add wins.
func MergeKubeconfig(base, add *clientcmdapi.Config) *clientcmdapi.Config {
	if base == nil {
		base = clientcmdapi.NewConfig()
	}
	if base.Clusters == nil {
		base.Clusters = map[string]*clientcmdapi.Cluster{}
	}
	if base.AuthInfos == nil {
		base.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
	}
	if base.Contexts == nil {
		base.Contexts = map[string]*clientcmdapi.Context{}
	}
	if add == nil {
		return base
	}
	for k, v := range add.Clusters {
		base.Clusters[k] = v
	}
	for k, v := range add.AuthInfos {
		base.AuthInfos[k] = v
	}
	for k, v := range add.Contexts {
		base.Contexts[k] = v
	}
	if add.CurrentContext != "" {
		base.CurrentContext = add.CurrentContext
	}
	return base
}
