package entraemulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"
)

// These tests drive the emulator with the real azidentity
// WorkloadIdentityCredential, configured the way kubelogin configures it.

// getToken runs one WorkloadIdentityCredential.GetToken with the assertion
// in a token file.
func getToken(t *testing.T, s *Server, tenant, clientID, assertion string, scopes ...string) (azcore.AccessToken, error) {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{aksServerApp + "/.default"}
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost()},
			Transport: clientFor(t, s),
		},
		ClientID:                 clientID,
		TenantID:                 tenant,
		TokenFilePath:            writeFile(t, "azure-identity-token", assertion),
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("NewWorkloadIdentityCredential: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes, TenantID: tenant})
}

func TestAzidentityHappyPath(t *testing.T) {
	t.Parallel()
	ti := newTestOIDCIssuer(t)
	s := startEmulator(t, baseConfig(ti))

	tok, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims()))
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if d := time.Until(tok.ExpiresOn); d < DefaultTokenLifetime-time.Minute || d > DefaultTokenLifetime+time.Minute {
		t.Errorf("ExpiresOn in %s, want about %s", d, DefaultTokenLifetime)
	}
	claims := verifyAccessToken(t, s, tok.Token, testTenant, aksServerApp)
	checkAccessTokenClaims(t, s, claims, aksServerApp, DefaultTokenLifetime)

	st := s.Stats()
	if st.Count(EndpointOpenIDConfigurationV2, OutcomeOK) != 1 || st.Count(EndpointToken, OutcomeOK) != 1 || st.Total(EndpointInstanceDiscovery) != 0 {
		t.Errorf("stats = %v, want one v2 discovery and one token request", st)
	}
	if ti.discovery.Load() != 1 || ti.jwks.Load() != 1 {
		t.Errorf("issuer fetched discovery %d and JWKS %d times, want 1 each", ti.discovery.Load(), ti.jwks.Load())
	}
}

func TestAzidentityIdentifierURIAndLifetime(t *testing.T) {
	t.Parallel()
	ti := newTestOIDCIssuer(t)
	cfg := baseConfig(ti)
	cfg.TokenLifetime = 24 * time.Hour
	cfg.Tenants[0].Apps[0].Roles = []string{"Deploy.All"}
	s := startEmulator(t, cfg)

	tok, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims()), "api://cpaccess-test/.default")
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	claims := decodeClaims(t, tok.Token)
	if claims["aud"] != "api://cpaccess-test" {
		t.Errorf("aud = %v, want the identifier URI", claims["aud"])
	}
	if roles, _ := claims["roles"].([]any); len(roles) != 1 || roles[0] != "Deploy.All" {
		t.Errorf("roles = %v", claims["roles"])
	}
	if d := time.Until(tok.ExpiresOn); d < 24*time.Hour-time.Minute {
		t.Errorf("ExpiresOn in %s, want about 24h", d)
	}
}

// TestAzidentityIssuerMetadataCached checks that issuer discovery and JWKS
// are fetched once for several token requests.
func TestAzidentityIssuerMetadataCached(t *testing.T) {
	t.Parallel()
	ti := newTestOIDCIssuer(t)
	s := startEmulator(t, baseConfig(ti))
	for i := range 3 {
		if _, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims())); err != nil {
			t.Fatalf("GetToken %d: %v", i, err)
		}
	}
	if got := s.Stats().Count(EndpointToken, OutcomeOK); got != 3 {
		t.Errorf("token ok = %d, want 3", got)
	}
	if ti.discovery.Load() != 1 || ti.jwks.Load() != 1 {
		t.Errorf("issuer fetched discovery %d and JWKS %d times, want 1 each", ti.discovery.Load(), ti.jwks.Load())
	}
	s.FlushIssuerCache()
	if _, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims())); err != nil {
		t.Fatalf("GetToken after flush: %v", err)
	}
	if ti.discovery.Load() != 2 {
		t.Errorf("discovery fetched %d times after flush, want 2", ti.discovery.Load())
	}
}

