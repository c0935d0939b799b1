package profiles_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode"

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
		{file: "valid-unknown-fields.yaml", want: []string{"team-a/alpha"}},

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

		// A key set twice makes its whole document an error, at any depth.
		{file: "invalid-duplicate-server.yaml", want: []string{"team-a/beta"},
			errs: []string{"invalid-duplicate-server.yaml (document 1)", `duplicate field "status.accessProviders[0].cluster.server"`}},
		{file: "invalid-duplicate-server.json", want: []string{"team-a/beta"},
			errs: []string{"invalid-duplicate-server.json (document 1)", `duplicate field "status.accessProviders[0].cluster.server"`}},
		{file: "invalid-duplicate-escaped-key.json", want: []string{},
			errs: []string{"(document 1)", `duplicate field "status.accessProviders[0].cluster.server"`}},
		{file: "invalid-duplicate-metadata.yaml", want: []string{},
			errs: []string{"(document 1)", `duplicate field "metadata"`}},
		{file: "invalid-duplicate-list-items.yaml", want: []string{},
			errs: []string{"(document 1)", `duplicate field "items"`}},
		{file: "invalid-duplicate-in-list-item.json", want: []string{},
			errs: []string{"(document 1)", `duplicate field "items[1].status.accessProviders[0].cluster.server"`}},
		{file: "invalid-duplicate-extension-payload.yaml", want: []string{},
			errs: []string{"(document 1)", `duplicate field "status.accessProviders[0].cluster.extensions[0].extension.AZURE_CLIENT_ID"`}},
		{file: "invalid-duplicate-json-key-collision.yaml", want: []string{},
			errs: []string{"(document 1)", `duplicate field "status.accessProviders[0].cluster.extensions[0].extension.true"`}},
		{file: "invalid-duplicate-merged-collision.yaml", want: []string{},
			errs: []string{"(document 1)", `duplicate field "status.accessProviders[0].cluster.extensions[0].extension.1"`}},
		{file: "invalid-duplicate-merge-key.yaml", want: []string{},
			errs: []string{"(document 1)", "duplicate key", `key "server" already set in map`}},

		// Names must be valid Kubernetes names; the value is quoted.
		{file: "invalid-name-escape.yaml", want: []string{"team-a/beta"},
			errs: []string{"(document 1)", `metadata.name "evil\x1b[2J\nerror: forged" is invalid`, "RFC 1123 subdomain"}},
		{file: "invalid-name-slash.yaml", want: []string{},
			errs: []string{"(document 1)", `metadata.name "team-a/alpha" is invalid`}},
		{file: "invalid-name-uppercase.yaml", want: []string{},
			errs: []string{"(document 1)", `metadata.name "Alpha" is invalid`}},
		{file: "invalid-namespace.json", want: []string{},
			errs: []string{"(document 1)", `metadata.namespace "team.a\u202e" is invalid`, "RFC 1123 label"}},
		{file: "invalid-kind-escape.yaml", want: []string{},
			errs: []string{"(document 1)", `found "v1 Config\x1b]0;owned\aMap"`}},
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
			checkPrintable(t, err.Error())
		})
	}
}

// checkPrintable fails when an error message holds a control character (other
// than the newlines joining several errors) or a bidi override: content from
// a file must be escaped before it can reach a terminal.
func checkPrintable(t *testing.T, msg string) {
	t.Helper()
	for _, r := range msg {
		if r != '\n' && (!unicode.IsPrint(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069) {
			t.Errorf("error holds %U unescaped: %q", r, msg)
		}
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

// TestDecodeStreams covers input shapes that are easier to read inline:
// where JSON detection starts, indentation before the first YAML line, and
// duplicates in one document of a stream.
func TestDecodeStreams(t *testing.T) {
	t.Parallel()
	const (
		alpha = `{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ClusterProfile","metadata":{"name":"alpha","namespace":"team-a"}}`
		beta  = `{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ClusterProfile","metadata":{"name":"beta","namespace":"team-a"}}`
		dup   = `{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ClusterProfile","metadata":{"name":"dup","name":"alpha","namespace":"team-a"}}`
	)
	tests := []struct {
		name string
		in   string
		want []string
		errs []string
	}{
		{name: "JSON stream after white space", in: "\n\t  " + alpha + "\n" + beta, want: []string{"team-a/alpha", "team-a/beta"}},
		{name: "JSON stream, duplicate in the middle", in: alpha + dup + beta, want: []string{"team-a/alpha", "team-a/beta"},
			errs: []string{"stdin (document 2)", `duplicate field "metadata.name"`}},
		{name: "JSON in a YAML file", in: "# a comment first\n" + alpha + "\n---\n" + dup, want: []string{"team-a/alpha"},
			errs: []string{"stdin (document 2)", `duplicate field "metadata.name"`}},
		{name: "indented first YAML line", in: "\n  apiVersion: multicluster.x-k8s.io/v1alpha1\n  kind: ClusterProfile\n  metadata: {name: alpha, namespace: team-a}\n",
			want: []string{"team-a/alpha"}},
		{name: "YAML duplicate at the top", in: "kind: ClusterProfile\nkind: ClusterProfile\n", want: []string{},
			errs: []string{"stdin (document 1)", `duplicate field "kind"`}},
		{name: "YAML syntax error does not hide later documents", in: "metadata: [\n---\n" + beta, want: []string{"team-a/beta"},
			errs: []string{"stdin (document 1)", "yaml:"}},
		{name: "flow YAML read as JSON", in: "{kind: ClusterProfile}", want: []string{},
			errs: []string{"stdin (document 1)", "is read as JSON"}},
		{name: "empty", in: "", want: []string{}},
		{name: "white space only", in: " \n\n  \n", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cps, err := profiles.Decode(strings.NewReader(tt.in), "stdin")
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

// TestDecodeErrorsOnePerProblem checks that every bad document and every bad
// list item is its own error, each naming the source and document, so that
// a caller can report them one per line.
func TestDecodeErrorsOnePerProblem(t *testing.T) {
	t.Parallel()
	const in = `apiVersion: v1
kind: List
items:
- {kind: Secret, apiVersion: v1}
- {kind: ClusterProfile, metadata: {name: alpha, namespace: team-a}}
- {kind: ClusterProfile, metadata: {name: Bad, namespace: team-a}}
---
kind: ConfigMap
`
	cps, err := profiles.Decode(strings.NewReader(in), "in.yaml")
	if got := names(cps); !slices.Equal(got, []string{"team-a/alpha"}) {
		t.Errorf("profiles = %q", got)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v is not a joined error", err)
	}
	var got []string
	for _, e := range joined.Unwrap() {
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("error spans several lines: %q", e)
		}
		got = append(got, e.Error())
	}
	want := []string{"in.yaml (document 1): items[0]", "in.yaml (document 1): items[2]", "in.yaml (document 2)"}
	if len(got) != len(want) {
		t.Fatalf("errors = %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("error %d = %q, want it to hold %q", i, got[i], want[i])
		}
	}
}
