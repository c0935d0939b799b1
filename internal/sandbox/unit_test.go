package sandbox

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/atomicfile"
	"github.com/cpaccess/cpaccess/pkg/access"
	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

// TestProviderFileAllowLists checks the sandbox's provider file lets a
// profile set the tenant, the authority host with instance discovery off and
// the client id, and nothing else: no provider warning, and a profile adding
// another flag or variable is refused. No cluster is started.
func TestProviderFileAllowLists(t *testing.T) {
	t.Parallel()
	s := &Sandbox{kubelogin: "/opt/bin/kubelogin"}
	path := filepath.Join(t.TempDir(), "providers.yaml")
	if err := atomicfile.Write(path, s.ProviderFileYAML("/var/run/token"), 0o600); err != nil {
		t.Fatal(err)
	}
	providers, err := access.LoadProviderFile(path)
	if err != nil {
		t.Fatalf("LoadProviderFile: %v", err)
	}
	if w := providers.Warnings(); len(w) != 0 {
		t.Errorf("provider warnings: %q", w)
	}
	p, ok := providers.Provider(ProviderName)
	if !ok {
		t.Fatalf("no provider %s", ProviderName)
	}
	if want := []string{"--tenant-id", "--authority-host", "--disable-instance-discovery"}; !slices.Equal(p.AllowedProfileArgs, want) {
		t.Errorf("allowedProfileArgs = %q, want %q", p.AllowedProfileArgs, want)
	}
	if want := []string{"AZURE_CLIENT_ID"}; !slices.Equal(p.AllowedProfileEnvVars, want) {
		t.Errorf("allowedProfileEnvVars = %q, want %q", p.AllowedProfileEnvVars, want)
	}

	id := primaryIdentity
	goodArgs := []string{"--tenant-id", id.TenantID, "--authority-host", "https://127.0.0.1:8443/", "--disable-instance-discovery"}
	goodEnv := map[string]string{"AZURE_CLIENT_ID": id.ClientID}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "what the sandbox publishes", args: goodArgs, env: goodEnv},
		{name: "another flag", args: append(slices.Clone(goodArgs), "--client-id", "x"), env: goodEnv, wantErr: `"--client-id"`},
		{name: "another variable", args: goodArgs, env: map[string]string{"AZURE_CLIENT_ID": id.ClientID, "AZURE_TENANT_ID": id.TenantID}, wantErr: `"AZURE_TENANT_ID"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			argsJSON, _ := json.Marshal(map[string][]string{"args": tt.args})
			envJSON, _ := json.Marshal(tt.env)
			cp := &v1alpha1.ClusterProfile{
				ObjectMeta: metav1.ObjectMeta{Namespace: ProfileNamespace, Name: ProfileName},
				Status: v1alpha1.ClusterProfileStatus{AccessProviders: []v1alpha1.AccessProvider{{
					Name: ProviderName,
					Cluster: clientcmdv1.Cluster{
						Server: "https://127.0.0.1:6443",
						Extensions: []clientcmdv1.NamedExtension{
							{Name: AdditionalArgsExtension, Extension: runtime.RawExtension{Raw: argsJSON}},
							{Name: AdditionalEnvsExtension, Extension: runtime.RawExtension{Raw: envJSON}},
						},
					},
				}}},
			}
			_, err := providers.Resolve(cp)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Resolve: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Resolve = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

// TestCABundle checks the bundle for a shell holds the system roots (from
// SSL_CERT_FILE when set, else the first system bundle found) followed by
// the emulator's CA, and only certificates.
func TestCABundle(t *testing.T) {
	t.Parallel()
	em, err := entraemulator.Start(t.Context(), entraemulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	dir := t.TempDir()
	// Two stand-in root certificates: the emulator's own CA PEM is a
	// convenient valid certificate; a second emulator gives another.
	other, err := entraemulator.Start(t.Context(), entraemulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	systemFile := filepath.Join(dir, "system.pem")
	noise := "# a comment line\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	if err := os.WriteFile(systemFile, append([]byte(noise), other.CAPEM()...), 0o644); err != nil {
		t.Fatal(err)
	}
	userFile := filepath.Join(dir, "user.pem")
	if err := os.WriteFile(userFile, other.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name        string
		sslCertFile string
		candidates  []string
		wantSource  string
		wantCerts   int
	}{
		{"first existing system bundle", "", []string{missing, systemFile}, systemFile, 2},
		{"the shell's SSL_CERT_FILE first", userFile, []string{systemFile}, userFile, 2},
		{"SSL_CERT_FILE missing", missing, []string{systemFile}, systemFile, 2},
		{"no system roots", "", []string{missing}, "", 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &Sandbox{emulator: em, workDir: filepath.Join(dir, "work", string(rune('a'+i))), logf: t.Logf}
			if err := os.MkdirAll(s.workDir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := s.writeCABundle(tt.sslCertFile, tt.candidates); err != nil {
				t.Fatal(err)
			}
			if s.CABundleSource() != tt.wantSource {
				t.Errorf("source = %q, want %q", s.CABundleSource(), tt.wantSource)
			}
			data, err := os.ReadFile(s.CABundleFile())
			if err != nil {
				t.Fatal(err)
			}
			var certs []*x509.Certificate
			for rest := data; ; {
				var block *pem.Block
				block, rest = pem.Decode(rest)
				if block == nil {
					if len(bytes.TrimSpace(rest)) != 0 {
						t.Errorf("bundle holds non-PEM text: %q", rest)
					}
					break
				}
				if block.Type != "CERTIFICATE" {
					t.Errorf("bundle holds a %s block", block.Type)
					continue
				}
				c, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				certs = append(certs, c)
			}
			if len(certs) != tt.wantCerts {
				t.Fatalf("bundle holds %d certificates, want %d", len(certs), tt.wantCerts)
			}
			if !bytes.HasSuffix(data, em.CAPEM()) {
				t.Error("the bundle does not end with the emulator's CA")
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(data) {
				t.Error("the bundle does not load as a cert pool")
			}
		})
	}
}
