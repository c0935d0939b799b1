package entraemulator

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests talk HTTP to the emulator directly, for what the real
// clients never send.

// do sends a request and returns status, headers and decoded JSON body.
func do(t *testing.T, hc *http.Client, method, u string, form url.Values, header http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s %s: invalid JSON %q: %v", method, u, data, err)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func TestServerURLsAndCA(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})
	if !regexp.MustCompile(`^https://127\.0\.0\.1:\d+$`).MatchString(s.URL()) {
		t.Errorf("URL() = %q", s.URL())
	}
	if s.AuthorityHost() != s.URL()+"/" {
		t.Errorf("AuthorityHost() = %q", s.AuthorityHost())
	}
	if want := s.URL() + "/" + testTenant + "/"; s.V1Issuer(testTenant) != want {
		t.Errorf("V1Issuer() = %q, want %q", s.V1Issuer(testTenant), want)
	}
	block, _ := pem.Decode(s.CAPEM())
	if block == nil {
		t.Fatal("CAPEM is not PEM")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CAPEM is not a CA certificate: %v", err)
	}

	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := s.WriteCAFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("CA file mode = %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if string(data) != string(s.CAPEM()) {
		t.Error("CA file differs from CAPEM")
	}

	// The serving certificate is valid for every loopback name.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	hc := clientFor(t, s)
	port := strings.TrimPrefix(s.URL(), "https://127.0.0.1:")
	for _, host := range []string{"localhost", "127.0.0.1"} {
		status, _, _ := do(t, hc, http.MethodGet, "https://"+host+":"+port+"/"+testTenant+"/v2.0/.well-known/openid-configuration", nil, nil)
		if status != http.StatusOK {
			t.Errorf("%s: status %d", host, status)
		}
	}

	// Plain HTTP is not served.
	resp, err := http.Get("http://127.0.0.1:" + port + "/" + testTenant + "/v2.0/.well-known/openid-configuration")
	if err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200")
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestDiscoveryDocuments(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})
	hc := clientFor(t, s)
	base := s.URL() + "/" + testTenant

	status, h, v2 := do(t, hc, http.MethodGet, base+"/v2.0/.well-known/openid-configuration", nil, nil)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("v2 discovery: status %d, content type %q", status, h.Get("Content-Type"))
	}
	for k, want := range map[string]string{
		"issuer":                 base + "/v2.0",
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"jwks_uri":               base + "/discovery/v2.0/keys",
	} {
		if v2[k] != want {
			t.Errorf("v2 %s = %v, want %s", k, v2[k], want)
		}
	}

	status, _, v1 := do(t, hc, http.MethodGet, base+"/.well-known/openid-configuration", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("v1 discovery: status %d", status)
	}
	for k, want := range map[string]string{
		"issuer":         s.V1Issuer(testTenant),
		"token_endpoint": base + "/oauth2/token",
		"jwks_uri":       base + "/discovery/keys",
	} {
		if v1[k] != want {
			t.Errorf("v1 %s = %v, want %s", k, v1[k], want)
		}
	}
	if algs, _ := v1["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
		t.Errorf("v1 algs = %v", v1["id_token_signing_alg_values_supported"])
	}

	// Tenant ids are case-insensitive; documents name the configured id.
	status, _, upper := do(t, hc, http.MethodGet, s.URL()+"/"+strings.ToUpper(testTenant)+"/v2.0/.well-known/openid-configuration", nil, nil)
	if status != http.StatusOK || upper["issuer"] != base+"/v2.0" {
		t.Errorf("upper-case tenant: status %d issuer %v", status, upper["issuer"])
	}

	// The common alias gets Entra's placeholder issuer.
	status, _, common := do(t, hc, http.MethodGet, s.URL()+"/common/v2.0/.well-known/openid-configuration", nil, nil)
	if status != http.StatusOK || common["issuer"] != s.URL()+"/{tenantid}/v2.0" {
		t.Errorf("common: status %d issuer %v", status, common["issuer"])
	}

	for _, p := range []string{"/" + testTenant + "/discovery/keys", "/" + testTenant + "/discovery/v2.0/keys", "/common/discovery/keys", "/common/discovery/v2.0/keys"} {
		status, _, jwks := do(t, hc, http.MethodGet, s.URL()+p, nil, nil)
		keys, _ := jwks["keys"].([]any)
		if status != http.StatusOK || len(keys) != 1 {
			t.Fatalf("%s: status %d, %d keys", p, status, len(keys))
		}
		k := keys[0].(map[string]any)
		if k["kid"] != s.SigningKeyID() || k["kty"] != "RSA" || k["use"] != "sig" || k["x5t"] != s.SigningKeyID() {
			t.Errorf("%s: key = %v", p, k)
		}
	}

	st := s.Stats()
	if st.Count(EndpointOpenIDConfigurationV2, OutcomeOK) != 3 || st.Count(EndpointOpenIDConfigurationV1, OutcomeOK) != 1 || st.Count(EndpointKeys, OutcomeOK) != 4 {
		t.Errorf("stats = %v", st)
	}
}

