package access_test

import (
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
	providers, _ := access.NewProviders([]access.Provider{{
		Name:                        "aks",
		ExecConfig:                  &access.ExecConfig{APIVersion: access.ExecAPIVersionV1, Command: "kubelogin"},
		ProfileSourcedCLIArgsPolicy: access.CLIArgsAppend,
	}}, "providers.yaml")
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
	_, err := providers.Resolve(cp)
	fmt.Println(err)
	// Output:
	// failed to resolve ClusterProfile fleet-system/bravelion: access provider "aks": extension "clusterprofiles.multicluster.x-k8s.io/exec/additional-args": expected a list of strings or the object form {"args": [...]}, found a string
}
