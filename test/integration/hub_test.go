package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	"sigs.k8s.io/cluster-inventory-api/client/clientset/versioned"

	"github.com/cpaccess/cpaccess/internal/cli"
	"github.com/cpaccess/cpaccess/internal/kubecluster"
	"github.com/cpaccess/cpaccess/internal/profiles"
	"github.com/cpaccess/cpaccess/pkg/access"
)

const (
	exampleDir   = "../../examples/aks-workload-identity"
	providerFile = exampleDir + "/providers.yaml"
	profileFile  = exampleDir + "/clusterprofile.yaml"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Run(context.Background(), cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return out.String(), errOut.String(), code
}

// storeProfile creates cp on the hub, then sets its status through the
// status subresource, as a cluster manager does.
func storeProfile(ctx context.Context, t *testing.T, cs versioned.Interface, cp *v1alpha1.ClusterProfile) (*v1alpha1.ClusterProfile, error) {
	t.Helper()
	client := cs.ApisV1alpha1().ClusterProfiles(cp.Namespace)
	obj := cp.DeepCopy()
	obj.Status = v1alpha1.ClusterProfileStatus{}
	created, err := client.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	created.Status = cp.Status
	return client.UpdateStatus(ctx, created, metav1.UpdateOptions{})
}

func TestHubRoundTrip(t *testing.T) {
	kubecluster.RequireBinaries(t, "etcd", "kube-apiserver")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	hub, err := kubecluster.Start(ctx, kubecluster.Options{WorkDir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Stop() })
	if err := kubecluster.InstallClusterProfileCRD(ctx, hub.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	cs, err := versioned.NewForConfig(hub.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	createNamespace(ctx, t, hub, "fleet-system")

	f, err := os.Open(profileFile)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := profiles.Decode(f, profileFile)
	f.Close()
	if err != nil || len(cps) != 1 {
		t.Fatalf("example: %d profiles, %v", len(cps), err)
	}
	example := cps[0]
	stored, err := storeProfile(ctx, t, cs, example)
	if err != nil {
		t.Fatalf("the example profile must be storable on a real hub: %v", err)
	}
	if len(stored.Status.AccessProviders) != 1 || len(stored.Status.AccessProviders[0].Cluster.Extensions) != 2 {
		t.Fatalf("status not stored whole: %+v", stored.Status)
	}

	// A second profile, unhealthy, in another namespace, and one with a
	// label selector match.
	createNamespace(ctx, t, hub, "other")
	second := example.DeepCopy()
	second.Namespace, second.Name = "other", "swiftfox"
	second.Labels = map[string]string{"env": "prod"}
	second.Status.AccessProviders[0].Cluster.Server = "https://swiftfox.example:443"
	second.Status.Conditions[0].Status = metav1.ConditionFalse
	second.Status.Conditions[0].Reason = "Unreachable"
	second.Status.Conditions[0].Message = "no answer for 5m"
	if _, err := storeProfile(ctx, t, cs, second); err != nil {
		t.Fatal(err)
	}

	t.Run("hub mode returns exactly what file mode returns", func(t *testing.T) {
		fileOut, fileErr, code := runCLI(t, "kubeconfig", "--provider-file", providerFile, "-f", profileFile)
		if code != 0 {
			t.Fatalf("file mode: exit %d: %s", code, fileErr)
		}
		for _, args := range [][]string{
			{"--hub", "-n", "fleet-system", "bravelion"},
			{"--hub", "-n", "fleet-system"},
			{"--hub", "-n", "fleet-system", "-l", "x-k8s.io/cluster-manager=kubefleet"},
		} {
			hubOut, hubErr, code := runCLI(t, append([]string{"kubeconfig", "--provider-file", providerFile, "--kubeconfig", hub.AdminKubeconfig()}, args...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, hubErr)
			}
			if hubOut != fileOut {
				t.Errorf("%v: hub mode differs from file mode:\n--- hub\n%s\n--- file\n%s", args, hubOut, fileOut)
			}
			if hubErr != fileErr {
				t.Errorf("%v: stderr differs: hub %q, file %q", args, hubErr, fileErr)
			}
		}
	})

	t.Run("library resolves the stored profile like the file one", func(t *testing.T) {
		p, err := access.LoadProviderFile(providerFile)
		if err != nil {
			t.Fatal(err)
		}
		fromHub, err := cs.ApisV1alpha1().ClusterProfiles("fleet-system").Get(ctx, "bravelion", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := p.Resolve(fromHub)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.Resolve(example)
		if err != nil {
			t.Fatal(err)
		}
		if a.Fingerprint() != b.Fingerprint() {
			t.Errorf("fingerprints differ: hub %s, file %s", a.Fingerprint(), b.Fingerprint())
		}
	})

	t.Run("all namespaces, warnings and a missing name", func(t *testing.T) {
		out, errOut, code := runCLI(t, "kubeconfig", "--provider-file", providerFile, "--kubeconfig", hub.AdminKubeconfig(), "--hub", "-A")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, "name: fleet-system/bravelion") || !strings.Contains(out, "name: other/swiftfox") || strings.Contains(out, "current-context: fleet") || strings.Contains(out, "current-context: other") {
			t.Errorf("kubeconfig:\n%s", out)
		}
		if !strings.Contains(errOut, "warning: ClusterProfile other/swiftfox: condition ControlPlaneHealthy is False (Unreachable: no answer for 5m)") {
			t.Errorf("no warning for the unhealthy profile: %q", errOut)
		}

		out, errOut, code = runCLI(t, "kubeconfig", "--provider-file", providerFile, "--kubeconfig", hub.AdminKubeconfig(), "--hub", "-A", "-l", "env=prod")
		if code != 0 || !strings.Contains(out, "other/swiftfox") || strings.Contains(out, "bravelion") {
			t.Errorf("selector: exit %d\n%s\n%s", code, out, errOut)
		}

		out, errOut, code = runCLI(t, "kubeconfig", "--provider-file", providerFile, "--kubeconfig", hub.AdminKubeconfig(), "--hub", "-n", "fleet-system", "bravelion", "nosuch")
		if code != 1 || !strings.Contains(out, "fleet-system/bravelion") || !strings.Contains(errOut, "fleet-system/nosuch: not found on the hub") {
			t.Errorf("missing name: exit %d\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("context namespace of the hub kubeconfig is the default", func(t *testing.T) {
		kc := filepath.Join(t.TempDir(), "hub")
		data, err := os.ReadFile(hub.AdminKubeconfig())
		if err != nil {
			t.Fatal(err)
		}
		var cfg clientcmdv1.Config
		if err := jsonOrYAML(data, &cfg); err != nil {
			t.Fatal(err)
		}
		for i := range cfg.Contexts {
			cfg.Contexts[i].Context.Namespace = "other"
		}
		writeYAML(t, kc, &cfg)
		out, errOut, code := runCLI(t, "kubeconfig", "--provider-file", providerFile, "--kubeconfig", kc, "--hub")
		if code != 0 || !strings.Contains(out, "other/swiftfox") || strings.Contains(out, "bravelion") {
			t.Errorf("exit %d\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("a real API server rejects the list form of additional-args", func(t *testing.T) {
		listForm := example.DeepCopy()
		listForm.Name = "listform"
		listForm.Status.AccessProviders[0].Cluster.Extensions[0] = clientcmdv1.NamedExtension{
			Name:      access.ExtensionAdditionalArgs,
			Extension: runtime.RawExtension{Raw: []byte(`["--tenant-id","t"]`)},
		}
		_, err := storeProfile(ctx, t, cs, listForm)
		if err == nil || !strings.Contains(err.Error(), "must be of type object") {
			t.Fatalf("err = %v, want the CRD's 'must be of type object' rejection", err)
		}
	})
}

func createNamespace(ctx context.Context, t *testing.T, c *kubecluster.Cluster, name string) {
	t.Helper()
	cs, err := kubernetesClient(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs(ctx, name); err != nil {
		t.Fatal(err)
	}
}

func jsonOrYAML(data []byte, into any) error {
	j, err := yamlToJSON(data)
	if err != nil {
		return err
	}
	return json.Unmarshal(j, into)
}
