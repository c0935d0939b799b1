package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/dump"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/pkg/apis/clientauthentication"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	upstream "sigs.k8s.io/cluster-inventory-api/pkg/access"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cpaccess/cpaccess/internal/atomicfile"
	"github.com/cpaccess/cpaccess/internal/sandbox"
	"github.com/cpaccess/cpaccess/pkg/access"
	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

// A fleet here is many ClusterProfiles on the hub, all pointing at the
// sandbox member and naming the same tenant and client: one app, one
// identity, many clusters (as with AKS clusters of one tenant). client-go
// shares one exec authenticator, and so one plugin run and one credential,
// among all rest.Configs whose ExecProvider dumps identically
// (k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go, cacheKey; the
// cluster is left out of the key when provideClusterInfo is false). These
// tests measure what that is worth with the real kubelogin and emulator.

var fleetSize = flag.Int("fleet.size", 100, "number of clusters BenchmarkFleetSignIn brings up per side")

const (
	// fleetNamespace holds the fleet's ClusterProfiles on the hub; it is
	// created by publishFleet and removed when the test ends.
	fleetNamespace = "fleet-bench"
	// fleetWorkers is how many clusters are brought up at a time.
	fleetWorkers = 16
	// fleetTimeout bounds bringing up one fleet.
	fleetTimeout = 3 * time.Minute
)

// TestFleetSharesOneSignIn: 40 ClusterProfiles on the hub, all reaching the
// member as the same identity, with two profile-sourced variables (so that
// their order matters) and the object form of additional-args. cpaccess
// resolves them into 40 rest.Configs whose exec settings are identical, so
// listing namespaces on all 40, concurrently, runs kubelogin once and asks
// Entra for one token. kubelogin's own cache is disabled, so every run of
// it is a round trip to Entra: the single token request is the single run,
// not a cache hit.
func TestFleetSharesOneSignIn(t *testing.T) {
	sb := setup(t)
	id := sb.Primary()
	const n = 40
	cps := publishFleet(t, sb, n, id)

	t.Run("precondition: kubelogin runs without a cache", func(t *testing.T) {
		// Two direct runs of the plugin with the fleet's exec settings:
		// both must reach Entra.
		control := newFleetPlugin(t, sb)
		providers := control.loadProviders(t, sb)
		a, err := providers.Resolve(cps[0])
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		mark := markEmulator(sb)
		for range 2 {
			control.run(t, a)
		}
		if got := control.runs(t); got != 2 {
			t.Fatalf("the wrapper counted %d kubelogin runs, want 2", got)
		}
		if got := mark.stats().Count(entraemulator.EndpointToken, entraemulator.OutcomeOK); got != 2 {
			t.Fatalf("two kubelogin runs obtained %d tokens from Entra, want 2: kubelogin's persistent cache is in use (stats since mark: %s)", got, mark.stats())
		}
	})

	plugin := newFleetPlugin(t, sb)
	providers := plugin.loadProviders(t, sb)
	ctx, cancel := context.WithTimeout(t.Context(), fleetTimeout)
	defer cancel()
	r := bringUpFleet(ctx, t, sb, plugin, n, func(i int) (*rest.Config, error) {
		a, err := providers.Resolve(cps[i])
		if err != nil {
			return nil, err
		}
		return a.RESTConfig(), nil
	})
	t.Logf("%d clusters answered in %v: %d kubelogin runs, %d token requests, %d distinct exec configs",
		r.clusters, r.wall.Round(time.Millisecond), r.execs, r.tokens, r.execConfigs)

	if r.clusters != n {
		t.Fatalf("%d of %d clusters listed their namespaces; first failure: %v", r.clusters, n, r.firstErr)
	}
	if r.execConfigs != 1 {
		t.Errorf("the %d rest.Configs carry %d distinct exec configs, want 1 (client-go shares an authenticator only between identical ones)", n, r.execConfigs)
	}
	if r.execs != 1 {
		t.Errorf("kubelogin ran %d times for %d clusters of one identity, want 1", r.execs, n)
	}
	if r.tokens != 1 || r.issued != 1 {
		t.Errorf("Entra got %d token requests (%d answered with a token) for %d clusters of one identity, want exactly 1 (stats since the fleet started: %s)",
			r.tokens, r.issued, n, r.stats)
	}
	if r.discoveries != 1 {
		t.Errorf("Entra got %d discovery requests, want 1 (one per kubelogin run)", r.discoveries)
	}
	if r.foreignTokens != 0 {
		t.Errorf("%d token requests went to another tenant or client than %s/%s", r.foreignTokens, id.TenantID, id.ClientID)
	}
}

