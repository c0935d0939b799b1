package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cpaccess/cpaccess/cmd/cpaccess-sandbox/app"
	"github.com/cpaccess/cpaccess/internal/atomicfile"
	"github.com/cpaccess/cpaccess/internal/sandbox"
	"github.com/cpaccess/cpaccess/pkg/access"
	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

const profileContext = sandbox.ProfileNamespace + "/" + sandbox.ProfileName

// TestKubeconfigFromHub is the happy path through the CLI: the kubeconfig
// cpaccess writes from the hub's profile makes kubectl sign in through the
// real kubelogin at the emulator, and the member sees the app's object id.
func TestKubeconfigFromHub(t *testing.T) {
	sb := setup(t)
	env := freshEnv(t)
	id := sb.Primary()
	kubeconfig := generateKubeconfig(t, env, sb.ProviderFile(), sandbox.ProfileName)

	fi, err := os.Stat(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode = %v, want 0600", fi.Mode().Perm())
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatalf("clientcmd cannot load the kubeconfig: %v", err)
	}
	if cfg.CurrentContext != profileContext {
		t.Errorf("current-context = %q, want %q", cfg.CurrentContext, profileContext)
	}
	user := cfg.AuthInfos[profileContext]
	if user == nil || user.Exec == nil {
		t.Fatalf("kubeconfig has no exec user %q: %+v", profileContext, cfg.AuthInfos)
	}
	wantArgs := []string{"get-token", "--login", "workloadidentity", "--server-id", sandbox.AKSServerAppID,
		"--federated-token-file", sb.FederatedTokenFile(),
		"--tenant-id", id.TenantID, "--authority-host", sb.Emulator().AuthorityHost(), "--disable-instance-discovery"}
	if user.Exec.Command != sb.KubeloginPath() || !slices.Equal(user.Exec.Args, wantArgs) {
		t.Errorf("exec = %s %q, want %s %q", user.Exec.Command, user.Exec.Args, sb.KubeloginPath(), wantArgs)
	}
	if !slices.Equal(user.Exec.Env, []clientcmdapi.ExecEnvVar{{Name: "AZURE_CLIENT_ID", Value: id.ClientID}}) {
		t.Errorf("exec env = %+v, want AZURE_CLIENT_ID=%s", user.Exec.Env, id.ClientID)
	}
	if c := cfg.Clusters[profileContext]; c == nil || c.Server != sb.Member().Server() {
		t.Errorf("cluster = %+v, want server %s", c, sb.Member().Server())
	}

	mark := markEmulator(sb)
	r := kubectl(t, env, "--kubeconfig", kubeconfig, "get", "namespaces", "-o", "name")
	if r.err != nil {
		t.Fatalf("kubectl get namespaces failed:\n%s", r)
	}
	if !strings.Contains(r.stdout, "namespace/kube-system") {
		t.Errorf("kubectl get namespaces printed %q, want namespace/kube-system among them", r.stdout)
	}
	mark.expectTokens(t, id, 1)

	if got := whoami(t, env, kubeconfig); got != id.ObjectID {
		t.Errorf("member username = %q, want the app's object id %q", got, id.ObjectID)
	}
}

