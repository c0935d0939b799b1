package access_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"sigs.k8s.io/yaml"

	"github.com/cpaccess/cpaccess/internal/profiles"
	"github.com/cpaccess/cpaccess/pkg/access"
)

const (
	argsExt = access.ExtensionAdditionalArgs
	envsExt = access.ExtensionAdditionalEnvs
	execExt = access.ExtensionExec
	v1      = access.ExecAPIVersionV1
)

// testCA returns a PEM CA certificate, generated once per test binary.
var testCA = sync.OnceValue(func() []byte { return newCA("test-ca") })

func newCA(cn string) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func ext(name, raw string) clientcmdv1.NamedExtension {
	return clientcmdv1.NamedExtension{Name: name, Extension: runtime.RawExtension{Raw: []byte(raw)}}
}

func cluster(server string, exts ...clientcmdv1.NamedExtension) clientcmdv1.Cluster {
	return clientcmdv1.Cluster{Server: server, CertificateAuthorityData: testCA(), Extensions: exts}
}

func ap(name string, c clientcmdv1.Cluster) v1alpha1.AccessProvider {
	return v1alpha1.AccessProvider{Name: name, Cluster: c}
}

func profile(ns, name string, aps ...v1alpha1.AccessProvider) *v1alpha1.ClusterProfile {
	return &v1alpha1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.ClusterProfileSpec{ClusterManager: v1alpha1.ClusterManager{Name: "kubefleet"}},
		Status: v1alpha1.ClusterProfileStatus{
			AccessProviders: aps,
			Conditions: []metav1.Condition{{
				Type: v1alpha1.ClusterConditionControlPlaneHealthy, Status: metav1.ConditionTrue,
				Reason: "Healthy", LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
			}},
		},
	}
}

// aksProvider is the provider of the AKS example with the given policies.
func aksProvider(argsPolicy access.CLIArgsPolicy, envPolicy access.EnvVarsPolicy) access.Provider {
	return access.Provider{
		Name: "aks",
		ExecConfig: &access.ExecConfig{
			APIVersion: access.ExecAPIVersionV1beta1,
			Command:    "kubelogin",
			Args:       []string{"get-token", "--login", "workloadidentity", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"},
			Env:        []access.EnvVar{{Name: "AZURE_CLIENT_ID", Value: "provider-client"}, {Name: "B_SETTING", Value: "b"}},
		},
		ProfileSourcedCLIArgsPolicy: argsPolicy,
		ProfileSourcedEnvVarsPolicy: envPolicy,
	}
}

func mustProviders(t testing.TB, list ...access.Provider) *access.Providers {
	t.Helper()
	p, err := access.NewProviders(list, "test")
	if err != nil {
		t.Fatalf("NewProviders: %v", err)
	}
	return p
}

func mustResolve(t testing.TB, p *access.Providers, cp *v1alpha1.ClusterProfile) *access.Access {
	t.Helper()
	a, err := p.Resolve(cp)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return a
}

// loadProfile reads the single ClusterProfile of a testdata file.
func loadProfile(t testing.TB, name string) *v1alpha1.ClusterProfile {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "profiles", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cps, err := profiles.Decode(f, name)
	if err != nil || len(cps) != 1 {
		t.Fatalf("Decode %s: %d profiles, %v", name, len(cps), err)
	}
	return cps[0]
}

// runtimeDecode decodes kubeconfig YAML into its v1 (wire) form.
func runtimeDecode(data []byte, into *clientcmdv1.Config) error {
	return yaml.Unmarshal(data, into)
}
