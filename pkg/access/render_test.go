package access_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/pkg/access"
)

var update = flag.Bool("update", false, "rewrite golden files")

func exampleProviders(t testing.TB) *access.Providers {
	t.Helper()
	p, err := access.LoadProviderFile(filepath.Join("..", "..", "examples", "aks-workload-identity", "providers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// richProfile carries every field and extension.
func richProfile() *v1alpha1.ClusterProfile {
	c := cluster("https://bravelion.example:443",
		ext(argsExt, `{"args": ["--tenant-id", "tid", "--authority-host", "https://login.microsoftonline.com/"]}`),
		ext(envsExt, `{"AZURE_CLIENT_ID": "cid"}`),
		ext(execExt, `{"clusterName": "bravelion", "region": "westeurope"}`))
	c.TLSServerName = "bravelion.internal"
	c.DisableCompression = true
	return profile("fleet-system", "bravelion", ap("aks-workload-identity", c))
}

func TestGoldenKubeconfig(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	a := mustResolve(t, p, loadProfile(t, "object-form.yaml"))
	got, err := access.EncodeKubeconfig(access.NewKubeconfig([]*access.Access{a}, nil))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "bravelion.kubeconfig")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("kubeconfig differs from %s:\n%s", golden, got)
	}
}

func TestRepeatedResolutionsAreIdentical(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	cp := richProfile()
	var first []byte
	var firstFP string
	for i := 0; i < 50; i++ {
		a := mustResolve(t, p, cp)
		data, err := access.EncodeKubeconfig(access.NewKubeconfig([]*access.Access{a}, nil))
		if err != nil {
			t.Fatal(err)
		}
		cfgText := fmt.Sprintf("%#v %#v", a.RESTConfig().ExecProvider.Env, a.RESTConfig().ExecProvider.Args)
		data = append(data, cfgText...)
		if i == 0 {
			first, firstFP = data, a.Fingerprint()
			continue
		}
		if !bytes.Equal(data, first) {
			t.Fatalf("resolution %d differs from the first", i)
		}
		if a.Fingerprint() != firstFP {
			t.Fatalf("fingerprint %d differs", i)
		}
	}
}

func TestConcurrentResolutions(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	// Two profiles with different settings, alternating, through one
	// provider file: any shared state shows as a race or a mixed result.
	cps := []*v1alpha1.ClusterProfile{richProfile(), profile("fleet-system", "other", ap("aks-workload-identity",
		cluster("https://other.example", ext(argsExt, `["--tenant-id", "other-tenant"]`), ext(envsExt, `{"AZURE_CLIENT_ID": "other-client"}`))))}
	want := []string{mustResolve(t, p, cps[0]).Fingerprint(), mustResolve(t, p, cps[1]).Fingerprint()}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a, err := p.Resolve(cps[i%2])
			if err != nil {
				errs <- err
				return
			}
			cfg := a.RESTConfig()
			cfg.ExecProvider.Args = append(cfg.ExecProvider.Args, "--mutated-by-caller")
			a.Exec.Env[0].Value = "mutated"
			if got := mustResolve(t, p, cps[i%2]).Fingerprint(); got != want[i%2] {
				errs <- fmt.Errorf("goroutine %d: fingerprint %s, want %s", i, got, want[i%2])
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	base := mustResolve(t, p, richProfile()).Fingerprint()
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("fingerprint = %q", base)
	}
	tests := []struct {
		name    string
		mutate  func(cp *v1alpha1.ClusterProfile)
		changes bool
	}{
		{"condition heartbeat", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.Conditions[0].LastTransitionTime = metav1.Now()
			cp.Status.Conditions[0].Status = metav1.ConditionFalse
			cp.Status.Conditions = append(cp.Status.Conditions, metav1.Condition{Type: "Joined", Status: "True"})
		}, false},
		{"property", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.Properties = []v1alpha1.Property{{Name: "azure.com/region", Value: "westeurope", LastObservedTime: metav1.Now()}}
		}, false},
		{"version", func(cp *v1alpha1.ClusterProfile) { cp.Status.Version.Kubernetes = "v1.34.0" }, false},
		{"labels and annotations", func(cp *v1alpha1.ClusterProfile) {
			cp.Labels = map[string]string{"a": "b"}
			cp.ResourceVersion = "42"
		}, false},
		{"unrelated extension", func(cp *v1alpha1.ClusterProfile) {
			c := &cp.Status.AccessProviders[0].Cluster
			c.Extensions = append(c.Extensions, ext("example.com/other", `{"x": 1}`))
		}, false},
		{"server", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.AccessProviders[0].Cluster.Server = "https://moved.example"
		}, true},
		{"CA", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.AccessProviders[0].Cluster.CertificateAuthorityData = newCA("rotated")
		}, true},
		{"tls-server-name", func(cp *v1alpha1.ClusterProfile) { cp.Status.AccessProviders[0].Cluster.TLSServerName = "other" }, true},
		{"insecure", func(cp *v1alpha1.ClusterProfile) {
			c := &cp.Status.AccessProviders[0].Cluster
			c.CertificateAuthorityData, c.InsecureSkipTLSVerify = nil, true
		}, true},
		{"disable-compression", func(cp *v1alpha1.ClusterProfile) { cp.Status.AccessProviders[0].Cluster.DisableCompression = false }, true},
		{"proxy-url", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.AccessProviders[0].Cluster.ProxyURL = "http://proxy.example"
		}, true},
		{"additional-args", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.AccessProviders[0].Cluster.Extensions[0] = ext(argsExt, `{"args": ["--tenant-id", "other"]}`)
		}, true},
		{"additional-envs", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.AccessProviders[0].Cluster.Extensions[1] = ext(envsExt, `{"AZURE_CLIENT_ID": "other"}`)
		}, true},
		{"exec extension", func(cp *v1alpha1.ClusterProfile) {
			cp.Status.AccessProviders[0].Cluster.Extensions[2] = ext(execExt, `{"clusterName": "other"}`)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cp := richProfile()
			tc.mutate(cp)
			got := mustResolve(t, p, cp).Fingerprint()
			if (got != base) != tc.changes {
				t.Errorf("fingerprint changed = %v, want %v", got != base, tc.changes)
			}
		})
	}
	t.Run("exec extension whitespace", func(t *testing.T) {
		t.Parallel()
		cp := richProfile()
		cp.Status.AccessProviders[0].Cluster.Extensions[2] = ext(execExt, "{\n  \"clusterName\" : \"bravelion\",  \"region\": \"westeurope\"\n}")
		if got := mustResolve(t, p, cp).Fingerprint(); got != base {
			t.Error("formatting of the exec extension changed the fingerprint")
		}
	})
	t.Run("profile identity", func(t *testing.T) {
		t.Parallel()
		cp := richProfile()
		cp.Name = "alias"
		if got := mustResolve(t, p, cp).Fingerprint(); got != base {
			t.Error("the profile's name changed the fingerprint")
		}
	})
}