// BenchmarkFleetSignIn brings up a fleet of -fleet.size clusters (default
// 100; all the sandbox member, one identity) and measures, per side, the
// wall time until every cluster has answered a namespace list, the token
// requests Entra got and the kubelogin runs:
//
//   - cpaccess: LoadProviderFile, then Resolve and RESTConfig per profile
//     read from the hub (additional-args in the object form);
//   - upstream-shared: sigs.k8s.io/cluster-inventory-api/pkg/access v0.1.3
//     as multicluster-runtime uses it: one *access.Config, BuildConfigFromCP
//     per profile, no clone;
//   - upstream-clone: the same with a deep copy of the Config per profile,
//     the workaround its consumers use for B1.
//
// Upstream reads only the list form of additional-args, which the CRD
// rejects, so its profiles are the hub's profiles with the same arguments
// in the list form, kept in memory. kubelogin's persistent cache is
// disabled, so every run of it is a round trip to Entra.
//
// Every iteration and every side gets its own plugin wrapper (a new command
// path), hence exec configs that differ from those of other iterations and
// sides: client-go's authenticator cache is process-global, and a wrapper
// path is a per-run key that adds nothing to the environment, whose order
// upstream randomises (B4). Each iteration builds new rest.Configs and
// clients.
//
// It prints a table and the ratios against cpaccess. A side that fails
// (some clusters unreachable) is reported as a finding, not as a benchmark
// failure, unless the side is cpaccess.
func BenchmarkFleetSignIn(b *testing.B) {
	sb := setup(b)
	n := *fleetSize
	if n < 1 {
		b.Fatalf("-fleet.size=%d: want at least 1", n)
	}
	id := sb.Primary()
	hubProfiles := publishFleet(b, sb, n, id)
	listForm := upstreamProfiles(b, hubProfiles)

	type side struct {
		name, desc string
		// prepare returns how to build cluster i's rest.Config for one
		// fleet whose plugin is p.
		prepare func(b *testing.B, p fleetPlugin) func(i int) (*rest.Config, error)
	}
	sides := []side{
		{"cpaccess", "cpaccess", func(b *testing.B, p fleetPlugin) func(int) (*rest.Config, error) {
			providers := p.loadProviders(b, sb)
			return func(i int) (*rest.Config, error) {
				a, err := providers.Resolve(hubProfiles[i])
				if err != nil {
					return nil, err
				}
				return a.RESTConfig(), nil
			}
		}},
		{"upstream-shared", "upstream v0.1.3, one shared Config", func(b *testing.B, p fleetPlugin) func(int) (*rest.Config, error) {
			shared := p.upstreamConfig(sb)
			return func(i int) (*rest.Config, error) { return shared.BuildConfigFromCP(listForm[i]) }
		}},
		{"upstream-clone", "upstream v0.1.3, Config cloned per profile", func(b *testing.B, p fleetPlugin) func(int) (*rest.Config, error) {
			base := p.upstreamConfig(sb)
			return func(i int) (*rest.Config, error) { return cloneUpstreamConfig(base).BuildConfigFromCP(listForm[i]) }
		}},
	}

	// Figures per fleet (averaged over b.N) of each side's last run.
	results := map[string]fleetFigures{}
	for _, s := range sides {
		b.Run(s.name, func(b *testing.B) {
			var sum fleetFigures
			for range b.N {
				b.StopTimer()
				plugin := newFleetPlugin(b, sb)
				build := s.prepare(b, plugin)
				ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
				b.StartTimer()
				r := bringUpFleet(ctx, b, sb, plugin, n, build)
				b.StopTimer()
				cancel()
				if s.name == "cpaccess" && r.clusters != n {
					b.Fatalf("cpaccess: %d of %d clusters listed their namespaces; first failure: %v", r.clusters, n, r.firstErr)
				}
				sum.add(r)
			}
			f := sum.per(b.N)
			results[s.name] = f
			b.ReportMetric(f.clusters, "clusters")
			b.ReportMetric(f.tokens, "token-requests/op")
			b.ReportMetric(f.execs, "plugin-execs/op")
			b.ReportMetric(f.execConfigs, "exec-configs/op")
		})
	}

	fmt.Printf("\nfleet of %d clusters (all the sandbox member, one identity), kubelogin cache disabled, %d clusters brought up at a time; figures per fleet\n",
		n, fleetWorkers)
	fmt.Printf("%-42s %9s %10s %9s %9s %8s %8s %8s %8s %8s\n",
		"side", "clusters", "wall time", "tokens", "plugins", "configs", "max args", "wall×", "tokens×", "plugins×")
	ours, haveOurs := results["cpaccess"]
	for _, s := range sides {
		f, ok := results[s.name]
		if !ok {
			continue // filtered out by -bench
		}
		ratio := func(x, y float64) string {
			if !haveOurs || y == 0 {
				return "-"
			}
			return strconv.FormatFloat(x/y, 'f', 1, 64)
		}
		fmt.Printf("%-42s %9s %10v %9.1f %9.1f %8.1f %8d %8s %8s %8s\n",
			s.desc, fmt.Sprintf("%.0f/%d", f.clusters, n), f.wall.Round(time.Millisecond), f.tokens, f.execs, f.execConfigs, f.maxArgs,
			ratio(float64(f.wall), float64(ours.wall)), ratio(f.tokens, ours.tokens), ratio(f.execs, ours.execs))
	}
	fmt.Println("(tokens: token requests at Entra; plugins: kubelogin runs; configs: distinct exec configs, i.e. client-go authenticators;")
	fmt.Printf(" max args: the longest plugin command line; the provider has %d arguments and each profile adds %d)\n",
		len(fleetArgs(sb)), len(profileArgs(b, hubProfiles[0])))
	for _, s := range sides {
		f, ok := results[s.name]
		if !ok {
			continue
		}
		if f.firstErr != nil {
			fmt.Printf("finding: %s: %.0f of %d clusters failed; first failure: %v\n", s.name, float64(n)-f.clusters, n, f.firstErr)
		}
		if f.tokens != f.execs {
			fmt.Printf("note: %s: %.1f token requests for %.1f kubelogin runs (retries, or a kubelogin cache hit)\n", s.name, f.tokens, f.execs)
		}
		if f.foreignTokens != 0 {
			fmt.Printf("finding: %s: %.1f token requests went to another tenant or client than %s/%s\n", s.name, f.foreignTokens, id.TenantID, id.ClientID)
		}
	}
}