func TestInstanceDiscovery(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})
	hc := clientFor(t, s)
	host := strings.TrimPrefix(s.URL(), "https://")

	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {s.URL() + "/" + testTenant + "/oauth2/v2.0/authorize"}}
	status, _, body := do(t, hc, http.MethodGet, s.URL()+"/common/discovery/instance?"+q.Encode(), nil, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if body["tenant_discovery_endpoint"] != s.URL()+"/"+testTenant+"/v2.0/.well-known/openid-configuration" || body["api-version"] != "1.1" {
		t.Errorf("body = %v", body)
	}
	md, _ := body["metadata"].([]any)
	if len(md) != 1 || md[0].(map[string]any)["preferred_network"] != host {
		t.Errorf("metadata = %v", body["metadata"])
	}

	q.Set("authorization_endpoint", "https://login.example.com/"+testTenant+"/oauth2/v2.0/authorize")
	status, _, body = do(t, hc, http.MethodGet, s.URL()+"/common/discovery/instance?"+q.Encode(), nil, nil)
	checkAADError(t, status, body, 400, OutcomeInvalidInstance, 50049)
	if st := s.Stats(); st.Count(EndpointInstanceDiscovery, OutcomeOK) != 1 || st.Count(EndpointInstanceDiscovery, OutcomeInvalidInstance) != 1 {
		t.Errorf("stats = %v", st)
	}
}

// checkAADError checks Entra's error body shape.
func checkAADError(t *testing.T, status int, body map[string]any, wantStatus int, wantErr string, wantCode int) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status = %d, want %d", status, wantStatus)
	}
	if body["error"] != wantErr {
		t.Errorf("error = %v, want %s", body["error"], wantErr)
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(wantCode) {
		t.Errorf("error_codes = %v, want [%d]", body["error_codes"], wantCode)
	}
	desc, _ := body["error_description"].(string)
	descRE := regexp.MustCompile(fmt.Sprintf(`^AADSTS%d: .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`, wantCode))
	if !descRE.MatchString(desc) {
		t.Errorf("error_description = %q", desc)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
		if v, _ := body[k].(string); v == "" || !strings.Contains(desc, v) {
			t.Errorf("%s = %v, not in the description", k, body[k])
		}
	}
	if body["error_uri"] != fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", wantCode) {
		t.Errorf("error_uri = %v", body["error_uri"])
	}
	if len(body) != 7 {
		t.Errorf("body has %d fields, want 7: %v", len(body), body)
	}
}

