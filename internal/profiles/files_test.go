package profiles_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/profiles"
)

func names(cps []*v1alpha1.ClusterProfile) []string {
	out := make([]string, 0, len(cps))
	for _, cp := range cps {
		out = append(out, cp.Namespace+"/"+cp.Name)
	}
	return out
}

// TestDecodeFiles decodes every file of testdata: valid-* files must decode
// without error, invalid-* files must fail with the given messages. Both
// check the profiles returned, in order.
func TestDecodeFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
		// errs are substrings the error must hold; nil means no error.
		errs []string
	}{
		{file: "valid-single.yaml", want: []string{"fleet-system/bravelion"}},
		{file: "valid-multi-document.yaml", want: []string{"team-a/alpha", "team-a/beta", "team-b/gamma"}},
		{file: "valid-list.yaml", want: []string{"team-a/alpha", "team-a/beta"}},
		{file: "valid-clusterprofilelist.yaml", want: []string{"team-a/alpha", "team-a/beta"}},
		{file: "valid-profiles.json", want: []string{"team-a/alpha", "team-b/gamma"}},
		{file: "valid-clusterprofilelist.json", want: []string{"team-a/alpha", "team-a/beta"}},
		{file: "valid-empty.yaml", want: []string{}},
		{file: "valid-no-namespace.yaml", want: []string{"/lonely"}},
		{file: "valid-no-apiversion-in-list.yaml", want: []string{"team-a/alpha"}},
		{file: "valid-miscased-field.yaml", want: []string{"team-a/alpha"}},

		// A bad document does not hide the good ones after it.
		{file: "invalid-kind.yaml", want: []string{"team-a/alpha", "team-b/gamma"},
			errs: []string{"invalid-kind.yaml (document 2)", "expected kind ClusterProfile", "found v1 ConfigMap"}},
		{file: "invalid-apiversion.yaml", want: []string{"team-a/alpha"},
			errs: []string{"(document 2)", `expected apiVersion multicluster.x-k8s.io/v1alpha1`, `found "multicluster.x-k8s.io/v1beta9"`}},
		{file: "invalid-miscased-kind.json", want: []string{},
			errs: []string{"(document 1)", "without kind"}},
		{file: "invalid-no-kind.yaml", want: []string{},
			errs: []string{"(document 1)", "without kind"}},
		{file: "invalid-no-name.yaml", want: []string{},
			errs: []string{"(document 1)", "no metadata.name"}},
		{file: "invalid-nested-list.yaml", want: []string{},
			errs: []string{"(document 1)", "items[0]", "nested lists"}},
		{file: "invalid-list-item-kind.yaml", want: []string{"team-a/alpha", "team-a/beta"},
			errs: []string{"(document 1)", "items[1]", "found v1 Secret"}},
		{file: "invalid-list-apiversion.yaml", want: []string{},
			errs: []string{"(document 1)", "kind ClusterProfileList", `found "example.com/v1"`}},
		{file: "invalid-v1-list-apiversion.yaml", want: []string{},
			errs: []string{"(document 1)", "expected apiVersion v1 for kind List", `found "v2"`}},
		{file: "invalid-field-type.yaml", want: []string{},
			errs: []string{"(document 1)", "failed to decode ClusterProfile team-a/alpha"}},
		{file: "invalid-syntax.yaml", want: []string{"team-a/alpha"},
			errs: []string{"invalid-syntax.yaml (document 2)"}},
		{file: "invalid-syntax.json", want: []string{"/alpha"},
			errs: []string{"invalid-syntax.json (document 2)"}},
		{file: "invalid-scalar.yaml", want: []string{},
			errs: []string{"(document 1)", "expected an object"}},
		{file: "invalid-array.json", want: []string{},
			errs: []string{"(document 1)", "expected an object"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			isValid := strings.HasPrefix(tt.file, "valid-")
			if isValid != (tt.errs == nil) {
				t.Fatalf("test table: %s must list errors exactly when it is invalid-*", tt.file)
			}
			path := filepath.Join("testdata", tt.file)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cps, err := profiles.Decode(f, path)
			if got := names(cps); !slices.Equal(got, tt.want) {
				t.Errorf("profiles = %q, want %q", got, tt.want)
			}
			if tt.errs == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one holding %q", tt.errs)
			}
			for _, s := range tt.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not hold %q", err, s)
				}
			}
		})
	}
}

