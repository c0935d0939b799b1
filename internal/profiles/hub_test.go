package profiles_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/profiles"
)

// TestFromHubRejectsBadQueries checks the argument validation that happens
// before the hub is contacted. The config points at a closed port: a query
// that got past validation would fail with a connection error instead.
func TestFromHubRejectsBadQueries(t *testing.T) {
	t.Parallel()
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	tests := []struct {
		name string
		q    profiles.HubQuery
	}{
		{"names with selector", profiles.HubQuery{Namespace: "fleet-system", Names: []string{"bravelion"}, Selector: "env=prod"}},
		{"names with all namespaces", profiles.HubQuery{AllNamespaces: true, Names: []string{"bravelion"}}},
		{"names with both", profiles.HubQuery{AllNamespaces: true, Selector: "a", Names: []string{"x", "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cps, errs, err := profiles.FromHub(context.Background(), cfg, tt.q)
			if err == nil || !strings.Contains(err.Error(), "profile names cannot be combined") {
				t.Fatalf("err = %v, want the names/selector conflict", err)
			}
			if cps != nil || errs != nil {
				t.Errorf("got profiles %v and errors %v with a failed query", cps, errs)
			}
		})
	}
}

func TestNamedError(t *testing.T) {
	t.Parallel()
	cause := errors.New("forbidden")
	err := error(&profiles.NamedError{Namespace: "fleet-system", Name: "bravelion", Err: cause})
	if got, want := err.Error(), "failed to get ClusterProfile fleet-system/bravelion: forbidden"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Error("errors.Is does not find the cause")
	}
	var ne *profiles.NamedError
	if !errors.As(err, &ne) || ne.Name != "bravelion" {
		t.Errorf("errors.As = %v", ne)
	}
}

// fakeHub serves ClusterProfiles at the API paths client-go uses, and counts
// the requests by path.
type fakeHub struct {
	mu       sync.Mutex
	profiles []v1alpha1.ClusterProfile // served as stored, names unchecked
	// getOverride, when set, answers every GET of a single profile.
	getOverride *v1alpha1.ClusterProfile
	requests    map[string]int
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.requests == nil {
		h.requests = map[string]int{}
	}
	h.requests[r.URL.Path]++
	const prefix = "/apis/multicluster.x-k8s.io/v1alpha1/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	parts := strings.Split(rest, "/")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case len(parts) == 1 && parts[0] == "clusterprofiles":
		h.writeList(w)
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "clusterprofiles":
		h.writeList(w)
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "clusterprofiles":
		if h.getOverride != nil {
			_ = json.NewEncoder(w).Encode(h.getOverride)
			return
		}
		for _, cp := range h.profiles {
			if cp.Namespace == parts[1] && cp.Name == parts[3] {
				_ = json.NewEncoder(w).Encode(cp)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound,
		})
	default:
		http.NotFound(w, r)
	}
}

// writeList answers a list with every stored profile: unlike a real hub it
// does not filter by namespace.
func (h *fakeHub) writeList(w http.ResponseWriter) {
	list := v1alpha1.ClusterProfileList{TypeMeta: metav1.TypeMeta{Kind: "ClusterProfileList", APIVersion: profiles.APIVersion}}
	list.Items = append(list.Items, h.profiles...)
	_ = json.NewEncoder(w).Encode(list)
}

func (h *fakeHub) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[path]
}

func (h *fakeHub) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.requests {
		n += c
	}
	return n
}

func startFakeHub(t *testing.T, h *fakeHub) *rest.Config {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}

func profile(ns, name string) v1alpha1.ClusterProfile {
	return v1alpha1.ClusterProfile{
		TypeMeta:   metav1.TypeMeta{Kind: profiles.Kind, APIVersion: profiles.APIVersion},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
	}
}

