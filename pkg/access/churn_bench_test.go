package access_test

import (
	"fmt"
	"os"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/pkg/access"
)

// sameAccess is the comparison a controller makes to decide whether a
// cluster's client must be rebuilt when its profile's status is updated:
// same host, trust and exec invocation.
func sameAccess(a, b *rest.Config) bool {
	return a.Host == b.Host && reflect.DeepEqual(a.CAData, b.CAData) && a.ServerName == b.ServerName &&
		reflect.DeepEqual(a.ExecProvider.Args, b.ExecProvider.Args) && reflect.DeepEqual(a.ExecProvider.Env, b.ExecProvider.Env)
}

// BenchmarkReconcileChurn replays status heartbeats of a fleet of profiles
// (conditions and properties change; access does not) and counts how many
// reconciles would rebuild a client. cpaccess compares fingerprints;
// upstream v0.1.3 can only compare the configs it builds (with a fresh
// provider config per call, since its shared one grows on every call).
// Each profile carries two profile-sourced variables, so env order matters.
func BenchmarkReconcileChurn(b *testing.B) {
	const clusters, rounds = 200, 10
	cps := benchProfiles(clusters)
	for _, cp := range cps {
		c := &cp.Status.AccessProviders[0].Cluster
		c.Extensions[1] = ext(envsExt, fmt.Sprintf(`{"AZURE_CLIENT_ID": "client-%s", "AZURE_TENANT_ID": "tenant-%s"}`, cp.Name, cp.Name))
	}
	ours := mustProviders(b, access.Provider{
		Name: "aks-workload-identity",
		ExecConfig: &access.ExecConfig{
			APIVersion: access.ExecAPIVersionV1beta1, Command: "kubelogin",
			Args: benchExec.args, Env: benchExec.env,
		},
		ProfileSourcedCLIArgsPolicy: access.CLIArgsAppend,
		ProfileSourcedEnvVarsPolicy: access.EnvVarsReplace,
	})
	heartbeat := func(cp *v1alpha1.ClusterProfile, round int) {
		cp.Status.Conditions[0].LastTransitionTime = metav1.Unix(int64(1_800_000_000+round), 0)
		cp.Status.Properties = []v1alpha1.Property{{Name: "heartbeat", Value: fmt.Sprint(round)}}
	}

	var oursRebuilds, upRebuilds, reconciles int
	for b.Loop() {
		oursPrev := make([]string, clusters)
		upPrev := make([]*rest.Config, clusters)
		for i, cp := range cps {
			oursPrev[i] = mustResolve(b, ours, cp).Fingerprint()
			cfg, err := upstreamConfig().BuildConfigFromCP(cp)
			if err != nil {
				b.Fatal(err)
			}
			upPrev[i] = cfg
		}
		for round := 1; round <= rounds; round++ {
			for i, cp := range cps {
				heartbeat(cp, round)
				reconciles++
				if fp := mustResolve(b, ours, cp).Fingerprint(); fp != oursPrev[i] {
					oursRebuilds++
					oursPrev[i] = fp
				}
				cfg, err := upstreamConfig().BuildConfigFromCP(cp)
				if err != nil {
					b.Fatal(err)
				}
				if !sameAccess(cfg, upPrev[i]) {
					upRebuilds++
					upPrev[i] = cfg
				}
			}
		}
	}
	fmt.Fprintf(os.Stdout, "\n%d clusters x %d status heartbeats (access unchanged): client rebuilds per reconcile\n", clusters, rounds)
	fmt.Fprintf(os.Stdout, "%-34s %8.3f (%d of %d)\n", "cpaccess (fingerprint)", float64(oursRebuilds)/float64(reconciles), oursRebuilds, reconciles)
	fmt.Fprintf(os.Stdout, "%-34s %8.3f (%d of %d)\n", "upstream v0.1.3 (config equality)", float64(upRebuilds)/float64(reconciles), upRebuilds, reconciles)
	b.ReportMetric(float64(oursRebuilds)/float64(reconciles), "cpaccess-rebuilds/reconcile")
	b.ReportMetric(float64(upRebuilds)/float64(reconciles), "upstream-rebuilds/reconcile")
}

// TestHeartbeatsDoNotRebuild is the property BenchmarkReconcileChurn
// measures, as a test: re-resolving after a heartbeat never changes what a
// client is built from.
func TestHeartbeatsDoNotRebuild(t *testing.T) {
	t.Parallel()
	p := exampleProviders(t)
	cp := richProfile()
	cp.Status.AccessProviders[0].Cluster.Extensions[1] = ext(envsExt, `{"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t", "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/"}`)
	p = mustProviders(t, func() access.Provider {
		pv, _ := p.Provider("aks-workload-identity")
		pv.AllowedProfileEnvVars = append(pv.AllowedProfileEnvVars, "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST")
		return pv
	}())
	first := mustResolve(t, p, cp)
	for round := 0; round < 20; round++ {
		cp.Status.Conditions[0].LastTransitionTime = metav1.Unix(int64(round), 0)
		a := mustResolve(t, p, cp)
		if a.Fingerprint() != first.Fingerprint() || !sameAccess(a.RESTConfig(), first.RESTConfig()) {
			t.Fatalf("round %d: access changed on a heartbeat", round)
		}
	}
}
