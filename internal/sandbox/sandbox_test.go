package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cpaccess/cpaccess/internal/kubecluster"
	"github.com/cpaccess/cpaccess/internal/sandbox"
	"github.com/cpaccess/cpaccess/pkg/access"
	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

// TestSandbox checks the chain the sandbox sets up without cpaccess: the
// real kubelogin, run by hand with the provider's and the profile's
// arguments, exchanges the hub token at the emulator, and the member accepts
// the result as the app's object id.
func TestSandbox(t *testing.T) {
	kubecluster.RequireBinaries(t, "etcd", "kube-apiserver", "kubelogin", "kubectl")
	ctx := t.Context()
	sb, err := sandbox.Start(ctx, sandbox.Options{WorkDir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})

	cp, err := sb.GetProfile(ctx, sandbox.ProfileName)
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Status.AccessProviders) != 1 || cp.Status.AccessProviders[0].Cluster.Server != sb.Member().Server() {
		t.Fatalf("profile access providers = %+v, want the member", cp.Status.AccessProviders)
	}
	if fi, err := os.Stat(sb.FederatedTokenFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("federated token file: %v, %v; want mode 0600", fi, err)
	}
	// The bundle for a shell: system roots, then the emulator's CA.
	bundle, err := os.ReadFile(sb.CABundleFile())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(bundle, sb.Emulator().CAPEM()) {
		t.Error("the CA bundle does not end with the emulator's CA")
	}
	if sb.CABundleSource() != "" && bytes.Count(bundle, []byte("BEGIN CERTIFICATE")) < 2 {
		t.Errorf("the CA bundle holds no system roots from %s", sb.CABundleSource())
	}
	// The provider file has allow lists: no warning.
	providers, err := access.LoadProviderFile(sb.ProviderFile())
	if err != nil {
		t.Fatal(err)
	}
	if w := providers.Warnings(); len(w) != 0 {
		t.Errorf("provider file warnings: %q", w)
	}

	env, err := sb.FreshEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "AZURE_") || strings.HasPrefix(kv, "KUBECONFIG=") {
			t.Errorf("Env() carries %s", strings.SplitN(kv, "=", 2)[0])
		}
	}
	id := sb.Primary()
	before := sb.Emulator().Stats().Count(entraemulator.EndpointToken, entraemulator.OutcomeOK)
	token := kubeloginToken(ctx, t, sb, env, id)
	if got := sb.Emulator().Stats().Count(entraemulator.EndpointToken, entraemulator.OutcomeOK) - before; got != 1 {
		t.Errorf("emulator token exchanges = %d, want 1", got)
	}
	cfg := &rest.Config{Host: sb.Member().Server(), BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: sb.Member().CAPEM()}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview on the member: %v", err)
	}
	if review.Status.UserInfo.Username != id.ObjectID {
		t.Errorf("member username = %q, want the app's object id %q", review.Status.UserInfo.Username, id.ObjectID)
	}
	if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list namespaces on the member: %v", err)
	}
	if _, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("listing pods on the member succeeded; the sandbox grants only namespaces")
	}
	reqs := sb.EmulatorRequests()
	if !slices.ContainsFunc(reqs, func(r sandbox.EmulatorRequest) bool {
		return r.Endpoint == entraemulator.EndpointToken && r.Tenant == id.TenantID && r.ClientID == id.ClientID && r.Outcome == entraemulator.OutcomeOK
	}) {
		t.Errorf("emulator requests %+v lack a successful token request of tenant %s", reqs, id.TenantID)
	}
}

func kubeloginToken(ctx context.Context, t *testing.T, sb *sandbox.Sandbox, env []string, id sandbox.Identity) string {
	t.Helper()
	args := []string{"get-token", "--login", "workloadidentity", "--server-id", sandbox.AKSServerAppID,
		"--federated-token-file", sb.FederatedTokenFile(),
		"--tenant-id", id.TenantID, "--client-id", id.ClientID,
		"--authority-host", sb.Emulator().AuthorityHost(), "--disable-instance-discovery"}
	cmd := exec.CommandContext(ctx, sb.KubeloginPath(), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubelogin get-token: %v\n%s", err, stderr.String())
	}
	var cred struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &cred); err != nil || cred.Status.Token == "" {
		t.Fatalf("kubelogin printed no ExecCredential token (%v)", err)
	}
	return cred.Status.Token
}