func TestAzidentityErrors(t *testing.T) {
	t.Parallel()
	type testCase struct {
		name     string
		tenant   string
		clientID string
		scopes   []string
		config   func(*Config, *testOIDCIssuer)
		// assertion builds the token file content; nil means a valid token.
		assertion func(*testing.T, *testOIDCIssuer) string
		code      int
		status    int
		outcome   string
		endpoint  string // default EndpointToken
		contains  []string
	}
	mod := func(f func(c jwt.MapClaims)) func(*testing.T, *testOIDCIssuer) string {
		return func(t *testing.T, ti *testOIDCIssuer) string {
			c := ti.claims()
			f(c)
			return ti.mint(t, c)
		}
	}
	now := time.Now()
	tests := []testCase{
		{
			name:      "wrong subject",
			assertion: mod(func(c jwt.MapClaims) { c["sub"] = "system:serviceaccount:team-a:other" }),
			code:      70021, status: 400, outcome: OutcomeInvalidRequest,
			contains: []string{"Assertion Subject: 'system:serviceaccount:team-a:other'", "Assertion Audience: 'api://AzureADTokenExchange'"},
		},
		{
			name: "credential issuer without trailing slash",
			config: func(c *Config, ti *testOIDCIssuer) {
				c.Tenants[0].Apps[0].FederatedCredentials[0].Issuer = strings.TrimSuffix(ti.iss, "/")
			},
			code: 70021, status: 400, outcome: OutcomeInvalidRequest,
			contains: []string{"Assertion Issuer: 'https://127.0.0.1:"},
		},
		{
			name:      "wrong audience",
			assertion: mod(func(c jwt.MapClaims) { c["aud"] = []string{"api://other"} }),
			code:      70021, status: 400, outcome: OutcomeInvalidRequest,
			contains: []string{"Assertion Audience: 'api://other'"},
		},
		{
			name:      "subject differs only in case",
			assertion: mod(func(c jwt.MapClaims) { c["sub"] = "system:serviceaccount:Team-A:deployer" }),
			code:      7002138, status: 401, outcome: OutcomeInvalidClient,
		},
		{
			name: "expired",
			assertion: mod(func(c jwt.MapClaims) {
				c["iat"], c["nbf"], c["exp"] = now.Add(-70*time.Minute).Unix(), now.Add(-70*time.Minute).Unix(), now.Add(-10*time.Minute).Unix()
			}),
			code: 700024, status: 401, outcome: OutcomeInvalidClient,
			contains: []string{"Client assertion is not within its valid time range. Current time: ", ", assertion valid from ", ", expiry time of assertion "},
		},
		{
			name: "not yet valid",
			assertion: mod(func(c jwt.MapClaims) {
				c["iat"], c["nbf"], c["exp"] = now.Add(10*time.Minute).Unix(), now.Add(10*time.Minute).Unix(), now.Add(70*time.Minute).Unix()
			}),
			code: 700024, status: 401, outcome: OutcomeInvalidClient,
		},
		{
			name: "lifetime over 1.01:00:00",
			assertion: mod(func(c jwt.MapClaims) {
				c["exp"] = now.Add(26 * time.Hour).Unix()
			}),
			code: 70023, status: 400, outcome: OutcomeInvalidRequest,
		},
		{
			name:     "unknown client",
			clientID: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
			code:     700016, status: 400, outcome: OutcomeUnauthorizedClient,
			contains: []string{"Application with identifier '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e' was not found in the directory '" + testTenant + "'"},
		},
		{
			name:   "unknown tenant",
			tenant: "0f0e0d0c-0b0a-4099-8877-665544332211",
			code:   90002, status: 400, outcome: OutcomeInvalidTenant,
			endpoint: EndpointOpenIDConfigurationV2,
		},
		{
			name: "unknown kid",
			assertion: func(t *testing.T, ti *testOIDCIssuer) string {
				return mintWith(t, issuerKey1(), "rotated-away", ti.claims())
			},
			code: 7000272, status: 401, outcome: OutcomeInvalidClient,
			contains: []string{"The certificate with identifier rotated-away used to sign the federated credential could not be found"},
		},
		{
			name: "bad signature",
			assertion: func(t *testing.T, ti *testOIDCIssuer) string {
				return mintWith(t, issuerKeyBad(), "sa-key-1", ti.claims())
			},
			code: 700027, status: 401, outcome: OutcomeInvalidClient,
			contains: []string{"Client assertion contains an invalid signature"},
		},
		{
			name:      "not a JWT",
			assertion: func(*testing.T, *testOIDCIssuer) string { return "this-is-not-a-jwt" },
			code:      50027, status: 400, outcome: OutcomeInvalidRequest,
		},
		{
			name: "token file ends in a newline",
			assertion: func(t *testing.T, ti *testOIDCIssuer) string {
				return ti.mint(t, ti.claims()) + "\n"
			},
			code: 50027, status: 400, outcome: OutcomeInvalidRequest,
		},
		{
			name:   "scope without .default",
			scopes: []string{aksServerApp + "/user_impersonation"},
			code:   1002012, status: 400, outcome: OutcomeInvalidScope,
		},
		{
			name:   "two resources",
			scopes: []string{aksServerApp + "/.default", "api://cpaccess-test/.default"},
			code:   70011, status: 400, outcome: OutcomeInvalidScope,
		},
		{
			name:   "unknown resource",
			scopes: []string{"https://management.core.windows.net/.default"},
			code:   500011, status: 400, outcome: OutcomeInvalidResource,
			contains: []string{"The resource principal named https://management.core.windows.net was not found in the tenant named " + testTenant},
		},
		{
			name: "issuer unreachable",
			config: func(c *Config, ti *testOIDCIssuer) {
				c.Tenants[0].Apps[0].FederatedCredentials[0].Issuer = ti.iss + "gone/"
			},
			assertion: mod(func(c jwt.MapClaims) { c["iss"] = c["iss"].(string) + "gone/" }),
			code:      90061, status: 400, outcome: OutcomeInvalidRequest,
		},
		{
			name: "issuer port closed",
			config: func(c *Config, ti *testOIDCIssuer) {
				c.Tenants[0].Apps[0].FederatedCredentials[0].Issuer = "ISSUER-PLACEHOLDER"
			},
			code: 90061, status: 400, outcome: OutcomeInvalidRequest,
		},
		{
			name:   "issuer CA not trusted",
			config: func(c *Config, ti *testOIDCIssuer) { c.IssuerCABundle = "" },
			code:   90061, status: 400, outcome: OutcomeInvalidRequest,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ti := newTestOIDCIssuer(t)
			cfg := baseConfig(ti)
			assertion := ti.mint(t, ti.claims())
			if tc.config != nil {
				tc.config(&cfg, ti)
			}
			if cfg.Tenants[0].Apps[0].FederatedCredentials[0].Issuer == "ISSUER-PLACEHOLDER" {
				iss := closedPortURL(t)
				cfg.Tenants[0].Apps[0].FederatedCredentials[0].Issuer = iss
				c := ti.claims()
				c["iss"] = iss
				assertion = ti.mint(t, c)
			}
			if tc.assertion != nil {
				assertion = tc.assertion(t, ti)
			}
			s := startEmulator(t, cfg)
			tenant, clientID := testTenant, testClientID
			if tc.tenant != "" {
				tenant = tc.tenant
			}
			if tc.clientID != "" {
				clientID = tc.clientID
			}

			_, err := getToken(t, s, tenant, clientID, assertion, tc.scopes...)
			if err == nil {
				t.Fatal("GetToken succeeded, want an error")
			}
			msg := err.Error()
			if want := fmt.Sprintf("AADSTS%d:", tc.code); !strings.Contains(msg, want) {
				t.Errorf("error does not contain %q:\n%s", want, msg)
			}
			if want := fmt.Sprintf(`"error": %q`, tc.outcome); !strings.Contains(msg, want) {
				t.Errorf("error does not contain %s:\n%s", want, msg)
			}
			if want := fmt.Sprintf("RESPONSE %d", tc.status); !strings.Contains(msg, want) {
				t.Errorf("error does not contain %q:\n%s", want, msg)
			}
			for _, c := range tc.contains {
				if !strings.Contains(msg, c) {
					t.Errorf("error does not contain %q:\n%s", c, msg)
				}
			}
			var authErr *azidentity.AuthenticationFailedError
			if errors.As(err, &authErr) && authErr.RawResponse != nil && authErr.RawResponse.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", authErr.RawResponse.StatusCode, tc.status)
			}
			endpoint := tc.endpoint
			if endpoint == "" {
				endpoint = EndpointToken
			}
			st := s.Stats()
			if st.Count(endpoint, tc.outcome) != 1 || st.Total(endpoint) != 1 {
				t.Errorf("stats = %v, want exactly one %s %s", st, endpoint, tc.outcome)
			}
			if strings.Contains(msg, assertion) && len(assertion) > 20 {
				t.Error("error echoes the assertion")
			}
		})
	}
}

