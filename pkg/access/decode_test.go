package access_test

import (
	"strings"
	"testing"

	"github.com/cpaccess/cpaccess/pkg/access"
)

func TestDecodeClusterProfiles(t *testing.T) {
	t.Parallel()
	const good = `apiVersion: multicluster.x-k8s.io/v1alpha1
kind: ClusterProfile
metadata: {name: bravelion, namespace: fleet-system}
spec: {clusterManager: {name: kubefleet}}
`
	const smuggled = `apiVersion: multicluster.x-k8s.io/v1alpha1
kind: ClusterProfile
metadata: {name: swiftfox, namespace: fleet-system}
status:
  accessProviders:
  - name: aks
    cluster:
      server: https://swiftfox.example
      server: https://attacker.example
`
	cps, err := access.DecodeClusterProfiles(strings.NewReader(good+"---\n"+smuggled+"---\n"+strings.Replace(good, "bravelion", "third", 1)), "fleet.yaml")
	if err == nil || !strings.Contains(err.Error(), "fleet.yaml") || !strings.Contains(err.Error(), "server") {
		t.Fatalf("a duplicate key was accepted or not named: %v", err)
	}
	if len(cps) != 2 || cps[0].Name != "bravelion" || cps[1].Name != "third" {
		t.Fatalf("profiles = %d, want the two good ones", len(cps))
	}
	for _, cp := range cps {
		if cp.Name == "swiftfox" {
			t.Fatal("the profile with a duplicate key was returned")
		}
	}
}
