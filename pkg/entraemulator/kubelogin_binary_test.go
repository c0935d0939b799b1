package entraemulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run the real kubelogin binary (bin/kubelogin, built by
// `hack/build-tools.sh kubelogin`) against the emulator exactly as
// kubelogin-wire.md section 2.7 describes: SSL_CERT_FILE for the CA, a
// fresh HOME and XDG_CACHE_HOME per run, and an environment holding nothing
// else (no AZURE_*, ACTIONS_ID_TOKEN_REQUEST_*, proxies or
// KUBERNETES_EXEC_INFO unless a case sets it).
//
// kubelogin's persistent token cache keeps its encryption key in the Linux
// user keyring; runs with a fresh XDG_CACHE_HOME never hit the cache.

// kubeloginBinary locates bin/kubelogin in the module root. Without it the
// test is skipped locally and fails when CI is set (CI builds it first).
func kubeloginBinary(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	bin := filepath.Join(dir, "bin", "kubelogin")
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("%s not found; build it with: bash hack/build-tools.sh kubelogin", bin)
		if os.Getenv("CI") == "" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return bin
}

// kubeloginRun is the result of one kubelogin get-token.
type kubeloginRun struct {
	exitCode int
	stdout   string
	stderr   string
}

// runKubelogin runs get-token --login workloadidentity for tenant and
// client with the assertion in a token file.
func runKubelogin(t *testing.T, bin string, s *Server, tenant, clientID, serverID, assertion string, extraEnv ...string) kubeloginRun {
	t.Helper()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := s.WriteCAFile(caFile); err != nil {
		t.Fatal(err)
	}
	tokenFile := writeFile(t, "azure-identity-token", assertion)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "get-token",
		"--login", "workloadidentity",
		"--server-id", serverID,
		"--client-id", clientID,
		"--tenant-id", tenant,
		"--federated-token-file", tokenFile,
		"--authority-host", s.AuthorityHost(),
		"--disable-instance-discovery",
	)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"XDG_CACHE_HOME=" + t.TempDir(),
		"SSL_CERT_FILE=" + caFile,
	}, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	run := kubeloginRun{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		run.exitCode = exitErr.ExitCode()
	default:
		t.Fatalf("failed to run kubelogin: %v", err)
	}
	return run
}

// execCredential is the part of kubelogin's output the tests read.
type execCredential struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		Interactive bool `json:"interactive"`
	} `json:"spec"`
	Status struct {
		ExpirationTimestamp time.Time `json:"expirationTimestamp"`
		Token               string    `json:"token"`
	} `json:"status"`
}

func TestKubeloginBinaryGetToken(t *testing.T) {
	t.Parallel()
	bin := kubeloginBinary(t)
	tests := []struct {
		name       string
		execInfo   string
		apiVersion string
	}{
		{name: "default v1beta1", apiVersion: "client.authentication.k8s.io/v1beta1"},
		{
			name:       "KUBERNETES_EXEC_INFO v1",
			execInfo:   `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`,
			apiVersion: "client.authentication.k8s.io/v1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ti := newTestOIDCIssuer(t)
			s := startEmulator(t, baseConfig(ti))
			var env []string
			if tc.execInfo != "" {
				env = append(env, "KUBERNETES_EXEC_INFO="+tc.execInfo)
			}
			run := runKubelogin(t, bin, s, testTenant, testClientID, aksServerApp, ti.mint(t, ti.claims()), env...)
			if run.exitCode != 0 {
				t.Fatalf("kubelogin exited %d\nstderr: %s", run.exitCode, run.stderr)
			}
			if strings.Count(strings.TrimSpace(run.stdout), "\n") != 0 {
				t.Errorf("stdout is not one line: %q", run.stdout)
			}
			var ec execCredential
			if err := json.Unmarshal([]byte(run.stdout), &ec); err != nil {
				t.Fatalf("stdout is not an ExecCredential: %v\n%s", err, run.stdout)
			}
			if ec.Kind != "ExecCredential" || ec.APIVersion != tc.apiVersion || ec.Spec.Interactive {
				t.Errorf("ExecCredential = %+v, want kind ExecCredential, apiVersion %s, interactive false", ec, tc.apiVersion)
			}
			if d := time.Until(ec.Status.ExpirationTimestamp); d < DefaultTokenLifetime-2*time.Minute || d > DefaultTokenLifetime+time.Minute {
				t.Errorf("expirationTimestamp in %s, want about %s", d, DefaultTokenLifetime)
			}
			claims := verifyAccessToken(t, s, ec.Status.Token, testTenant, aksServerApp)
			checkAccessTokenClaims(t, s, claims, aksServerApp, DefaultTokenLifetime)

			st := s.Stats()
			if st.Count(EndpointOpenIDConfigurationV2, OutcomeOK) != 1 || st.Count(EndpointToken, OutcomeOK) != 1 || st.Total(EndpointToken) != 1 {
				t.Errorf("stats = %v, want one v2 discovery and one token request", st)
			}
		})
	}
}