func TestRESTConfig(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	a := mustResolve(t, p, richProfile())
	cfg := a.RESTConfig()
	if cfg.Host != "https://bravelion.example:443" || !bytes.Equal(cfg.CAData, testCA()) ||
		cfg.ServerName != "bravelion.internal" || !cfg.DisableCompression || cfg.Insecure {
		t.Errorf("cluster settings not carried: %+v", cfg)
	}
	if cfg.Proxy != nil {
		t.Error("a Proxy function is installed without proxy-url; it would disable HTTPS_PROXY/NO_PROXY")
	}
	ep := cfg.ExecProvider
	if ep.InteractiveMode != clientcmdapi.NeverExecInteractiveMode {
		t.Errorf("interactive mode = %q", ep.InteractiveMode)
	}
	if !strings.Contains(ep.InstallHint, "kubelogin is required") {
		t.Errorf("install hint dropped: %q", ep.InstallHint)
	}
	u, ok := ep.Config.(*runtime.Unknown)
	if !ok || string(u.Raw) != `{"clusterName":"bravelion","region":"westeurope"}` {
		t.Errorf("ExecProvider.Config = %#v", ep.Config)
	}
	// client-go hands the extension to the plugin as spec.cluster.config.
	execCluster, err := rest.ConfigToExecCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if execCluster.Config == nil || execCluster.Server != cfg.Host {
		t.Errorf("exec cluster = %+v", execCluster)
	}
	// Two configs share nothing.
	cfg.ExecProvider.Args[0] = "tampered"
	cfg.CAData[0] = 'X'
	again := a.RESTConfig()
	if again.ExecProvider.Args[0] != "get-token" || again.CAData[0] != '-' {
		t.Error("RESTConfig returned shared memory")
	}
}

func TestRESTConfigModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []clientcmdapi.ExecInteractiveMode{"", "Never", "IfAvailable", "Always"} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			p := mustProviders(t, access.Provider{Name: "p", ExecConfig: &access.ExecConfig{
				APIVersion: v1, Command: "plugin", InteractiveMode: mode, InstallHint: "install plugin",
			}})
			a := mustResolve(t, p, profile("ns", "c", ap("p", cluster("https://c.example"))))
			want := mode
			if want == "" {
				want = "Never"
			}
			if got := a.RESTConfig().ExecProvider.InteractiveMode; got != want {
				t.Errorf("rest.Config mode = %q, want %q", got, want)
			}
			_, user := a.KubeconfigEntries()
			if user.Exec.InteractiveMode != want || user.Exec.InstallHint != "install plugin" {
				t.Errorf("kubeconfig exec = %+v", user.Exec)
			}
		})
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider("", ""))
	c := cluster("https://c.example")
	c.ProxyURL = "socks5://proxy.example:1080"
	cfg := mustResolve(t, p, profile("ns", "c", ap("aks", c))).RESTConfig()
	if cfg.Proxy == nil {
		t.Fatal("no Proxy function with proxy-url set")
	}
	req, _ := http.NewRequest(http.MethodGet, cfg.Host, nil)
	u, err := cfg.Proxy(req)
	if err != nil || u.String() != "socks5://proxy.example:1080" {
		t.Errorf("proxy = %v, %v", u, err)
	}
}