// TestRESTConfigFromLibrary is the happy path through the library:
// LoadProviderFile, Resolve and RESTConfig give a client-go config that signs
// in with the real kubelogin.
//
// client-go runs the exec plugin with this process's environment followed by
// ExecProvider.Env (for duplicate names the last value wins). TestMain has
// removed every AZURE_*/AAD_* override from the process environment once,
// before any test; the per-test settings (trust the emulator, a fresh cache)
// are appended to ExecProvider.Env here. This keeps tests independent without
// mutating the process environment while tests run.
func TestRESTConfigFromLibrary(t *testing.T) {
	sb := setup(t)
	id := sb.Primary()
	providers, err := access.LoadProviderFile(sb.ProviderFile())
	if err != nil {
		t.Fatalf("LoadProviderFile: %v", err)
	}
	cp, err := sb.GetProfile(t.Context(), sandbox.ProfileName)
	if err != nil {
		t.Fatal(err)
	}
	a, err := providers.Resolve(cp)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	cfg := a.RESTConfig()
	if cfg.Host != sb.Member().Server() || cfg.ExecProvider == nil || cfg.ExecProvider.Command != sb.KubeloginPath() {
		t.Fatalf("RESTConfig host %q exec %+v, want the member and kubelogin", cfg.Host, cfg.ExecProvider)
	}
	home := t.TempDir()
	for _, kv := range []string{"SSL_CERT_FILE=" + sb.EmulatorCAFile(), "HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, ".cache")} {
		name, value, _ := strings.Cut(kv, "=")
		cfg.ExecProvider.Env = append(cfg.ExecProvider.Env, clientcmdapi.ExecEnvVar{Name: name, Value: value})
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	mark := markEmulator(sb)
	nss, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list namespaces on the member: %v", err)
	}
	if !slices.ContainsFunc(nss.Items, func(ns corev1.Namespace) bool { return ns.Name == "kube-system" }) {
		t.Errorf("namespaces %v lack kube-system", nss.Items)
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview: %v", err)
	}
	if review.Status.UserInfo.Username != id.ObjectID {
		t.Errorf("member username = %q, want %q", review.Status.UserInfo.Username, id.ObjectID)
	}
	// client-go keeps the credential for the process: one exchange for both calls.
	mark.expectTokens(t, id, 1)
}

// TestSubjectNotFederated: the app runs as a service account no federated
// credential trusts; Entra's AADSTS70021 reaches kubectl's stderr.
func TestSubjectNotFederated(t *testing.T) {
	sb := setup(t)
	const saName = "unfederated-app"
	if err := sb.CreateServiceAccount(t.Context(), sandbox.AppNamespace, saName); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := sb.WriteFederatedToken(t.Context(), sandbox.AppNamespace, saName, tokenFile); err != nil {
		t.Fatal(err)
	}
	providerFile := filepath.Join(dir, "providers.yaml")
	if err := sb.WriteProviderFile(providerFile, tokenFile); err != nil {
		t.Fatal(err)
	}
	env := freshEnv(t)
	kubeconfig := generateKubeconfig(t, env, providerFile, sandbox.ProfileName)
	mark := markEmulator(sb)
	r := expectSignInFailure(t, env, kubeconfig)
	expectStderr(t, r, "AADSTS70021", "No matching federated identity record",
		"system:serviceaccount:"+sandbox.AppNamespace+":"+saName)
	mark.expectTokenErrors(t, "AADSTS70021")
}