func TestTokenRequestValidation(t *testing.T) {
	t.Parallel()
	ti := newTestOIDCIssuer(t)
	s := startEmulator(t, baseConfig(ti))
	hc := clientFor(t, s)
	valid := func() url.Values {
		return url.Values{
			"grant_type":            {"client_credentials"},
			"client_id":             {testClientID},
			"client_info":           {"1"},
			"scope":                 {aksServerApp + "/.default openid offline_access profile"},
			"client_assertion_type": {assertionTypeJWTBearer},
			"client_assertion":      {ti.mint(t, ti.claims())},
		}
	}
	tests := []struct {
		name    string
		method  string
		path    string
		form    func(url.Values)
		status  int
		err     string
		code    int
		outcome string
	}{
		{name: "GET", method: http.MethodGet, status: 400, err: OutcomeInvalidRequest, code: 900561},
		{name: "tenant not DNS-like", path: "/bad_tenant!/oauth2/v2.0/token", status: 400, err: OutcomeInvalidRequest, code: 900023},
		{name: "unknown tenant", path: "/contoso.example/oauth2/v2.0/token", status: 400, err: OutcomeInvalidRequest, code: 90002},
		{name: "no grant_type", form: func(f url.Values) { f.Del("grant_type") }, status: 400, err: OutcomeInvalidRequest, code: 900144},
		{name: "password grant", form: func(f url.Values) { f.Set("grant_type", "password") }, status: 400, err: OutcomeUnsupportedGrantType, code: 70003},
		{name: "no client_id", form: func(f url.Values) { f.Del("client_id") }, status: 400, err: OutcomeInvalidRequest, code: 900144},
		{name: "no scope", form: func(f url.Values) { f.Del("scope") }, status: 400, err: OutcomeInvalidRequest, code: 90014},
		{name: "only OIDC scopes", form: func(f url.Values) { f.Set("scope", "openid profile") }, status: 400, err: OutcomeInvalidScope, code: 1002012},
		{name: "client secret", form: func(f url.Values) {
			f.Del("client_assertion")
			f.Set("client_secret", "s3cret")
		}, status: 401, err: OutcomeInvalidClient, code: 7000215},
		{name: "no assertion", form: func(f url.Values) { f.Del("client_assertion") }, status: 401, err: OutcomeInvalidClient, code: 7000218},
		{name: "no assertion type", form: func(f url.Values) { f.Del("client_assertion_type") }, status: 400, err: OutcomeInvalidRequest, code: 900144},
		{name: "saml assertion type", form: func(f url.Values) {
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		}, status: 401, err: OutcomeInvalidClient, code: 7000218},
		{name: "JWE-shaped assertion", form: func(f url.Values) { f.Set("client_assertion", "a.b.c.d.e") }, status: 400, err: OutcomeInvalidRequest, code: 50027},
		{name: "unsigned assertion", form: func(f url.Values) {
			parts := strings.Split(f.Get("client_assertion"), ".")
			f.Set("client_assertion", "eyJhbGciOiJub25lIn0."+parts[1]+".")
		}, status: 400, err: OutcomeInvalidRequest, code: 50027},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form := valid()
			if tc.form != nil {
				tc.form(form)
			}
			method, path := http.MethodPost, "/"+testTenant+"/oauth2/v2.0/token"
			if tc.method != "" {
				method, form = tc.method, nil
			}
			if tc.path != "" {
				path = tc.path
			}
			status, _, body := do(t, hc, method, s.URL()+path, form, nil)
			checkAADError(t, status, body, tc.status, tc.err, tc.code)
		})
	}
}