func TestKubeconfig(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	a := mustResolve(t, p, richProfile())
	b := mustResolve(t, p, profile("fleet-system", "other", ap("aks-workload-identity", cluster("https://other.example"))))

	one := access.NewKubeconfig([]*access.Access{a}, nil)
	if one.CurrentContext != "fleet-system/bravelion" {
		t.Errorf("current-context = %q", one.CurrentContext)
	}
	two := access.NewKubeconfig([]*access.Access{a, b}, nil)
	if two.CurrentContext != "" || len(two.Contexts) != 2 {
		t.Errorf("two profiles: current-context %q, %d contexts", two.CurrentContext, len(two.Contexts))
	}
	data, err := access.EncodeKubeconfig(two)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := clientcmd.Load(data)
	if err != nil {
		t.Fatalf("clientcmd.Load: %v", err)
	}
	if err := clientcmd.Validate(*loaded); err != nil {
		t.Fatalf("clientcmd.Validate: %v", err)
	}
	if !strings.Contains(string(data), "interactiveMode: Never") {
		t.Error("interactiveMode not written")
	}
	cl := loaded.Clusters["fleet-system/bravelion"]
	if cl == nil || cl.TLSServerName != "bravelion.internal" || !cl.DisableCompression {
		t.Fatalf("cluster = %+v", cl)
	}
	if _, ok := cl.Extensions[execExt]; !ok {
		t.Fatalf("exec extension missing from cluster extensions: %v", cl.Extensions)
	}
	// clientcmd must hand the extension to the plugin, and produce the same
	// exec invocation as RESTConfig.
	restCfg, err := clientcmd.NewNonInteractiveClientConfig(*loaded, "fleet-system/bravelion", nil, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	u, ok := restCfg.ExecProvider.Config.(*runtime.Unknown)
	if !ok || !bytes.Contains(u.Raw, []byte(`"clusterName":"bravelion"`)) {
		t.Errorf("clientcmd ExecProvider.Config = %#v", restCfg.ExecProvider.Config)
	}
	direct := a.RESTConfig()
	if fmt.Sprint(restCfg.ExecProvider.Args, restCfg.ExecProvider.Env) != fmt.Sprint(direct.ExecProvider.Args, direct.ExecProvider.Env) ||
		restCfg.Host != direct.Host || !bytes.Equal(restCfg.CAData, direct.CAData) {
		t.Errorf("kubeconfig and rest.Config disagree:\n%+v\n%+v", restCfg.ExecProvider, direct.ExecProvider)
	}
	// The exec section in v1 form.
	var v1cfg clientcmdv1.Config
	if err := runtimeDecode(data, &v1cfg); err != nil {
		t.Fatal(err)
	}
	if v1cfg.AuthInfos[0].AuthInfo.Exec.InteractiveMode == "" {
		t.Error("interactiveMode empty in v1 form")
	}
}

func TestWriteKubeconfig(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	a := mustResolve(t, p, richProfile())
	dir := t.TempDir()
	path := filepath.Join(dir, "config")

	// An existing kubeconfig with an unrelated entry and a stale same-named one.
	existing := clientcmdapi.NewConfig()
	existing.Clusters["kind-dev"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443"}
	existing.AuthInfos["kind-dev"] = &clientcmdapi.AuthInfo{Token: "dev-token"}
	existing.Contexts["kind-dev"] = &clientcmdapi.Context{Cluster: "kind-dev", AuthInfo: "kind-dev"}
	existing.Clusters["fleet-system/bravelion"] = &clientcmdapi.Cluster{Server: "https://stale.example"}
	existing.CurrentContext = "kind-dev"
	if err := clientcmd.WriteToFile(*existing, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := access.WriteKubeconfig(path, access.NewKubeconfig([]*access.Access{a}, nil), true); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	merged, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Clusters["kind-dev"] == nil || merged.AuthInfos["kind-dev"].Token != "dev-token" || merged.Contexts["kind-dev"] == nil {
		t.Error("merge dropped unrelated entries")
	}
	if merged.Clusters["fleet-system/bravelion"].Server != "https://bravelion.example:443" {
		t.Error("merge kept the stale same-named cluster")
	}
	if merged.CurrentContext != "fleet-system/bravelion" {
		t.Errorf("current-context = %q", merged.CurrentContext)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// Without merge the file is replaced.
	if err := access.WriteKubeconfig(path, access.NewKubeconfig([]*access.Access{a}, nil), false); err != nil {
		t.Fatal(err)
	}
	replaced, _ := clientcmd.LoadFromFile(path)
	if replaced.Clusters["kind-dev"] != nil {
		t.Error("write without merge kept old entries")
	}

	// A corrupt file is not merged into and not touched.
	corrupt := filepath.Join(dir, "corrupt")
	if err := os.WriteFile(corrupt, []byte("clusters: [unterminated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := access.WriteKubeconfig(corrupt, access.NewKubeconfig([]*access.Access{a}, nil), true); err == nil {
		t.Error("merge into a corrupt file succeeded")
	}
	if data, _ := os.ReadFile(corrupt); string(data) != "clusters: [unterminated" {
		t.Error("corrupt file was modified")
	}

	// A new file gets 0600 too.
	fresh := filepath.Join(dir, "fresh")
	if err := access.WriteKubeconfig(fresh, access.NewKubeconfig([]*access.Access{a}, nil), true); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o600 {
		t.Errorf("fresh mode = %v", st.Mode().Perm())
	}
}

func TestMergeIntoRealWorldKubeconfig(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	a := mustResolve(t, p, richProfile())
	dir := t.TempDir()
	kdir := filepath.Join(dir, "k")
	if err := os.Mkdir(kdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kdir, "ca.crt"), testCA(), 0o600); err != nil {
		t.Fatal(err)
	}
	// A context pointing at a deleted cluster and user, and a CA path
	// relative to the file: kubectl lives with both, so must a merge.
	path := filepath.Join(kdir, "config")
	existing := `apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt}
users:
- name: dev
  user: {token: dev-token}
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: stale
  context: {cluster: deleted, user: deleted}
current-context: dev
`
	if err := os.WriteFile(path, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := access.WriteKubeconfig(path, access.NewKubeconfig([]*access.Access{a}, nil), true); err != nil {
		t.Fatalf("merge: %v", err)
	}
	merged, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Contexts["stale"] == nil || merged.Clusters["dev"] == nil || merged.Clusters["fleet-system/bravelion"] == nil {
		t.Errorf("entries lost: %v %v", merged.Contexts, merged.Clusters)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "certificate-authority: ca.crt") {
		t.Errorf("relative CA path rewritten:\n%s", data)
	}
}

func TestConcurrentMerges(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	path := filepath.Join(t.TempDir(), "config")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := mustResolve(t, p, profile("fleet-system", fmt.Sprintf("member-%d", i), ap("aks-workload-identity", cluster(fmt.Sprintf("https://member-%d.example", i)))))
			errs <- access.WriteKubeconfig(path, access.NewKubeconfig([]*access.Access{a}, nil), true)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	merged, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Contexts) != 8 || len(merged.Clusters) != 8 || len(merged.AuthInfos) != 8 {
		t.Errorf("lost updates: %d contexts, %d clusters, %d users", len(merged.Contexts), len(merged.Clusters), len(merged.AuthInfos))
	}
}

func TestNilInputsDoNotPanic(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	a := mustResolve(t, p, richProfile())
	add := access.NewKubeconfig([]*access.Access{nil, a, nil}, nil)
	if len(add.Contexts) != 1 || add.CurrentContext != "fleet-system/bravelion" {
		t.Errorf("nil entries: %+v", add)
	}
	if got := access.MergeKubeconfig(&clientcmdapi.Config{}, add); len(got.Clusters) != 1 {
		t.Errorf("merge into a zero Config: %+v", got)
	}
	if got := access.MergeKubeconfig(nil, nil); got == nil || got.Clusters == nil {
		t.Error("MergeKubeconfig(nil, nil)")
	}
	if _, err := access.EncodeKubeconfig(nil); err == nil {
		t.Error("EncodeKubeconfig(nil) succeeded")
	}
	if err := access.WriteKubeconfig(filepath.Join(t.TempDir(), "c"), nil, true); err == nil {
		t.Error("WriteKubeconfig(nil) succeeded")
	}
}

func TestWriteKubeconfigRefusesDevices(t *testing.T) {
	t.Parallel()
	link := filepath.Join(t.TempDir(), "out")
	if err := os.Symlink(os.DevNull, link); err != nil {
		t.Fatal(err)
	}
	a := mustResolve(t, exampleProviders(t), richProfile())
	err := access.WriteKubeconfig(link, access.NewKubeconfig([]*access.Access{a}, nil), false)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatal(os.DevNull + " was replaced")
	}
}