// TestExpiredAssertion: the federated token has expired (forged with the
// hub's own signing key, since TokenRequest cannot issue expired tokens);
// Entra's AADSTS700024 reaches kubectl's stderr. The same token re-signed
// with valid times signs in, so the expiry is what fails.
func TestExpiredAssertion(t *testing.T) {
	sb := setup(t)
	real, err := sb.FederatedToken(t.Context(), sandbox.AppNamespace, sandbox.AppServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwtClaims(t, real)
	now := time.Now()
	forge := func(iat, exp time.Time) string {
		c := map[string]any{}
		for k, v := range claims {
			c[k] = v
		}
		c["iat"], c["nbf"], c["exp"] = iat.Unix(), iat.Unix(), exp.Unix()
		token, err := sb.Hub().SignServiceAccountJWT(c)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}

	kubeconfigFor := func(t *testing.T, token string) (string, []string) {
		dir := t.TempDir()
		tokenFile := filepath.Join(dir, "token")
		if err := atomicfile.Write(tokenFile, []byte(token), 0o600); err != nil {
			t.Fatal(err)
		}
		providerFile := filepath.Join(dir, "providers.yaml")
		if err := sb.WriteProviderFile(providerFile, tokenFile); err != nil {
			t.Fatal(err)
		}
		env := freshEnv(t)
		return generateKubeconfig(t, env, providerFile, sandbox.ProfileName), env
	}

	t.Run("control: valid times", func(t *testing.T) {
		kubeconfig, env := kubeconfigFor(t, forge(now.Add(-time.Minute), now.Add(time.Hour)))
		mark := markEmulator(sb)
		if r := kubectl(t, env, "--kubeconfig", kubeconfig, "get", "namespaces"); r.err != nil {
			t.Fatalf("a re-signed token with valid times did not sign in:\n%s", r)
		}
		mark.expectTokens(t, sb.Primary(), 1)
	})
	t.Run("expired", func(t *testing.T) {
		kubeconfig, env := kubeconfigFor(t, forge(now.Add(-2*time.Hour), now.Add(-time.Hour)))
		mark := markEmulator(sb)
		r := expectSignInFailure(t, env, kubeconfig)
		expectStderr(t, r, "AADSTS700024", "not within its valid time range", "failed to get token")
		mark.expectTokenErrors(t, "AADSTS700024")
	})
}

// TestUnknownClient: the profile names a client id the tenant does not know.
func TestUnknownClient(t *testing.T) {
	sb := setup(t)
	id := sb.Primary()
	id.ClientID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	kubeconfig := profileKubeconfig(t, "unknown-client", id, sb.Emulator().AuthorityHost())
	env := freshEnv(t)
	mark := markEmulator(sb)
	r := expectSignInFailure(t, env, kubeconfig)
	expectStderr(t, r, "AADSTS700016", id.ClientID, id.TenantID)
	mark.expectTokenErrors(t, "AADSTS700016")
}

// TestUnknownTenant: the profile names a tenant Entra does not know;
// kubelogin fails at the tenant's discovery document.
func TestUnknownTenant(t *testing.T) {
	sb := setup(t)
	id := sb.Primary()
	id.TenantID = "d4c3b2a1-0f9e-4d8c-a7b6-5e4d3c2b1a09"
	kubeconfig := profileKubeconfig(t, "unknown-tenant", id, sb.Emulator().AuthorityHost())
	env := freshEnv(t)
	mark := markEmulator(sb)
	r := expectSignInFailure(t, env, kubeconfig)
	expectStderr(t, r, "AADSTS90002", id.TenantID)
	reqs := mark.requests()
	if !slices.ContainsFunc(reqs, func(q sandbox.EmulatorRequest) bool { return q.Tenant == id.TenantID && q.Code == "AADSTS90002" }) {
		t.Errorf("emulator requests %+v: want one answered AADSTS90002 for tenant %s", reqs, id.TenantID)
	}
	if n := mark.stats().Count(entraemulator.EndpointToken, entraemulator.OutcomeOK); n != 0 {
		t.Errorf("emulator issued %d tokens, want 0", n)
	}
}

// TestEmulatorDown: the profile's authority host is an emulator that has
// shut down; kubelogin reports the connection failure.
func TestEmulatorDown(t *testing.T) {
	sb := setup(t)
	down, err := entraemulator.Start(t.Context(), entraemulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	authority := down.AuthorityHost()
	if err := down.Close(); err != nil {
		t.Fatal(err)
	}
	kubeconfig := profileKubeconfig(t, "emulator-down", sb.Primary(), authority)
	env := freshEnv(t)
	mark := markEmulator(sb)
	r := expectSignInFailure(t, env, kubeconfig)
	expectStderr(t, r, "connection refused", strings.TrimPrefix(strings.TrimSuffix(authority, "/"), "https://"))
	if n := len(mark.requests()); n != 0 {
		t.Errorf("the sandbox emulator got %d requests meant for the stopped one", n)
	}
}

// Test503Storm: Entra answers 503 with Retry-After; kubelogin (azcore)
// retries three times, then fails with the 503 in kubectl's stderr.
func Test503Storm(t *testing.T) {
	sb := setup(t)
	sb.Emulator().InjectFault(entraemulator.Fault{Endpoint: entraemulator.EndpointToken, Status: 503, RetryAfter: time.Second})
	t.Cleanup(sb.Emulator().ClearFaults)
	env := freshEnv(t)
	kubeconfig := generateKubeconfig(t, env, sb.ProviderFile(), sandbox.ProfileName)
	mark := markEmulator(sb)
	start := time.Now()
	// --raw makes exactly one request, so the plugin runs exactly once.
	r := kubectl(t, env, "--kubeconfig", kubeconfig, "get", "--raw", "/api/v1/namespaces")
	if r.err == nil {
		t.Fatalf("kubectl succeeded while Entra answered 503:\n%s", r)
	}
	expectStderr(t, r, "RESPONSE 503", "AADSTS90033")
	// kubectl runs the failing plugin once or twice (see expectTokenErrors);
	// each run must make 4 POSTs.
	stats, runs := mark.stats(), mark.kubeloginRuns()
	if got := stats.Count(entraemulator.EndpointToken, entraemulator.OutcomeFault); runs == 0 || got != 4*runs {
		t.Errorf("%d kubelogin runs made %d token POSTs (all answered 503), want 4 each (1 + 3 retries); stats %s", runs, got, stats)
	}
	if n := stats.Count(entraemulator.EndpointToken, entraemulator.OutcomeOK); n != 0 {
		t.Errorf("emulator issued %d tokens during the storm", n)
	}
	if elapsed := time.Since(start); elapsed < time.Duration(runs)*3*time.Second {
		t.Errorf("%d kubelogin runs gave up after %v; with Retry-After: 1s three retries take at least 3s each", runs, elapsed)
	}
}

// TestMemberRBACDenied: sign-in works but the member's RBAC only allows
// reading namespaces; the 403 names the app's object id.
func TestMemberRBACDenied(t *testing.T) {
	sb := setup(t)
	id := sb.Primary()
	env := freshEnv(t)
	kubeconfig := generateKubeconfig(t, env, sb.ProviderFile(), sandbox.ProfileName)
	if r := kubectl(t, env, "--kubeconfig", kubeconfig, "get", "namespaces"); r.err != nil {
		t.Fatalf("kubectl get namespaces failed:\n%s", r)
	}
	r := kubectl(t, env, "--kubeconfig", kubeconfig, "get", "pods", "-A")
	if r.err == nil {
		t.Fatalf("listing pods succeeded; the member grants only namespaces:\n%s", r)
	}
	expectStderr(t, r, fmt.Sprintf(`User %q cannot list resource "pods"`, id.ObjectID), "Forbidden")
}

// TestProfileChange: the cluster manager moves the profile to another tenant
// and client; the regenerated kubeconfig carries them, the next sign-in goes
// to the other tenant, and the member sees the other app.
func TestProfileChange(t *testing.T) {
	sb := setup(t)
	primary, secondary := sb.Primary(), sb.Secondary()
	env := freshEnv(t)
	kubeconfig := generateKubeconfig(t, env, sb.ProviderFile(), sandbox.ProfileName)
	if got := whoami(t, env, kubeconfig); got != primary.ObjectID {
		t.Fatalf("before the change the member sees %q, want %q", got, primary.ObjectID)
	}

	t.Cleanup(func() {
		// t.Context is done during cleanup.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sb.ApplyProfile(ctx, sandbox.ProfileName, sb.ProfileStatus(primary, sb.Emulator().AuthorityHost())); err != nil {
			t.Errorf("failed to restore the profile: %v", err)
		}
	})
	if err := sb.ApplyProfile(t.Context(), sandbox.ProfileName, sb.ProfileStatus(secondary, sb.Emulator().AuthorityHost())); err != nil {
		t.Fatal(err)
	}
	kubeconfig = generateKubeconfig(t, env, sb.ProviderFile(), sandbox.ProfileName)
	data, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{secondary.TenantID, secondary.ClientID} {
		if !strings.Contains(string(data), want) {
			t.Errorf("regenerated kubeconfig lacks %s", want)
		}
	}
	for _, stale := range []string{primary.TenantID, primary.ClientID} {
		if strings.Contains(string(data), stale) {
			t.Errorf("regenerated kubeconfig still carries %s", stale)
		}
	}

	// Same HOME and cache as before the change: a token cached for the
	// first tenant must not be reused for the second.
	mark := markEmulator(sb)
	if got := whoami(t, env, kubeconfig); got != secondary.ObjectID {
		t.Errorf("after the change the member sees %q, want the other app %q", got, secondary.ObjectID)
	}
	mark.expectTokens(t, secondary, 1)
}

// TestDemo runs `cpaccess-sandbox demo` (with its own sandbox) and checks
// that it passes every step without printing a token.
func TestDemo(t *testing.T) {
	setup(t)
	var stdout, stderr bytes.Buffer
	code := app.Run(t.Context(), app.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr},
		[]string{"demo", "--cpaccess", cpaccessBin})
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"Step 5/5", "All 5 steps passed", "token: ok=1", "Username    " + sb.Primary().ObjectID} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout.String())
		}
	}
	// Every JWT starts with a base64url-encoded '{"' header.
	if strings.Contains(stdout.String(), "eyJ") || strings.Contains(stderr.String(), "eyJ") {
		t.Errorf("demo output contains what looks like a JWT")
	}
}

