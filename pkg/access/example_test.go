package access_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/pkg/access"
)

// Resolve a ClusterProfile for an app signing in to AKS with Microsoft Entra
// Workload ID, and render it as a rest.Config.
func Example() {
	providers, err := access.ParseProviderFile([]byte(`
providers:
- name: aks-workload-identity
  execConfig:
    apiVersion: client.authentication.k8s.io/v1beta1
    command: kubelogin
    args: [get-token, --login, workloadidentity, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,
           --federated-token-file, /var/run/secrets/tokens/azure-identity-token]
  profileSourcedCLIArgsPolicy: Append
  profileSourcedEnvVarsPolicy: Replace
`), "providers.yaml")
	if err != nil {
		log.Fatal(err)
	}

	cp := &v1alpha1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Namespace: "fleet-system", Name: "bravelion"},
		Status: v1alpha1.ClusterProfileStatus{AccessProviders: []v1alpha1.AccessProvider{{
			Name: "aks-workload-identity",
			Cluster: clientcmdv1.Cluster{
				Server: "https://bravelion.hcp.westeurope.azmk8s.io:443",
				Extensions: []clientcmdv1.NamedExtension{
					{Name: access.ExtensionAdditionalArgs, Extension: runtime.RawExtension{
						Raw: []byte(`{"args": ["--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47"]}`)}},
					{Name: access.ExtensionAdditionalEnvs, Extension: runtime.RawExtension{
						Raw: []byte(`{"AZURE_CLIENT_ID": "3f1b2c9e-8a47-4d6e-9b1f-5c2a7e8d4f60"}`)}},
				},
			},
		}}},
	}

	a, err := providers.Resolve(cp)
	if err != nil {
		log.Fatal(err)
	}
	cfg := a.RESTConfig()
	fmt.Println("provider:", a.Provider)
	fmt.Println("host:", cfg.Host)
	fmt.Println("exec:", cfg.ExecProvider.Command, strings.Join(cfg.ExecProvider.Args, " "))
	for _, e := range cfg.ExecProvider.Env {
		fmt.Printf("env: %s=%s\n", e.Name, e.Value)
	}
	fmt.Println("interactive:", cfg.ExecProvider.InteractiveMode)
	// Output:
	// provider: aks-workload-identity
	// host: https://bravelion.hcp.westeurope.azmk8s.io:443
	// exec: kubelogin get-token --login workloadidentity --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 --federated-token-file /var/run/secrets/tokens/azure-identity-token --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47
	// env: AZURE_CLIENT_ID=3f1b2c9e-8a47-4d6e-9b1f-5c2a7e8d4f60
	// interactive: Never
}

// A malformed extension is reported with the profile, the provider and the
// extension at fault.
func ExampleProviders_Resolve_error() {
	providers, err := access.NewProviders([]access.Provider{{
		Name:                        "aks",
		ExecConfig:                  &access.ExecConfig{APIVersion: access.ExecAPIVersionV1, Command: "kubelogin"},
		ProfileSourcedCLIArgsPolicy: access.CLIArgsAppend,
		AllowedProfileArgs:          []string{"--tenant-id"},
	}}, "providers.yaml")
	if err != nil {
		log.Fatal(err)
	}
	cp := &v1alpha1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Namespace: "fleet-system", Name: "bravelion"},
		Status: v1alpha1.ClusterProfileStatus{AccessProviders: []v1alpha1.AccessProvider{{
			Name: "aks",
			Cluster: clientcmdv1.Cluster{
				Server: "https://bravelion.example",
				Extensions: []clientcmdv1.NamedExtension{{Name: access.ExtensionAdditionalArgs,
					Extension: runtime.RawExtension{Raw: []byte(`"--tenant-id t"`)}}},
			},
		}}},
	}
	_, err = providers.Resolve(cp)
	fmt.Println(err)

	var re *access.ResolveError
	if errors.As(err, &re) {
		fmt.Printf("profile %s, provider %s, field %s\n", re.Profile, re.Provider, re.Field)
	}
	// Output:
	// failed to resolve ClusterProfile fleet-system/bravelion: access provider "aks": extension "clusterprofiles.multicluster.x-k8s.io/exec/additional-args": expected a list of strings or the object form {"args": [...]}, found a string
	// profile fleet-system/bravelion, provider aks, field extension "clusterprofiles.multicluster.x-k8s.io/exec/additional-args"
}