// fleetResult is what bringing up one fleet took.
type fleetResult struct {
	clusters      int           // clusters that listed their namespaces
	wall          time.Duration // from the first build to the last answer
	execConfigs   int           // distinct exec configs among the built rest.Configs
	maxArgs       int           // the most plugin arguments of any built rest.Config
	execs         int           // kubelogin runs (counted by the wrapper)
	tokens        int           // token requests at Entra, whatever the outcome
	issued        int           // token requests answered with a token
	discoveries   int           // OpenID discovery requests (one per kubelogin run)
	foreignTokens int           // token requests for another tenant or client
	stats         entraemulator.Stats
	firstErr      error
}

// bringUpFleet builds the rest.Configs of clusters 0..n-1 with build (one
// after the other, as a single reconcile worker would; upstream's build is
// not safe for concurrent use, B2), then creates a clientset for each and
// lists its namespaces, fleetWorkers clusters at a time, and reports what
// that took.
func bringUpFleet(ctx context.Context, tb testing.TB, sb *sandbox.Sandbox, plugin fleetPlugin, n int, build func(i int) (*rest.Config, error)) fleetResult {
	id := sb.Primary()
	mark := markEmulator(sb)
	start := time.Now()
	cfgs := make([]*rest.Config, n)
	errs := make([]error, n)
	for i := range n {
		cfgs[i], errs[i] = build(i)
		if errs[i] == nil && cfgs[i].Host != sb.Member().Server() {
			errs[i] = fmt.Errorf("rest.Config host %q, want the member %q", cfgs[i].Host, sb.Member().Server())
		}
	}
	forEachParallel(n, fleetWorkers, func(i int) {
		if errs[i] == nil {
			errs[i] = listNamespaces(ctx, cfgs[i])
		}
	})
	r := fleetResult{wall: time.Since(start)}

	keys := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			if r.firstErr == nil {
				r.firstErr = fmt.Errorf("cluster %d: %w", i, err)
			}
			continue
		}
		r.clusters++
		keys[authenticatorKey(cfgs[i].ExecProvider)] = true
		r.maxArgs = max(r.maxArgs, len(cfgs[i].ExecProvider.Args))
	}
	r.execConfigs = len(keys)
	r.execs = plugin.runs(tb)
	r.stats = mark.stats()
	r.tokens = r.stats.Total(entraemulator.EndpointToken)
	r.issued = r.stats.Count(entraemulator.EndpointToken, entraemulator.OutcomeOK)
	r.discoveries = r.stats.Total(entraemulator.EndpointOpenIDConfigurationV2)
	for _, q := range mark.requests() {
		if q.Endpoint == entraemulator.EndpointToken && (q.Tenant != id.TenantID || !strings.EqualFold(q.ClientID, id.ClientID)) {
			r.foreignTokens++
		}
	}
	return r
}

