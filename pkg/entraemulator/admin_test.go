package entraemulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func adminDo(t *testing.T, base, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestAdminHandler(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})
	admin := httptest.NewServer(s.AdminHandler())
	t.Cleanup(admin.Close)
	hc := clientFor(t, s)
	discovery := s.URL() + "/" + testTenant + "/v2.0/.well-known/openid-configuration"

	// A fault injected over the admin API applies to the emulator.
	if code, body := adminDo(t, admin.URL, http.MethodPost, "/faults", `{"endpoint": "openid-configuration-v2", "status": 503, "retryAfter": "1s", "count": 1}`); code != http.StatusNoContent {
		t.Fatalf("POST /faults: %d %s", code, body)
	}
	status, h, body := do(t, hc, http.MethodGet, discovery, nil, nil)
	checkAADError(t, status, body, http.StatusServiceUnavailable, OutcomeTemporarilyUnavailable, 90033)
	if h.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", h.Get("Retry-After"))
	}
	if status, _, _ := do(t, hc, http.MethodGet, discovery, nil, nil); status != http.StatusOK {
		t.Errorf("fault outlived its count: %d", status)
	}

	// Until cleared.
	adminDo(t, admin.URL, http.MethodPost, "/faults", `{"endpoint": "openid-configuration-v2", "status": 429}`)
	if status, _, _ := do(t, hc, http.MethodGet, discovery, nil, nil); status != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", status)
	}
	if code, _ := adminDo(t, admin.URL, http.MethodDelete, "/faults", ""); code != http.StatusNoContent {
		t.Errorf("DELETE /faults: %d", code)
	}
	if status, _, _ := do(t, hc, http.MethodGet, discovery, nil, nil); status != http.StatusOK {
		t.Errorf("after clearing: %d", status)
	}

	code, raw := adminDo(t, admin.URL, http.MethodGet, "/stats", "")
	var st Stats
	if code != http.StatusOK || json.Unmarshal([]byte(raw), &st) != nil {
		t.Fatalf("GET /stats: %d %s", code, raw)
	}
	if st.Count(EndpointOpenIDConfigurationV2, OutcomeFault) != 2 || st.Count(EndpointOpenIDConfigurationV2, OutcomeOK) != 2 {
		t.Errorf("stats = %s", raw)
	}
	adminDo(t, admin.URL, http.MethodDelete, "/stats", "")
	if s.Stats().Total(EndpointOpenIDConfigurationV2) != 0 {
		t.Error("DELETE /stats did not reset")
	}
	if code, _ := adminDo(t, admin.URL, http.MethodPost, "/issuer-cache/flush", ""); code != http.StatusNoContent {
		t.Errorf("flush: %d", code)
	}
}

func TestAdminRejectsBadFaults(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})
	admin := httptest.NewServer(s.AdminHandler())
	t.Cleanup(admin.Close)
	for body, want := range map[string]string{
		`{"status": 200}`:                       "expected an HTTP error status",
		`{"status": 503, "count": -1}`:          "field count",
		`{"latency": "soon"}`:                   `field latency: expected a duration`,
		`{"retryAfter": "-1s", "status": 503}`:  "field retryAfter",
		`{"endpoint": "tokens", "status": 503}`: `field endpoint`,
		`{"statuss": 503}`:                      "unknown field",
		`{}`:                                    "set at least one of",
		`not json`:                              "failed to decode fault",
		`{"status": 503} {"status": 429}`:       "expected nothing after the JSON object",
		`{"status": 503}{"latency": "1h"}`:      "expected nothing after the JSON object",
		`{"status": 503} trailing`:              "expected nothing after the JSON object",
		`{"status": 503}]`:                      "expected nothing after the JSON object",
	} {
		code, got := adminDo(t, admin.URL, http.MethodPost, "/faults", body)
		if code != http.StatusBadRequest || !strings.Contains(got, want) {
			t.Errorf("%s: %d %q, want 400 with %q", body, code, got, want)
		}
	}
	s.faults.mu.Lock()
	n := len(s.faults.faults)
	s.faults.mu.Unlock()
	if n != 0 {
		t.Errorf("%d faults were injected by rejected requests", n)
	}
	// White space after the object is no trailing data.
	if code, got := adminDo(t, admin.URL, http.MethodPost, "/faults", "{\"status\": 503, \"count\": 1}\n\t "); code != http.StatusNoContent {
		t.Errorf("object followed by white space: %d %q, want 204", code, got)
	}
	if code, _ := adminDo(t, admin.URL, http.MethodGet, "/faults", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /faults: %d", code)
	}
}

// TestAdminRefusesWebPages checks a request carrying an Origin header, as a
// browser sends for a page's POST or DELETE, changes nothing.
func TestAdminRefusesWebPages(t *testing.T) {
	t.Parallel()
	s := startEmulator(t, Config{Tenants: []Tenant{{ID: testTenant}}})
	admin := httptest.NewServer(s.AdminHandler())
	t.Cleanup(admin.Close)
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/faults", `{"status": 503}`},
		{http.MethodDelete, "/stats", ""},
		{http.MethodGet, "/stats", ""},
	} {
		req, err := http.NewRequest(tc.method, admin.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with Origin: %d, want 403", tc.method, tc.path, resp.StatusCode)
		}
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if len(s.faults.faults) != 0 {
		t.Error("a fault was injected from a web page")
	}
}