func TestKubeloginBinaryErrors(t *testing.T) {
	t.Parallel()
	bin := kubeloginBinary(t)
	now := time.Now()
	tests := []struct {
		name      string
		tenant    string
		clientID  string
		serverID  string
		config    func(*Config, *testOIDCIssuer)
		assertion func(*testing.T, *testOIDCIssuer) string
		fault     *Fault
		code      int
		contains  []string
		endpoint  string
		outcome   string
		requests  int
	}{
		{
			name: "wrong subject",
			assertion: func(t *testing.T, ti *testOIDCIssuer) string {
				c := ti.claims()
				c["sub"] = "system:serviceaccount:team-b:deployer"
				return ti.mint(t, c)
			},
			code:     70021,
			contains: []string{"RESPONSE 400", "Assertion Subject: 'system:serviceaccount:team-b:deployer'"},
			outcome:  OutcomeInvalidRequest, requests: 1,
		},
		{
			name: "expired assertion",
			assertion: func(t *testing.T, ti *testOIDCIssuer) string {
				c := ti.claims()
				c["iat"], c["nbf"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
				return ti.mint(t, c)
			},
			code:     700024,
			contains: []string{"RESPONSE 401"},
			outcome:  OutcomeInvalidClient, requests: 1,
		},
		{
			name:     "unknown client",
			clientID: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
			code:     700016,
			contains: []string{"RESPONSE 400", `"error": "unauthorized_client"`},
			outcome:  OutcomeUnauthorizedClient, requests: 1,
		},
		{
			name:     "unknown tenant",
			tenant:   "0f0e0d0c-0b0a-4099-8877-665544332211",
			code:     90002,
			endpoint: EndpointOpenIDConfigurationV2,
			outcome:  OutcomeInvalidTenant, requests: 1,
		},
		{
			name:      "not a JWT",
			assertion: func(*testing.T, *testOIDCIssuer) string { return "definitely.not.a-jwt" },
			code:      50027,
			outcome:   OutcomeInvalidRequest, requests: 1,
		},
		{
			name: "unknown signing key",
			assertion: func(t *testing.T, ti *testOIDCIssuer) string {
				return mintWith(t, issuerKey1(), "old-key", ti.claims())
			},
			code:    7000272,
			outcome: OutcomeInvalidClient, requests: 1,
		},
		{
			name:     "unknown resource",
			serverID: "https://management.core.windows.net/",
			code:     500011,
			outcome:  OutcomeInvalidResource, requests: 1,
		},
		{
			name:    "issuer CA not trusted",
			config:  func(c *Config, _ *testOIDCIssuer) { c.IssuerCABundle = "" },
			code:    90061,
			outcome: OutcomeInvalidRequest, requests: 1,
		},
		{
			name:     "503 storm",
			fault:    &Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Second},
			code:     90033,
			contains: []string{"RESPONSE 503"},
			outcome:  OutcomeFault, requests: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ti := newTestOIDCIssuer(t)
			cfg := baseConfig(ti)
			if tc.config != nil {
				tc.config(&cfg, ti)
			}
			s := startEmulator(t, cfg)
			if tc.fault != nil {
				s.InjectFault(*tc.fault)
			}
			tenant, clientID, serverID := testTenant, testClientID, aksServerApp
			if tc.tenant != "" {
				tenant = tc.tenant
			}
			if tc.clientID != "" {
				clientID = tc.clientID
			}
			if tc.serverID != "" {
				serverID = tc.serverID
			}
			var assertion string
			if tc.assertion != nil {
				assertion = tc.assertion(t, ti)
			} else {
				assertion = ti.mint(t, ti.claims())
			}

			run := runKubelogin(t, bin, s, tenant, clientID, serverID, assertion)
			if run.exitCode != 1 {
				t.Fatalf("kubelogin exited %d, want 1\nstdout: %s\nstderr: %s", run.exitCode, run.stdout, run.stderr)
			}
			if run.stdout != "" {
				t.Errorf("stdout = %q, want empty", run.stdout)
			}
			want := append([]string{"Error: failed to get token", fmt.Sprintf("AADSTS%d:", tc.code)}, tc.contains...)
			for _, w := range want {
				if !strings.Contains(run.stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, run.stderr)
				}
			}
			if strings.Contains(run.stderr, assertion) && len(assertion) > 20 {
				t.Error("stderr echoes the assertion")
			}
			endpoint := tc.endpoint
			if endpoint == "" {
				endpoint = EndpointToken
			}
			st := s.Stats()
			if st.Count(endpoint, tc.outcome) != tc.requests || st.Total(endpoint) != tc.requests {
				t.Errorf("stats = %v, want %d %s %s", st, tc.requests, endpoint, tc.outcome)
			}
		})
	}
}