// bravelion is a small profile for the examples below.
func bravelion(tenant string) *v1alpha1.ClusterProfile {
	return &v1alpha1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Namespace: "fleet-system", Name: "bravelion"},
		Status: v1alpha1.ClusterProfileStatus{AccessProviders: []v1alpha1.AccessProvider{{
			Name: "aks",
			Cluster: clientcmdv1.Cluster{
				Server: "https://bravelion.example:443",
				Extensions: []clientcmdv1.NamedExtension{{Name: access.ExtensionAdditionalArgs,
					Extension: runtime.RawExtension{Raw: []byte(`{"args": ["--tenant-id", "` + tenant + `"]}`)}}},
			},
		}}},
	}
}

func docProviders() *access.Providers {
	providers, err := access.NewProviders([]access.Provider{{
		Name: "aks",
		ExecConfig: &access.ExecConfig{APIVersion: access.ExecAPIVersionV1beta1, Command: "kubelogin",
			Args: []string{"get-token", "--login", "workloadidentity", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"}},
		ProfileSourcedCLIArgsPolicy: access.CLIArgsAppend,
		AllowedProfileArgs:          []string{"--tenant-id"},
	}}, "providers.yaml")
	if err != nil {
		log.Fatal(err)
	}
	return providers
}

// A controller keeps a client per cluster and rebuilds it only when the
// fingerprint changes: status heartbeats leave it alone, a new tenant does
// not.
func ExampleAccess_Fingerprint() {
	providers := docProviders()
	cp := bravelion("tenant-a")
	first, _ := providers.Resolve(cp)

	cp.Status.Conditions = []metav1.Condition{{Type: "ControlPlaneHealthy", Status: "True", LastTransitionTime: metav1.Now()}}
	cp.Status.Version.Kubernetes = "v1.34.1"
	heartbeat, _ := providers.Resolve(cp)
	fmt.Println("after a heartbeat, rebuild:", heartbeat.Fingerprint() != first.Fingerprint())

	moved, _ := providers.Resolve(bravelion("tenant-b"))
	fmt.Println("after a tenant change, rebuild:", moved.Fingerprint() != first.Fingerprint())
	// Output:
	// after a heartbeat, rebuild: false
	// after a tenant change, rebuild: true
}

// Render resolved profiles as a kubeconfig: one cluster, user and context
// each, named <namespace>/<name>. WriteKubeconfig writes or merges it into
// a file atomically with mode 0600.
func ExampleNewKubeconfig() {
	a, err := docProviders().Resolve(bravelion("tenant-a"))
	if err != nil {
		log.Fatal(err)
	}
	data, err := access.EncodeKubeconfig(access.NewKubeconfig([]*access.Access{a}, nil))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(data))
	// Output:
	// apiVersion: v1
	// clusters:
	// - cluster:
	//     server: https://bravelion.example:443
	//   name: fleet-system/bravelion
	// contexts:
	// - context:
	//     cluster: fleet-system/bravelion
	//     user: fleet-system/bravelion
	//   name: fleet-system/bravelion
	// current-context: fleet-system/bravelion
	// kind: Config
	// users:
	// - name: fleet-system/bravelion
	//   user:
	//     exec:
	//       apiVersion: client.authentication.k8s.io/v1beta1
	//       args:
	//       - get-token
	//       - --login
	//       - workloadidentity
	//       - --server-id
	//       - 6dae42f8-4368-4678-94ff-3960e28e3630
	//       - --tenant-id
	//       - tenant-a
	//       command: kubelogin
	//       env: []
	//       interactiveMode: Never
	//       provideClusterInfo: false
}