// TestDemoFailsOnBrokenStep: when a step fails (here cpaccess is replaced
// by a program that exits 1) the demo says which step and exits non-zero.
func TestDemoFailsOnBrokenStep(t *testing.T) {
	setup(t)
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false binary")
	}
	var stdout, stderr bytes.Buffer
	code := app.Run(t.Context(), app.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr},
		[]string{"demo", "--cpaccess", falseBin})
	if code == 0 {
		t.Fatalf("demo exited 0 with a broken cpaccess\nstdout:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "FAILED at step 3") || strings.Contains(stdout.String(), "Step 4/5") {
		t.Errorf("demo output does not stop at step 3:\n%s", stdout.String())
	}
}

// whoami returns the username the member reports for the kubeconfig's user.
func whoami(t *testing.T, env []string, kubeconfig string) string {
	t.Helper()
	r := kubectl(t, env, "--kubeconfig", kubeconfig, "auth", "whoami", "-o", "json")
	if r.err != nil {
		t.Fatalf("kubectl auth whoami failed:\n%s", r)
	}
	var review authenticationv1.SelfSubjectReview
	if err := json.Unmarshal([]byte(r.stdout), &review); err != nil {
		t.Fatalf("kubectl auth whoami printed no SelfSubjectReview: %v\n%s", err, r.stdout)
	}
	return review.Status.UserInfo.Username
}