// authenticatorKey is client-go's key for sharing an exec authenticator
// (exec.go cacheKey), for exec configs without provideClusterInfo.
func authenticatorKey(ec *clientcmdapi.ExecConfig) string {
	return dump.Pretty(struct {
		conf    *clientcmdapi.ExecConfig
		cluster *clientauthentication.Cluster
	}{conf: ec})
}

// listNamespaces lists the namespaces of the cluster cfg reaches with a new
// clientset, and expects kube-system among them.
func listNamespaces(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(nss.Items, func(ns corev1.Namespace) bool { return ns.Name == "kube-system" }) {
		return fmt.Errorf("the namespace list lacks kube-system")
	}
	return nil
}

// fleetFigures sums fleetResults and averages them per fleet.
type fleetFigures struct {
	clusters, execConfigs, execs, tokens, foreignTokens float64
	maxArgs                                             int
	wall                                                time.Duration
	firstErr                                            error
}

func (f *fleetFigures) add(r fleetResult) {
	f.clusters += float64(r.clusters)
	f.execConfigs += float64(r.execConfigs)
	f.execs += float64(r.execs)
	f.tokens += float64(r.tokens)
	f.foreignTokens += float64(r.foreignTokens)
	f.maxArgs = max(f.maxArgs, r.maxArgs)
	f.wall += r.wall
	if f.firstErr == nil {
		f.firstErr = r.firstErr
	}
}

func (f fleetFigures) per(iterations int) fleetFigures {
	k := float64(iterations)
	return fleetFigures{
		clusters: f.clusters / k, execConfigs: f.execConfigs / k, execs: f.execs / k,
		tokens: f.tokens / k, foreignTokens: f.foreignTokens / k,
		maxArgs: f.maxArgs, wall: f.wall / time.Duration(iterations), firstErr: f.firstErr,
	}
}