func TestTokenV1EndpointAndCorrelation(t *testing.T) {
	t.Parallel()
	ti := newTestOIDCIssuer(t)
	s := startEmulator(t, baseConfig(ti))
	hc := clientFor(t, s)
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {strings.ToUpper(testClientID)},
		"resource":              {aksServerApp},
		"client_assertion_type": {assertionTypeJWTBearer},
		"client_assertion":      {ti.mint(t, ti.claims())},
	}
	status, _, body := do(t, hc, http.MethodPost, s.URL()+"/"+testTenant+"/oauth2/token", form, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != "3600" || body["resource"] != aksServerApp {
		t.Errorf("v1 body = %v", body)
	}
	tok, _ := body["access_token"].(string)
	claims := verifyAccessToken(t, s, tok, testTenant, aksServerApp)
	checkAccessTokenClaims(t, s, claims, aksServerApp, DefaultTokenLifetime)

	// v2 success carries no scope; the client-request-id becomes the
	// correlation id and is echoed when asked for.
	form.Del("resource")
	form.Set("scope", aksServerApp+"/.default")
	status, _, body = do(t, hc, http.MethodPost, s.URL()+"/"+testTenant+"/oauth2/v2.0/token", form, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if len(body) != 4 || body["expires_in"] != float64(3600) || body["ext_expires_in"] != float64(3600) {
		t.Errorf("v2 body fields = %v, want token_type, expires_in, ext_expires_in, access_token", keysOf(body))
	}
	const cid = "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f"
	form.Set("client_id", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
	status, h, body := do(t, hc, http.MethodPost, s.URL()+"/"+testTenant+"/oauth2/v2.0/token", form,
		http.Header{"Client-Request-Id": {cid}, "Return-Client-Request-Id": {"true"}})
	checkAADError(t, status, body, 400, OutcomeUnauthorizedClient, 700016)
	if body["correlation_id"] != cid || h.Get("client-request-id") != cid {
		t.Errorf("correlation_id = %v, client-request-id header %q, want %s", body["correlation_id"], h.Get("client-request-id"), cid)
	}
	if h.Get("Cache-Control") != "no-store, no-cache" {
		t.Errorf("Cache-Control = %q", h.Get("Cache-Control"))
	}
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestFaultsStatsAndUnknownPaths(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})
	hc := clientFor(t, s)
	discovery := s.URL() + "/" + testTenant + "/v2.0/.well-known/openid-configuration"

	s.InjectFault(Fault{Endpoint: EndpointOpenIDConfigurationV2, Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond, Count: 2})
	for range 2 {
		status, h, body := do(t, hc, http.MethodGet, discovery, nil, nil)
		checkAADError(t, status, body, http.StatusTooManyRequests, OutcomeTemporarilyUnavailable, 90033)
		if h.Get("Retry-After") != "2" {
			t.Errorf("Retry-After = %q, want 2", h.Get("Retry-After"))
		}
	}
	if status, _, _ := do(t, hc, http.MethodGet, discovery, nil, nil); status != http.StatusOK {
		t.Errorf("after Count faults: status %d", status)
	}

	// A fault for another endpoint does not apply; ClearFaults removes it.
	s.InjectFault(Fault{Endpoint: EndpointKeys, MalformedJSON: true})
	if status, _, _ := do(t, hc, http.MethodGet, discovery, nil, nil); status != http.StatusOK {
		t.Errorf("keys fault applied to discovery: status %d", status)
	}
	resp, err := hc.Get(s.URL() + "/common/discovery/keys")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Valid(data) {
		t.Errorf("malformed fault: status %d, valid JSON %v", resp.StatusCode, json.Valid(data))
	}
	s.ClearFaults()
	if status, _, _ := do(t, hc, http.MethodGet, s.URL()+"/common/discovery/keys", nil, nil); status != http.StatusOK {
		t.Errorf("after ClearFaults: status %d", status)
	}

	// Latency without a status delays a normal answer.
	s.InjectFault(Fault{Endpoint: EndpointOpenIDConfigurationV1, Latency: 300 * time.Millisecond, Count: 1})
	start := time.Now()
	if status, _, _ := do(t, hc, http.MethodGet, s.URL()+"/"+testTenant+"/.well-known/openid-configuration", nil, nil); status != http.StatusOK {
		t.Errorf("latency fault: status %d", status)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Error("latency fault did not delay")
	}

	if status, _, _ := do(t, hc, http.MethodGet, s.URL()+"/nothing/here", nil, nil); status != http.StatusNotFound {
		t.Errorf("unknown path: status %d", status)
	}

	st := s.Stats()
	want := map[string]map[string]int{
		EndpointOpenIDConfigurationV2: {OutcomeFault: 2, OutcomeOK: 2},
		EndpointOpenIDConfigurationV1: {OutcomeOK: 1},
		EndpointKeys:                  {OutcomeFault: 1, OutcomeOK: 1},
		EndpointOther:                 {OutcomeNotFound: 1},
	}
	for ep, m := range want {
		for oc, n := range m {
			if st.Count(ep, oc) != n {
				t.Errorf("Count(%s, %s) = %d, want %d (%v)", ep, oc, st.Count(ep, oc), n, st)
			}
		}
	}
	if st.Total(EndpointOpenIDConfigurationV2) != 4 {
		t.Errorf("Total = %d, want 4", st.Total(EndpointOpenIDConfigurationV2))
	}
	s.ResetStats()
	if st := s.Stats(); st.Total(EndpointOpenIDConfigurationV2) != 0 || len(st.Counts) != 0 {
		t.Errorf("after ResetStats: %v", st)
	}
}

func TestSetConfigAndKeyRotation(t *testing.T) {
	t.Parallel()
	ti := newTestOIDCIssuer(t)
	cfg := baseConfig(ti)
	cfg.Tenants[0].Apps[0].FederatedCredentials = nil
	s := startEmulator(t, cfg)
	url0 := s.URL()

	if _, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims())); err == nil || !strings.Contains(err.Error(), "AADSTS70021") {
		t.Fatalf("without credential: %v", err)
	}
	if err := s.SetConfig(baseConfig(ti)); err != nil {
		t.Fatal(err)
	}
	if s.URL() != url0 {
		t.Errorf("URL changed to %s", s.URL())
	}
	if _, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims())); err != nil {
		t.Fatalf("after SetConfig: %v", err)
	}

	// The issuer rotates its key: a token with the new kid causes one
	// refetch of the cached JWKS and succeeds.
	ti.rotate(issuerKeyBad(), "sa-key-2")
	if _, err := getToken(t, s, testTenant, testClientID, ti.mint(t, ti.claims())); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if ti.jwks.Load() != 2 {
		t.Errorf("JWKS fetched %d times, want 2", ti.jwks.Load())
	}

	bad := baseConfig(ti)
	bad.TokenLifetime = time.Minute
	if err := s.SetConfig(bad); err == nil {
		t.Error("SetConfig accepted a 1m token lifetime")
	}
}

func TestStartRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := Start(t.Context(), Config{Tenants: []Tenant{{ID: "common"}}})
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("Start = %v, want a reserved tenant error", err)
	}
	_, err = Start(t.Context(), Config{Address: "256.0.0.1:0"}, withSigningKey(emulatorKey()))
	if err == nil {
		t.Error("Start listened on an invalid address")
	}
}