// profileKubeconfig publishes fleet-system/<name> on the hub pointing at the
// member with id's tenant and client and the authority host, removes it when
// the test ends, and returns the kubeconfig cpaccess generates for it.
func profileKubeconfig(t *testing.T, name string, id sandbox.Identity, authorityHost string) string {
	t.Helper()
	if err := sb.ApplyProfile(t.Context(), name, sb.ProfileStatus(id, authorityHost)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sb.DeleteProfile(ctx, name); err != nil {
			t.Errorf("failed to delete the profile: %v", err)
		}
	})
	kubeconfig := generateKubeconfig(t, freshEnv(t), sb.ProviderFile(), name)
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := sandbox.ProfileNamespace + "/" + name
	if cfg.CurrentContext != ctx || cfg.AuthInfos[ctx] == nil || !slices.Contains(cfg.AuthInfos[ctx].Exec.Args, id.TenantID) {
		t.Fatalf("kubeconfig for %s does not carry tenant %s", ctx, id.TenantID)
	}
	return kubeconfig
}

// expectSignInFailure runs kubectl get namespaces and expects the exec
// plugin to fail.
func expectSignInFailure(t *testing.T, env []string, kubeconfig string) result {
	t.Helper()
	r := kubectl(t, env, "--kubeconfig", kubeconfig, "get", "--raw", "/api/v1/namespaces")
	if r.err == nil {
		t.Fatalf("kubectl succeeded; want the sign-in to fail:\n%s", r)
	}
	expectStderr(t, r, "getting credentials: exec: executable "+sb.KubeloginPath()+" failed with exit code 1")
	if strings.Contains(r.stderr, "eyJ") {
		t.Errorf("kubectl's stderr contains what looks like a JWT")
	}
	return r
}

