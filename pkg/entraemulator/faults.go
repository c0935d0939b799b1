package entraemulator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Endpoint names used by Stats and Fault.Endpoint.
const (
	// EndpointToken is POST /{tenant}/oauth2/v2.0/token and the v1
	// POST /{tenant}/oauth2/token.
	EndpointToken = "token"
	// EndpointOpenIDConfigurationV2 is GET /{tenant}/v2.0/.well-known/openid-configuration.
	EndpointOpenIDConfigurationV2 = "openid-configuration-v2"
	// EndpointOpenIDConfigurationV1 is GET /{tenant}/.well-known/openid-configuration.
	EndpointOpenIDConfigurationV1 = "openid-configuration-v1"
	// EndpointKeys is the JWKS: GET /{tenant}/discovery/keys,
	// /{tenant}/discovery/v2.0/keys and the /common/ forms.
	EndpointKeys = "keys"
	// EndpointInstanceDiscovery is GET /common/discovery/instance.
	EndpointInstanceDiscovery = "instance-discovery"
	// EndpointOther counts requests to paths the emulator does not serve
	// (outcome "not_found").
	EndpointOther = "other"
)

// Fault is an injected misbehaviour. Faults are checked in injection order
// and the first active one matching the request's endpoint applies; each
// application uses up one of its Count.
type Fault struct {
	// Endpoint is the endpoint name the fault applies to (see the Endpoint
	// constants); "" means EndpointToken.
	Endpoint string
	// Status, when non-zero, answers with this HTTP status and an
	// Entra-shaped "temporarily_unavailable" body (AADSTS90033) instead of
	// handling the request, e.g. 429 or 503.
	Status int
	// RetryAfter sets the Retry-After header (whole seconds, rounded up) on
	// a Status answer.
	RetryAfter time.Duration
	// Latency delays the answer. With neither Status nor MalformedJSON the
	// request is then handled normally.
	Latency time.Duration
	// MalformedJSON answers 200 with a truncated, invalid JSON body
	// (ignored when Status is set).
	MalformedJSON bool
	// Count is how many requests the fault affects; 0 means until
	// ClearFaults.
	Count int
}

type activeFault struct {
	f         Fault
	remaining int // -1: unlimited
}

type faultSet struct {
	mu     sync.Mutex
	faults []*activeFault
}

func (fs *faultSet) inject(f Fault) {
	if f.Endpoint == "" {
		f.Endpoint = EndpointToken
	}
	remaining := f.Count
	if remaining <= 0 {
		remaining = -1
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = append(fs.faults, &activeFault{f: f, remaining: remaining})
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = nil
}

// take returns the fault to apply to a request to endpoint, if any, and
// uses up one of its count.
func (fs *faultSet) take(endpoint string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, af := range fs.faults {
		if af.f.Endpoint != endpoint {
			continue
		}
		f := af.f
		if af.remaining > 0 {
			af.remaining--
			if af.remaining == 0 {
				fs.faults = slices.Delete(fs.faults, i, i+1)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// Stats are request counts by endpoint and outcome. The outcome is "ok",
// the OAuth error code of the answer ("invalid_client", ...), or "fault"
// for answers produced by an injected Status or MalformedJSON fault.
type Stats struct {
	// Counts maps endpoint to outcome to number of requests.
	Counts map[string]map[string]int `json:"counts"`
}

// Count is the number of requests to endpoint with outcome.
func (s Stats) Count(endpoint, outcome string) int { return s.Counts[endpoint][outcome] }

// Total is the number of requests to endpoint, whatever the outcome.
func (s Stats) Total(endpoint string) int {
	n := 0
	for _, v := range s.Counts[endpoint] {
		n += v
	}
	return n
}

// String lists the counts in a stable order, e.g.
// "openid-configuration-v2: ok=1; token: fault=2 ok=1".
func (s Stats) String() string {
	var b strings.Builder
	for i, ep := range slices.Sorted(maps.Keys(s.Counts)) {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ep + ":")
		for _, oc := range slices.Sorted(maps.Keys(s.Counts[ep])) {
			fmt.Fprintf(&b, " %s=%d", oc, s.Counts[ep][oc])
		}
	}
	return b.String()
}

type statsRecorder struct {
	mu     sync.Mutex
	counts map[string]map[string]int
}

func (r *statsRecorder) record(endpoint, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]map[string]int{}
	}
	m := r.counts[endpoint]
	if m == nil {
		m = map[string]int{}
		r.counts[endpoint] = m
	}
	m[outcome]++
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{Counts: make(map[string]map[string]int, len(r.counts))}
	for ep, m := range r.counts {
		out.Counts[ep] = maps.Clone(m)
	}
	return out
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = nil
}