// TestDecodeContent checks the decoded objects, not only their names.
func TestDecodeContent(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/valid-single.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cps, err := profiles.Decode(f, "valid-single.yaml")
	if err != nil || len(cps) != 1 {
		t.Fatalf("Decode = %d profiles, %v; want 1, nil", len(cps), err)
	}
	cp := cps[0]
	if cp.Kind != profiles.Kind || cp.APIVersion != profiles.APIVersion {
		t.Errorf("type = %s %s", cp.APIVersion, cp.Kind)
	}
	if cp.Spec.ClusterManager.Name != "kubefleet" {
		t.Errorf("spec.clusterManager.name = %q", cp.Spec.ClusterManager.Name)
	}
	if len(cp.Status.Conditions) != 1 || cp.Status.Conditions[0].Type != v1alpha1.ClusterConditionControlPlaneHealthy {
		t.Errorf("conditions = %+v", cp.Status.Conditions)
	}
	aps := cp.Status.AccessProviders
	if len(aps) != 1 || aps[0].Name != "aks-workload-identity" {
		t.Fatalf("accessProviders = %+v", aps)
	}
	c := aps[0].Cluster
	if c.Server != "https://bravelion.example.com:443" {
		t.Errorf("server = %q", c.Server)
	}
	if !strings.Contains(string(c.CertificateAuthorityData), "BEGIN CERTIFICATE") {
		t.Errorf("certificate-authority-data not decoded: %q", c.CertificateAuthorityData)
	}
	if len(c.Extensions) != 2 {
		t.Fatalf("extensions = %d, want 2", len(c.Extensions))
	}
	if got, want := string(c.Extensions[0].Extension.Raw), `{"args":["--tenant-id","11111111-2222-3333-4444-555555555555"]}`; got != want {
		t.Errorf("extension payload = %s, want %s", got, want)
	}

	// A mis-cased field is dropped, not matched case-insensitively.
	f2, err := os.Open("testdata/valid-miscased-field.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	cps, err = profiles.Decode(f2, "valid-miscased-field.yaml")
	if err != nil || len(cps) != 1 {
		t.Fatalf("Decode = %d profiles, %v; want 1, nil", len(cps), err)
	}
	if n := len(cps[0].Status.AccessProviders); n != 0 {
		t.Errorf("mis-cased Status was decoded: %d access providers", n)
	}
}

// TestDecodeSource checks that the source name, not the content, names the
// input in errors, and that a reader error is reported.
func TestDecodeSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"wrong kind from stdin", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", []string{"failed to read standard input (document 1)", "found v1 Secret"}},
		{"second JSON document", `{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ClusterProfile","metadata":{"name":"a"}} {"kind":"ConfigMap"}`, []string{"standard input (document 2)", "found ConfigMap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := profiles.Decode(strings.NewReader(tt.in), "standard input")
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not hold %q", err, s)
				}
			}
		})
	}

	t.Run("reader error", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		_, err := profiles.Decode(iotest.ErrReader(boom), "broken")
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "broken") {
			t.Errorf("error = %v, want one wrapping %v and naming the source", err, boom)
		}
	})
}

// TestDecodeDoesNotShareMemory checks that each profile is its own object.
func TestDecodeDoesNotShareMemory(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/valid-list.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cps, err := profiles.Decode(f, "valid-list.yaml")
	if err != nil || len(cps) != 2 {
		t.Fatalf("Decode = %d, %v", len(cps), err)
	}
	cps[0].Status.AccessProviders[0].Cluster.Server = "https://changed.example.com"
	if got := cps[1].Status.AccessProviders[0].Cluster.Server; got != "https://beta.example.com:443" {
		t.Errorf("second profile's server = %q after changing the first", got)
	}
}