// TestRequestLog checks the "request" record contract of WithLogger and
// that neither assertions nor tokens are logged.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	ti := newTestOIDCIssuer(t)
	var logs syncBuffer
	s := startEmulator(t, baseConfig(ti), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	assertion := ti.mint(t, ti.claims())
	tok, err := getToken(t, s, testTenant, testClientID, assertion)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t, s, testTenant, "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", assertion); err == nil {
		t.Fatal("unknown client got a token")
	}
	out := logs.String()
	if strings.Contains(out, assertion) || strings.Contains(out, tok.Token) || strings.Contains(out, strings.Split(assertion, ".")[2]) {
		t.Fatal("log contains the assertion or the token")
	}
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		if m["msg"] == "request" {
			records = append(records, m)
		}
	}
	want := []map[string]any{
		{"method": "GET", "endpoint": EndpointOpenIDConfigurationV2, "tenant": testTenant, "outcome": OutcomeOK},
		{"method": "POST", "endpoint": EndpointToken, "tenant": testTenant, "outcome": OutcomeOK, "clientID": testClientID},
		{"method": "GET", "endpoint": EndpointOpenIDConfigurationV2, "tenant": testTenant, "outcome": OutcomeOK},
		{"method": "POST", "endpoint": EndpointToken, "tenant": testTenant, "outcome": OutcomeUnauthorizedClient,
			"clientID": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "code": "AADSTS700016"},
	}
	if len(records) != len(want) {
		t.Fatalf("%d request records, want %d:\n%s", len(records), len(want), out)
	}
	for i, w := range want {
		for k, v := range w {
			if records[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v", i, k, records[i][k], v)
			}
		}
		if _, ok := w["code"]; !ok && records[i]["code"] != nil {
			t.Errorf("record %d has code %v", i, records[i]["code"])
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServerURLIsTheListenAddress checks URL() names the address the server
// listens on, and that the serving certificate is valid for it: for a
// wildcard address, the loopback address of the family asked for.
func TestServerURLIsTheListenAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		address string
		want    string // URL pattern
		ipv6    bool
	}{
		{address: "", want: `^https://127\.0\.0\.1:\d+$`},
		{address: "127.0.0.1:0", want: `^https://127\.0\.0\.1:\d+$`},
		{address: "localhost:0", want: `^https://(127\.0\.0\.1|\[::1\]):\d+$`},
		{address: "127.0.0.2:0", want: `^https://127\.0\.0\.2:\d+$`},
		{address: "0.0.0.0:0", want: `^https://127\.0\.0\.1:\d+$`},
		{address: ":0", want: `^https://127\.0\.0\.1:\d+$`},
		{address: "[::1]:0", want: `^https://\[::1\]:\d+$`, ipv6: true},
		{address: "[::]:0", want: `^https://\[::1\]:\d+$`, ipv6: true},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			t.Parallel()
			if tt.ipv6 {
				ln, err := net.Listen("tcp", "[::1]:0")
				if err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				_ = ln.Close()
			}
			s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}, Address: tt.address})
			if !regexp.MustCompile(tt.want).MatchString(s.URL()) {
				t.Fatalf("URL() = %q, want %s", s.URL(), tt.want)
			}
			status, _, _ := do(t, clientFor(t, s), http.MethodGet, s.URL()+"/"+testTenant+"/v2.0/.well-known/openid-configuration", nil, nil)
			if status != http.StatusOK {
				t.Errorf("GET at URL(): status %d", status)
			}
		})
	}
}

// TestWriteCAFile checks the CA file is replaced atomically with mode 0600,
// also over a wider existing file and through a symbolic link, and that
// anything but a regular file is left alone.
func TestWriteCAFile(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})

	t.Run("over an existing 0644 file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteCAFile(path); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
		if data, _ := os.ReadFile(path); string(data) != string(s.CAPEM()) {
			t.Error("the file does not hold CAPEM")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("directory holds %d entries, want only the CA file", len(entries))
		}
	})

	t.Run("through a symbolic link", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		target := filepath.Join(dir, "real.pem")
		if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "ca.pem")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteCAFile(link); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v, %v", fi, err)
		}
		if data, _ := os.ReadFile(target); string(data) != string(s.CAPEM()) {
			t.Error("the link's target does not hold CAPEM")
		}
	})

	t.Run("a directory is refused", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		err := s.WriteCAFile(dir)
		if err == nil || !strings.Contains(err.Error(), "failed to write CA file") {
			t.Errorf("WriteCAFile(directory) = %v, want an error", err)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("the directory was replaced: %v, %v", fi, err)
		}
	})
}