// TestAzidentityRetries covers injected faults as azcore's retry policy
// sees them: 503 and 429 are retried up to three times honouring
// Retry-After, a malformed body is not retried, latency only delays.
func TestAzidentityRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       Fault
		wantErr     string
		wantPosts   int
		wantFaults  int
		minDuration time.Duration
	}{
		{
			name:        "503 twice then success",
			fault:       Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Second, Count: 2},
			wantPosts:   3,
			wantFaults:  2,
			minDuration: 2 * time.Second,
		},
		{
			name:        "429 storm",
			fault:       Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second},
			wantErr:     "RESPONSE 429",
			wantPosts:   4,
			wantFaults:  4,
			minDuration: 3 * time.Second,
		},
		{
			name:       "malformed JSON",
			fault:      Fault{MalformedJSON: true, Count: 1},
			wantErr:    "json decode error",
			wantPosts:  1,
			wantFaults: 1,
		},
		{
			name:        "latency",
			fault:       Fault{Latency: 500 * time.Millisecond, Count: 1},
			wantPosts:   1,
			minDuration: 500 * time.Millisecond,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ti := newTestOIDCIssuer(t)
			s := startEmulator(t, baseConfig(ti))
			s.InjectFault(tc.fault)
			start := time.Now()
			tok, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims()))
			elapsed := time.Since(start)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("GetToken: %v", err)
				}
				verifyAccessToken(t, s, tok.Token, testTenant, aksServerApp)
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("GetToken error = %v, want it to contain %q", err, tc.wantErr)
			}
			st := s.Stats()
			if got := st.Total(EndpointToken); got != tc.wantPosts {
				t.Errorf("token requests = %d, want %d (%v)", got, tc.wantPosts, st)
			}
			if got := st.Count(EndpointToken, OutcomeFault); got != tc.wantFaults {
				t.Errorf("token faults = %d, want %d (%v)", got, tc.wantFaults, st)
			}
			if elapsed < tc.minDuration {
				t.Errorf("took %s, want at least %s", elapsed, tc.minDuration)
			}
		})
	}
}