// TestFromHubNames checks that a profile named twice is read once, that
// invalid names are refused before the hub is asked, and that a hub
// answering with another profile than the one asked for is not believed.
func TestFromHubNames(t *testing.T) {
	t.Parallel()
	const getPath = "/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet-system/clusterprofiles/bravelion"

	t.Run("named twice", func(t *testing.T) {
		t.Parallel()
		h := &fakeHub{profiles: []v1alpha1.ClusterProfile{profile("fleet-system", "bravelion")}}
		cps, errs, err := profiles.FromHub(t.Context(), startFakeHub(t, h), profiles.HubQuery{
			Namespace: "fleet-system", Names: []string{"bravelion", "bravelion"},
		})
		if err != nil || len(errs) != 0 {
			t.Fatalf("FromHub: %v, %v", err, errs)
		}
		if got := names(cps); !slices.Equal(got, []string{"fleet-system/bravelion"}) {
			t.Errorf("profiles = %q, want it once", got)
		}
		if n := h.count(getPath); n != 1 {
			t.Errorf("the hub was asked %d times, want once", n)
		}
	})

	for _, tt := range []struct {
		name string
		q    profiles.HubQuery
		want string
	}{
		{"name with a slash", profiles.HubQuery{Namespace: "fleet-system", Names: []string{"bravelion/status"}}, `profile name "bravelion/status" is invalid`},
		{"name with an escape", profiles.HubQuery{Namespace: "fleet-system", Names: []string{"a\x1b[2J"}}, `profile name "a\x1b[2J" is invalid`},
		{"bad namespace", profiles.HubQuery{Namespace: "fleet/system"}, `namespace "fleet/system" is invalid`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &fakeHub{}
			_, _, err := profiles.FromHub(t.Context(), startFakeHub(t, h), tt.q)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one holding %q", err, tt.want)
			}
			if n := h.total(); n != 0 {
				t.Errorf("the hub was asked %d times", n)
			}
		})
	}

	t.Run("hub answers with another profile", func(t *testing.T) {
		t.Parallel()
		other := profile("fleet-system", "silverfox")
		h := &fakeHub{getOverride: &other}
		cps, errs, err := profiles.FromHub(t.Context(), startFakeHub(t, h), profiles.HubQuery{
			Namespace: "fleet-system", Names: []string{"bravelion"},
		})
		if err != nil || len(cps) != 0 || len(errs) != 1 {
			t.Fatalf("FromHub = %q, %v, %v; want one per-profile error", names(cps), errs, err)
		}
		if want := "failed to get ClusterProfile fleet-system/bravelion: the hub returned ClusterProfile fleet-system/silverfox instead"; errs[0].Error() != want {
			t.Errorf("error = %q, want %q", errs[0], want)
		}
	})
}

// TestFromHubListValidatesNames checks that listed profiles with names the
// API server would refuse (from a hostile or broken hub) are reported,
// quoted, and the others still returned.
func TestFromHubListValidatesNames(t *testing.T) {
	t.Parallel()
	h := &fakeHub{profiles: []v1alpha1.ClusterProfile{
		profile("fleet-system", "bravelion"),
		profile("fleet-system", "evil\x1b[2J\n"),
		profile("other", "misplaced"),
	}}
	cfg := startFakeHub(t, h)
	cps, errs, err := profiles.FromHub(t.Context(), cfg, profiles.HubQuery{Namespace: "fleet-system"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(cps); !slices.Equal(got, []string{"fleet-system/bravelion"}) {
		t.Errorf("profiles = %q, want only the valid one", got)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{
		`failed to list ClusterProfile "fleet-system/evil\x1b[2J\n": ClusterProfile metadata.name "evil\x1b[2J\n" is invalid`,
		"failed to list ClusterProfile other/misplaced: the hub listed it for namespace fleet-system",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors %q lack %q", msgs, want)
		}
	}
	checkPrintable(t, joined)

	// Across all namespaces, the namespace is not checked against the query.
	cps, errs, err = profiles.FromHub(t.Context(), cfg, profiles.HubQuery{AllNamespaces: true})
	if err != nil || len(errs) != 1 {
		t.Fatalf("all namespaces: %v, %v; want one error", errs, err)
	}
	if got := names(cps); !slices.Equal(got, []string{"fleet-system/bravelion", "other/misplaced"}) {
		t.Errorf("all namespaces: profiles = %q", got)
	}
}
