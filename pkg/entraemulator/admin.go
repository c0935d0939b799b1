package entraemulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// adminFault is the JSON form of a Fault on the admin API; durations are Go
// duration strings such as "1s".
type adminFault struct {
	Endpoint      string `json:"endpoint,omitempty"`
	Status        int    `json:"status,omitempty"`
	RetryAfter    string `json:"retryAfter,omitempty"`
	Latency       string `json:"latency,omitempty"`
	MalformedJSON bool   `json:"malformedJSON,omitempty"`
	Count         int    `json:"count,omitempty"`
}

// AdminHandler returns an HTTP handler that controls the emulator at run
// time, for tests, benchmarks and people driving the entra-emulator command:
//
//	GET    /stats               request counts by endpoint and outcome (JSON)
//	DELETE /stats               reset the counts
//	POST   /faults              inject a fault: {"endpoint": "token", "status": 503,
//	                            "retryAfter": "1s", "latency": "200ms",
//	                            "malformedJSON": false, "count": 3}
//	                            (one JSON object, nothing after it; endpoint
//	                            defaults to "token", see Fault)
//	DELETE /faults              clear every fault
//	POST   /issuer-cache/flush  forget cached issuer discovery documents and keys
//
// It carries no authentication: serve it on loopback only. Requests carrying
// an Origin header are refused with 403, so that a web page open in a
// browser on the same machine cannot drive it (browsers send Origin with
// every POST and DELETE; curl and Go clients do not).
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
	})
	mux.HandleFunc("DELETE /stats", func(w http.ResponseWriter, _ *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		f, err := decodeAdminFault(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.InjectFault(f)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /issuer-cache/flush", func(w http.ResponseWriter, _ *http.Request) {
		s.FlushIssuerCache()
		w.WriteHeader(http.StatusNoContent)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			http.Error(w, "requests from web pages (with an Origin header) are refused", http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func decodeAdminFault(r *http.Request) (Fault, error) {
	var in adminFault
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Fault{}, fmt.Errorf("failed to decode fault: %w", err)
	}
	// One JSON object and nothing after it: a second object or stray text
	// is a mistake (or a splice) that must not be half applied.
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = fmt.Errorf("found %v", tok)
		}
		return Fault{}, fmt.Errorf("failed to decode fault: expected nothing after the JSON object: %w", err)
	}
	f := Fault{Endpoint: in.Endpoint, Status: in.Status, MalformedJSON: in.MalformedJSON, Count: in.Count}
	for _, d := range []struct {
		name, text string
		into       *time.Duration
	}{{"retryAfter", in.RetryAfter, &f.RetryAfter}, {"latency", in.Latency, &f.Latency}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v < 0 {
			return Fault{}, fmt.Errorf("failed to decode fault: field %s: expected a duration such as \"1s\", found %q", d.name, d.text)
		}
		*d.into = v
	}
	switch f.Endpoint {
	case "", EndpointToken, EndpointOpenIDConfigurationV2, EndpointOpenIDConfigurationV1, EndpointKeys, EndpointInstanceDiscovery:
	default:
		return Fault{}, fmt.Errorf("failed to decode fault: field endpoint: expected one of %q, %q, %q, %q, %q (or empty for %q), found %q",
			EndpointToken, EndpointOpenIDConfigurationV2, EndpointOpenIDConfigurationV1, EndpointKeys, EndpointInstanceDiscovery, EndpointToken, f.Endpoint)
	}
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return Fault{}, fmt.Errorf("failed to decode fault: field status: expected an HTTP error status (400-599), found %d", f.Status)
	case f.Count < 0:
		return Fault{}, fmt.Errorf("failed to decode fault: field count: expected 0 (until cleared) or more, found %d", f.Count)
	case f.Status == 0 && f.Latency == 0 && !f.MalformedJSON:
		return Fault{}, fmt.Errorf("failed to decode fault: set at least one of status, latency, malformedJSON")
	}
	return f, nil
}