func expectStderr(t *testing.T, r result, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// emulatorMark remembers the emulator's counters at a point in time.
type emulatorMark struct {
	sb     *sandbox.Sandbox
	before entraemulator.Stats
	seen   int
}

func markEmulator(sb *sandbox.Sandbox) emulatorMark {
	return emulatorMark{sb: sb, before: sb.Emulator().Stats(), seen: len(sb.EmulatorRequests())}
}

// requests are the emulator requests since the mark.
func (m emulatorMark) requests() []sandbox.EmulatorRequest {
	return m.sb.EmulatorRequests()[m.seen:]
}

// stats are the counts since the mark.
func (m emulatorMark) stats() entraemulator.Stats {
	after := m.sb.Emulator().Stats()
	out := entraemulator.Stats{Counts: map[string]map[string]int{}}
	for ep, outcomes := range after.Counts {
		for oc, n := range outcomes {
			if d := n - m.before.Count(ep, oc); d != 0 {
				if out.Counts[ep] == nil {
					out.Counts[ep] = map[string]int{}
				}
				out.Counts[ep][oc] = d
			}
		}
	}
	return out
}

// expectTokens checks that exactly n tokens were issued since the mark, all
// to id's tenant and client.
func (m emulatorMark) expectTokens(t *testing.T, id sandbox.Identity, n int) {
	t.Helper()
	if got := m.stats().Count(entraemulator.EndpointToken, entraemulator.OutcomeOK); got != n {
		t.Errorf("emulator issued %d tokens, want %d (stats since mark: %s)", got, n, m.stats())
	}
	for _, q := range m.requests() {
		if q.Endpoint == entraemulator.EndpointToken && (q.Tenant != id.TenantID || !strings.EqualFold(q.ClientID, id.ClientID)) {
			t.Errorf("token request went to tenant %s client %s, want tenant %s client %s", q.Tenant, q.ClientID, id.TenantID, id.ClientID)
		}
	}
}

// kubeloginRuns counts the kubelogin processes that reached the emulator
// since the mark: each fresh process fetches the tenant's discovery document
// once before its token requests.
func (m emulatorMark) kubeloginRuns() int {
	n := 0
	for _, q := range m.requests() {
		if q.Endpoint == entraemulator.EndpointOpenIDConfigurationV2 {
			n++
		}
	}
	return n
}

// expectTokenErrors checks that every kubelogin run since the mark made
// exactly one token request (errors other than 408/429/5xx are not retried),
// answered with the given AADSTS code, and that no token was issued.
//
// kubectl runs a failing plugin twice per API request: once when the TLS
// handshake asks for a client certificate, once for the bearer token, as
// nothing is cached after a failure. So the number of runs is not fixed, but
// the requests per run are.
func (m emulatorMark) expectTokenErrors(t *testing.T, code string) {
	t.Helper()
	runs, got := m.kubeloginRuns(), 0
	for _, q := range m.requests() {
		if q.Endpoint != entraemulator.EndpointToken {
			continue
		}
		if q.Code != code {
			t.Errorf("token request answered %s %s, want %s", q.Outcome, q.Code, code)
		}
		got++
	}
	if runs == 0 || got != runs {
		t.Errorf("%d kubelogin runs made %d token requests, want one each (requests: %+v)", runs, got, m.requests())
	}
	if ok := m.stats().Count(entraemulator.EndpointToken, entraemulator.OutcomeOK); ok != 0 {
		t.Errorf("emulator issued %d tokens, want none", ok)
	}
}

func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatal("the hub token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
