package access_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	upstream "sigs.k8s.io/cluster-inventory-api/pkg/access"

	"github.com/cpaccess/cpaccess/pkg/access"
)

// benchProfiles returns n distinct profiles: each its own server, CA,
// tenant and client. additional-args uses the list form, the only one
// upstream reads.
func benchProfiles(n int) []*v1alpha1.ClusterProfile {
	cps := make([]*v1alpha1.ClusterProfile, n)
	for i := range cps {
		c := cluster(
			fmt.Sprintf("https://member-%05d.hcp.westeurope.azmk8s.io:443", i),
			ext(argsExt, fmt.Sprintf(`["--tenant-id", "tenant-%05d", "--authority-host", "https://login.microsoftonline.com/"]`, i)),
			ext(envsExt, fmt.Sprintf(`{"AZURE_CLIENT_ID": "client-%05d"}`, i)),
			ext(execExt, fmt.Sprintf(`{"clusterName": "member-%05d"}`, i)),
		)
		c.CertificateAuthorityData = newCA(fmt.Sprintf("member-%05d-ca", i))
		cps[i] = profile("fleet-system", fmt.Sprintf("member-%05d", i), ap("aks-workload-identity", c))
	}
	return cps
}

var benchExec = struct {
	args []string
	env  []access.EnvVar
}{
	args: []string{"get-token", "--login", "workloadidentity", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
		"--federated-token-file", "/var/run/secrets/tokens/azure-identity-token"},
	env: []access.EnvVar{{Name: "AZURE_CLIENT_ID", Value: "default-client"}},
}

func upstreamConfig() *upstream.Config {
	env := make([]clientcmdapi.ExecEnvVar, len(benchExec.env))
	for i, e := range benchExec.env {
		env[i] = clientcmdapi.ExecEnvVar{Name: e.Name, Value: e.Value}
	}
	return upstream.New([]upstream.Provider{{
		Name: "aks-workload-identity",
		ExecConfig: &clientcmdapi.ExecConfig{
			APIVersion: access.ExecAPIVersionV1beta1, Command: "kubelogin",
			Args: append([]string(nil), benchExec.args...), Env: env,
		},
		ProfileSourcedCLIArgsPolicy: upstream.ProfileSourcedCLIArgsPolicyAppend,
		ProfileSourcedEnvVarsPolicy: upstream.ProfileSourcedEnvVarsPolicyReplace,
	}})
}

// BenchmarkResolve10000Profiles resolves 10,000 distinct profiles into
// rest.Configs with cpaccess and with upstream
// sigs.k8s.io/cluster-inventory-api/pkg/access v0.1.3 on the same inputs, and
// prints time and allocations per profile for both and their ratio.
//
// Upstream mutates its shared provider on every call (its args grow without
// bound), so the baseline builds a fresh provider config per profile, as its
// consumers must to stay correct.
func BenchmarkResolve10000Profiles(b *testing.B) {
	cps := benchProfiles(10000)
	ours, err := access.NewProviders([]access.Provider{{
		Name: "aks-workload-identity",
		ExecConfig: &access.ExecConfig{
			APIVersion: access.ExecAPIVersionV1beta1, Command: "kubelogin",
			Args: benchExec.args, Env: benchExec.env,
		},
		ProfileSourcedCLIArgsPolicy: access.CLIArgsAppend,
		ProfileSourcedEnvVarsPolicy: access.EnvVarsReplace,
	}}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	// Both must succeed on every input before anything is timed.
	for _, cp := range cps[:10] {
		if _, err := ours.Resolve(cp); err != nil {
			b.Fatal(err)
		}
		if _, err := upstreamConfig().BuildConfigFromCP(cp); err != nil {
			b.Fatal(err)
		}
	}

	type figures struct{ ns, allocs, bytes float64 }
	// measure runs fn over every profile once and returns the figures per
	// profile.
	measure := func(fn func(cp *v1alpha1.ClusterProfile) error) figures {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		for _, cp := range cps {
			if err := fn(cp); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		n := float64(len(cps))
		return figures{
			ns:     float64(elapsed.Nanoseconds()) / n,
			allocs: float64(after.Mallocs-before.Mallocs) / n,
			bytes:  float64(after.TotalAlloc-before.TotalAlloc) / n,
		}
	}
	resolveOurs := func(cp *v1alpha1.ClusterProfile) error {
		a, err := ours.Resolve(cp)
		if err == nil {
			_ = a.RESTConfig()
		}
		return err
	}
	resolveUpstream := func(cp *v1alpha1.ClusterProfile) error {
		_, err := upstreamConfig().BuildConfigFromCP(cp)
		return err
	}
	// The two sides alternate round by round, so a change in machine load
	// hits both; each side keeps its fastest round.
	best := func(cur, next figures) figures {
		if cur.ns == 0 || next.ns < cur.ns {
			return next
		}
		return cur
	}
	var o, u figures
	for b.Loop() {
		o = best(o, measure(resolveOurs))
		u = best(u, measure(resolveUpstream))
	}
	ons, oallocs, obytes := o.ns, o.allocs, o.bytes
	uns, uallocs, ubytes := u.ns, u.allocs, u.bytes
	fmt.Fprintf(os.Stdout, "\nresolving %d distinct profiles into rest.Config (per profile)\n", len(cps))
	fmt.Fprintf(os.Stdout, "%-34s %12s %12s %12s\n", "", "ns", "allocs", "bytes")
	fmt.Fprintf(os.Stdout, "%-34s %12.0f %12.1f %12.0f\n", "cpaccess", ons, oallocs, obytes)
	fmt.Fprintf(os.Stdout, "%-34s %12.0f %12.1f %12.0f\n", "upstream v0.1.3 (fresh config)", uns, uallocs, ubytes)
	fmt.Fprintf(os.Stdout, "%-34s %12.2f %12.2f %12.2f\n", "ratio upstream/cpaccess", uns/ons, uallocs/oallocs, ubytes/obytes)
	b.ReportMetric(ons, "cpaccess-ns/profile")
	b.ReportMetric(oallocs, "cpaccess-allocs/profile")
	b.ReportMetric(uns, "upstream-ns/profile")
	b.ReportMetric(uallocs, "upstream-allocs/profile")
	b.ReportMetric(uns/ons, "time-ratio")
}
