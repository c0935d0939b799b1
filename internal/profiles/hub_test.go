package profiles_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

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
