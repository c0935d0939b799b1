package entraemulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identifiers used throughout the tests.
const (
	testTenant    = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	testClientID  = "d4c0f3b5-5a4b-4bd8-9a6e-6e1f3c0b9a11"
	testObjectID  = "a8b9c0d1-2e3f-4a5b-8c7d-9e0f1a2b3c4d"
	aksServerApp  = "6dae42f8-4368-4678-94ff-3960e28e3630"
	testSubject   = "system:serviceaccount:team-a:deployer"
	testIssuerDir = "/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5/"
)

// RSA key generation is slow under -race, so the tests share a few keys.
var (
	emulatorKey  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	issuerKey1   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	issuerKeyBad = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
)

func mustRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err) // test setup only
	}
	return k
}

// testOIDCIssuer is a small Kubernetes-like service account issuer:
// HTTPS on 127.0.0.1 with discovery and JWKS, signing RS256 tokens.
type testOIDCIssuer struct {
	srv       *httptest.Server
	iss       string // with trailing slash, like AKS
	caPEM     string
	mu        sync.Mutex
	kid       string
	key       *rsa.PrivateKey
	discovery atomic.Int32
	jwks      atomic.Int32
}

func newTestOIDCIssuer(t *testing.T) *testOIDCIssuer {
	t.Helper()
	ti := &testOIDCIssuer{key: issuerKey1(), kid: "sa-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+testIssuerDir+".well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		ti.discovery.Add(1)
		writeTestJSON(w, map[string]any{
			"issuer":                                ti.iss,
			"jwks_uri":                              ti.srv.URL + testIssuerDir + "openid/v1/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET "+testIssuerDir+"openid/v1/jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.jwks.Add(1)
		key, kid := ti.signingKey()
		pub := key.Public().(*rsa.PublicKey)
		writeTestJSON(w, map[string]any{"keys": []any{map[string]any{
			"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	ti.srv = httptest.NewUnstartedServer(mux)
	ti.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are expected in some tests
	ti.srv.StartTLS()
	t.Cleanup(ti.srv.Close)
	ti.iss = ti.srv.URL + testIssuerDir
	ti.caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ti.srv.Certificate().Raw}))
	return ti
}

func writeTestJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// claims are the default service account token claims.
func (ti *testOIDCIssuer) claims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": ti.iss,
		"sub": testSubject,
		"aud": []string{DefaultFederatedAudience},
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      "team-a",
			"serviceaccount": map[string]any{"name": "deployer", "uid": "2b7f3a9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b"},
		},
	}
}

func (ti *testOIDCIssuer) signingKey() (*rsa.PrivateKey, string) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.key, ti.kid
}

// rotate replaces the issuer's signing key.
func (ti *testOIDCIssuer) rotate(key *rsa.PrivateKey, kid string) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.key, ti.kid = key, kid
}

// mint signs claims with the issuer's key and kid.
func (ti *testOIDCIssuer) mint(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	key, kid := ti.signingKey()
	return mintWith(t, key, kid, claims)
}

func mintWith(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("failed to sign assertion: %v", err)
	}
	return s
}

// baseConfig trusts the issuer for testSubject in testTenant and knows the
// AKS server app plus an app with an identifier URI.
func baseConfig(ti *testOIDCIssuer) Config {
	return Config{
		Tenants: []Tenant{{
			ID: testTenant,
			Apps: []App{{
				DisplayName: "deployer",
				ClientID:    testClientID,
				ObjectID:    testObjectID,
				FederatedCredentials: []FederatedCredential{{
					Name:      "team-a-deployer",
					Issuer:    ti.iss,
					Subject:   testSubject,
					Audiences: []string{DefaultFederatedAudience},
				}},
			}},
		}},
		ResourceApps: []ResourceApp{
			{AppID: aksServerApp},
			{AppID: "3f2a1b0c-9d8e-4f7a-6b5c-4d3e2f1a0b9c", IdentifierURIs: []string{"api://cpaccess-test"}},
		},
		IssuerCABundle: ti.caPEM,
	}
}

// startEmulator starts an emulator closed at the end of the test.
func startEmulator(t *testing.T, cfg Config, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{withSigningKey(emulatorKey())}, opts...)
	s, err := Start(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// clientFor is an HTTP client trusting the emulator's CA only.
func clientFor(t *testing.T, s *Server) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// writeFile writes content to a file in the test's temp dir.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedPortURL is an https URL on 127.0.0.1 where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "https://" + addr + "/unreachable/"
}

// decodeClaims returns the payload of a JWT without verifying it.
func decodeClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("failed to decode payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("failed to unmarshal payload: %v", err)
	}
	return m
}

// verifyAccessToken checks token the way an API server does: v1 discovery
// at the issuer, JWKS from jwks_uri, RS256 signature, iss and aud.
func verifyAccessToken(t *testing.T, s *Server, token, tenant, aud string) jwt.MapClaims {
	t.Helper()
	hc := clientFor(t, s)
	iss := s.V1Issuer(tenant)
	var doc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	getTestJSON(t, hc, iss+".well-known/openid-configuration", &doc)
	if doc.Issuer != iss {
		t.Fatalf("v1 discovery issuer = %q, want %q", doc.Issuer, iss)
	}
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	getTestJSON(t, hc, doc.JWKSURI, &jwks)
	keys := map[string]any{}
	for _, raw := range jwks.Keys {
		k, ok := parseJWK(raw)
		if !ok {
			t.Fatalf("bad JWK %s", raw)
		}
		keys[k.kid] = k.pub
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(iss), jwt.WithAudience(aud), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	return claims
}

func getTestJSON(t *testing.T, hc *http.Client, u string, v any) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// checkAccessTokenClaims checks every claim of an issued token.
func checkAccessTokenClaims(t *testing.T, s *Server, claims map[string]any, aud string, lifetime time.Duration) {
	t.Helper()
	iss := s.V1Issuer(testTenant)
	want := map[string]any{
		"aud": aud, "iss": iss, "idp": iss,
		"appid": testClientID, "appidacr": "2", "idtyp": "app",
		"oid": testObjectID, "sub": testObjectID, "tid": testTenant, "ver": "1.0",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"uti", "rh", "aio"} {
		if s, _ := claims[k].(string); s == "" {
			t.Errorf("claim %s missing", k)
		}
	}
	now := float64(time.Now().Unix())
	iat, _ := claims["iat"].(float64)
	nbf, _ := claims["nbf"].(float64)
	exp, _ := claims["exp"].(float64)
	if iat == 0 || iat != nbf || iat > now || iat < now-float64(issuedAtBackdate/time.Second)-60 {
		t.Errorf("iat/nbf = %v/%v, want about now-5m (now %v)", iat, nbf, now)
	}
	if d := exp - now - lifetime.Seconds(); d > 5 || d < -60 {
		t.Errorf("exp = %v, want about now+%s", exp, lifetime)
	}
	for _, k := range []string{"scp", "azp", "upn", "roles", "groups"} {
		if _, ok := claims[k]; ok {
			t.Errorf("unexpected claim %s", k)
		}
	}
}