// forEachParallel calls fn(0..n-1) from at most workers goroutines.
func forEachParallel(n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// fleetPlugin is a wrapper around the real kubelogin, used as the exec
// command: it counts its runs in a file, gives kubelogin the sandbox's
// trust (the emulator's CA) and a private HOME, and points XDG_CACHE_HOME
// under a regular file, so that kubelogin cannot create its persistent
// cache and runs without one (it logs "persistent storage isn't available"
// at -v 5 and goes on; kubelogin-wire.md §1.5): every run is a round trip
// to Entra. A new wrapper has a new path, and so a new exec config.
type fleetPlugin struct {
	dir, path, counter string
}

func newFleetPlugin(tb testing.TB, sb *sandbox.Sandbox) fleetPlugin {
	tb.Helper()
	dir := tb.TempDir()
	p := fleetPlugin{dir: dir, path: filepath.Join(dir, "kubelogin"), counter: filepath.Join(dir, "runs")}
	home := filepath.Join(dir, "home")
	notADir := filepath.Join(dir, "not-a-directory")
	if err := os.Mkdir(home, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
echo run >> %s
unset SSL_CERT_DIR KUBECACHEDIR
export SSL_CERT_FILE=%s HOME=%s XDG_CACHE_HOME=%s
exec %s "$@"
`, shellQuote(p.counter), shellQuote(sb.EmulatorCAFile()), shellQuote(home),
		shellQuote(filepath.Join(notADir, "cache")), shellQuote(sb.KubeloginPath()))
	if err := os.WriteFile(p.path, []byte(script), 0o700); err != nil {
		tb.Fatal(err)
	}
	return p
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// runs is the number of times the wrapper ran.
func (p fleetPlugin) runs(tb testing.TB) int {
	tb.Helper()
	data, err := os.ReadFile(p.counter)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}

// run runs the wrapper once as client-go would for a's exec settings (the
// process environment plus a's variables) and expects a token.
func (p fleetPlugin) run(t *testing.T, a *access.Access) {
	t.Helper()
	env := os.Environ()
	for _, e := range a.Exec.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	r := runCmd(t, env, a.Exec.Command, a.Exec.Args...)
	if r.err != nil || !strings.Contains(r.stdout, `"token":`) {
		t.Fatalf("running the plugin directly gave no token:\n%s", r)
	}
}

// providerFileYAML is the sandbox's provider file with the wrapper as the
// command: kubelogin in workload identity mode, the app's federated token,
// tenant, authority host and client from the profile.
func (p fleetPlugin) providerFileYAML(sb *sandbox.Sandbox) []byte {
	quoted := make([]string, len(fleetArgs(sb)))
	for i, a := range fleetArgs(sb) {
		quoted[i] = strconv.Quote(a)
	}
	return fmt.Appendf(nil, `providers:
- name: %s
  execConfig:
    apiVersion: %s
    command: %s
    args: [%s]
    interactiveMode: Never
  profileSourcedCLIArgsPolicy: Append
  profileSourcedEnvVarsPolicy: Replace
`, sandbox.ProviderName, access.ExecAPIVersionV1beta1, strconv.Quote(p.path), strings.Join(quoted, ", "))
}

func fleetArgs(sb *sandbox.Sandbox) []string {
	return []string{"get-token", "--login", "workloadidentity", "--server-id", sandbox.AKSServerAppID,
		"--federated-token-file", sb.FederatedTokenFile()}
}

// loadProviders writes the provider file next to the wrapper and loads it.
func (p fleetPlugin) loadProviders(tb testing.TB, sb *sandbox.Sandbox) *access.Providers {
	tb.Helper()
	path := filepath.Join(p.dir, "providers.yaml")
	if err := atomicfile.Write(path, p.providerFileYAML(sb), 0o600); err != nil {
		tb.Fatal(err)
	}
	providers, err := access.LoadProviderFile(path)
	if err != nil {
		tb.Fatalf("LoadProviderFile: %v", err)
	}
	return providers
}

// upstreamConfig is the same provider for upstream pkg/access.
func (p fleetPlugin) upstreamConfig(sb *sandbox.Sandbox) *upstream.Config {
	return upstream.New([]upstream.Provider{{
		Name: sandbox.ProviderName,
		ExecConfig: &clientcmdapi.ExecConfig{
			APIVersion: access.ExecAPIVersionV1beta1,
			Command:    p.path,
			Args:       fleetArgs(sb),
		},
		ProfileSourcedCLIArgsPolicy: upstream.ProfileSourcedCLIArgsPolicyAppend,
		ProfileSourcedEnvVarsPolicy: upstream.ProfileSourcedEnvVarsPolicyReplace,
	}})
}

// cloneUpstreamConfig deep-copies an upstream Config, as its consumers do
// before every BuildConfigFromCP to keep B1 from leaking between clusters.
func cloneUpstreamConfig(c *upstream.Config) *upstream.Config {
	out := &upstream.Config{Providers: make([]upstream.Provider, len(c.Providers))}
	for i, p := range c.Providers {
		p.ExecConfig = p.ExecConfig.DeepCopy()
		out.Providers[i] = p
	}
	return out
}

// fleetAccessProvider is the sandbox's access provider for id with both the
// client and the tenant as profile-sourced variables.
func fleetAccessProvider(tb testing.TB, sb *sandbox.Sandbox, id sandbox.Identity) v1alpha1.AccessProvider {
	tb.Helper()
	ap := sb.AccessProvider(id, sb.Emulator().AuthorityHost())
	envs, err := json.Marshal(map[string]string{"AZURE_CLIENT_ID": id.ClientID, "AZURE_TENANT_ID": id.TenantID})
	if err != nil {
		tb.Fatal(err)
	}
	found := false
	for i, e := range ap.Cluster.Extensions {
		if e.Name == sandbox.AdditionalEnvsExtension {
			ap.Cluster.Extensions[i].Extension = runtime.RawExtension{Raw: envs}
			found = true
		}
	}
	if !found {
		tb.Fatalf("the sandbox access provider has no %s extension", sandbox.AdditionalEnvsExtension)
	}
	return ap
}

// publishFleet creates namespace fleet-bench on the hub with n
// ClusterProfiles member-0000.. pointing at the member as id, and returns
// them as read back from the hub, sorted by name. The profiles and the
// namespace are removed when the test ends.
func publishFleet(tb testing.TB, sb *sandbox.Sandbox, n int, id sandbox.Identity) []*v1alpha1.ClusterProfile {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		tb.Fatal(err)
	}
	hub, err := client.New(sb.Hub().RESTConfig(), client.Options{Scheme: scheme})
	if err != nil {
		tb.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(sb.Hub().RESTConfig())
	if err != nil {
		tb.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fleetNamespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		tb.Fatalf("failed to create namespace %s on the hub: %v", fleetNamespace, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeFleet(ctx, hub, cs); err != nil {
			tb.Errorf("failed to remove the fleet from the hub: %v", err)
		}
	})

	status := v1alpha1.ClusterProfileStatus{
		Conditions: []metav1.Condition{{
			Type: v1alpha1.ClusterConditionControlPlaneHealthy, Status: metav1.ConditionTrue,
			Reason: "Healthy", Message: "the member API server is ready",
			LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second)),
		}},
		AccessProviders: []v1alpha1.AccessProvider{fleetAccessProvider(tb, sb, id)},
	}
	errs := make([]error, n)
	forEachParallel(n, 8, func(i int) {
		name := fmt.Sprintf("member-%04d", i)
		cp := &v1alpha1.ClusterProfile{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: fleetNamespace, Name: name,
				Labels: map[string]string{v1alpha1.LabelClusterManagerKey: sandbox.ClusterManager},
			},
			Spec: v1alpha1.ClusterProfileSpec{DisplayName: name, ClusterManager: v1alpha1.ClusterManager{Name: sandbox.ClusterManager}},
		}
		if err := hub.Create(ctx, cp); err != nil {
			errs[i] = fmt.Errorf("failed to create ClusterProfile %s/%s: %w", fleetNamespace, name, err)
			return
		}
		cp.Status = *status.DeepCopy()
		if err := hub.Status().Update(ctx, cp); err != nil {
			errs[i] = fmt.Errorf("failed to set the status of ClusterProfile %s/%s: %w", fleetNamespace, name, err)
		}
	})
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}

	list := &v1alpha1.ClusterProfileList{}
	if err := hub.List(ctx, list, client.InNamespace(fleetNamespace)); err != nil {
		tb.Fatalf("failed to list the fleet's ClusterProfiles: %v", err)
	}
	if len(list.Items) != n {
		tb.Fatalf("the hub holds %d ClusterProfiles in %s, want %d", len(list.Items), fleetNamespace, n)
	}
	cps := make([]*v1alpha1.ClusterProfile, n)
	for i := range list.Items {
		cps[i] = &list.Items[i]
	}
	slices.SortFunc(cps, func(a, b *v1alpha1.ClusterProfile) int { return strings.Compare(a.Name, b.Name) })
	for _, cp := range cps {
		if len(cp.Status.AccessProviders) != 1 {
			tb.Fatalf("ClusterProfile %s/%s has %d access providers after the status update, want 1", cp.Namespace, cp.Name, len(cp.Status.AccessProviders))
		}
	}
	return cps
}

// removeFleet deletes the fleet's profiles and namespace. The sandbox runs
// no namespace controller, so the namespace is finalized here, which is
// safe once it is empty.
func removeFleet(ctx context.Context, hub client.Client, cs kubernetes.Interface) error {
	if err := hub.DeleteAllOf(ctx, &v1alpha1.ClusterProfile{}, client.InNamespace(fleetNamespace)); err != nil {
		return fmt.Errorf("failed to delete the ClusterProfiles in %s: %w", fleetNamespace, err)
	}
	list := &v1alpha1.ClusterProfileList{}
	if err := hub.List(ctx, list, client.InNamespace(fleetNamespace)); err != nil {
		return err
	}
	if len(list.Items) != 0 {
		return fmt.Errorf("%d ClusterProfiles are left in %s", len(list.Items), fleetNamespace)
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, fleetNamespace, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("failed to delete namespace %s: %w", fleetNamespace, err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, fleetNamespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ns.Spec.Finalizers = nil
	if _, err := cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to finalize namespace %s: %w", fleetNamespace, err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, fleetNamespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %s is still there after finalizing it (err %v)", fleetNamespace, err)
	}
	return nil
}

// upstreamProfiles are the hub's profiles with additional-args in the list
// form, the only one upstream reads (the CRD rejects it, so these stay in
// memory).
func upstreamProfiles(tb testing.TB, cps []*v1alpha1.ClusterProfile) []*v1alpha1.ClusterProfile {
	tb.Helper()
	out := make([]*v1alpha1.ClusterProfile, len(cps))
	for i, cp := range cps {
		cp = cp.DeepCopy()
		converted := 0
		for j := range cp.Status.AccessProviders {
			exts := cp.Status.AccessProviders[j].Cluster.Extensions
			for k := range exts {
				if exts[k].Name != sandbox.AdditionalArgsExtension {
					continue
				}
				raw, err := json.Marshal(objectFormArgs(tb, cp.Name, exts[k].Extension.Raw))
				if err != nil {
					tb.Fatal(err)
				}
				exts[k].Extension = runtime.RawExtension{Raw: raw}
				converted++
			}
		}
		if converted != 1 {
			tb.Fatalf("ClusterProfile %s: converted %d additional-args extensions, want 1", cp.Name, converted)
		}
		out[i] = cp
	}
	return out
}

// profileArgs are the additional-args of a fleet profile read from the hub.
func profileArgs(tb testing.TB, cp *v1alpha1.ClusterProfile) []string {
	tb.Helper()
	for _, e := range cp.Status.AccessProviders[0].Cluster.Extensions {
		if e.Name == sandbox.AdditionalArgsExtension {
			return objectFormArgs(tb, cp.Name, e.Extension.Raw)
		}
	}
	tb.Fatalf("ClusterProfile %s has no additional-args", cp.Name)
	return nil
}

// objectFormArgs parses the object form {"args": [...]} of additional-args.
func objectFormArgs(tb testing.TB, name string, raw []byte) []string {
	tb.Helper()
	var obj struct {
		Args []string `json:"args"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj.Args) == 0 {
		tb.Fatalf("ClusterProfile %s: additional-args %s is not the object form (%v)", name, raw, err)
	}
	return obj.Args
}
