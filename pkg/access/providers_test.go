package access_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpaccess/cpaccess/pkg/access"
)

// expectedError reads the "# error: ..." first line of a testdata file.
func expectedError(t *testing.T, path string, data []byte) string {
	t.Helper()
	first, _, _ := strings.Cut(string(data), "\n")
	if msg, ok := strings.CutPrefix(first, "# error: "); ok {
		return msg
	}
	if want, ok := invalidJSONExpectations[filepath.Base(path)]; ok {
		return want
	}
	t.Fatalf("%s: no expected error (first line \"# error: ...\")", path)
	return ""
}

// JSON files cannot carry a comment.
var invalidJSONExpectations = map[string]string{
	"invalid-miscased-field.json": `provider "p": unknown field "providers[0].execConfig.ARGS"`,
	"invalid-trailing-json.json":  "found data after the first JSON value",
}

func TestProviderFileValidation(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "providers", "*"))
	if err != nil || len(files) < 20 {
		t.Fatalf("testdata: %d files, %v", len(files), err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := access.LoadProviderFile(path)
			if strings.HasPrefix(name, "valid-") {
				if err != nil {
					t.Fatalf("LoadProviderFile: %v", err)
				}
				if p.Source() != path {
					t.Errorf("Source() = %q, want %q", p.Source(), path)
				}
				return
			}
			want := expectedError(t, path, data)
			if err == nil {
				t.Fatalf("LoadProviderFile succeeded, want error containing %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error = %q\nwant it to contain %q", err, want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
		})
	}
}

func TestProviderFileContent(t *testing.T) {
	t.Parallel()
	p, err := access.LoadProviderFile(filepath.Join("testdata", "providers", "valid-empty-policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Names(), ","); got != "gke,eks" {
		t.Errorf("Names() = %s, want file order gke,eks", got)
	}
	gke, ok := p.Provider("gke")
	if !ok || gke.ExecConfig.InteractiveMode != "IfAvailable" || gke.ExecConfig.InstallHint != "install gke-gcloud-auth-plugin" {
		t.Errorf("gke = %+v", gke.ExecConfig)
	}
	eks, _ := p.Provider("eks")
	if eks.ExecConfig.InteractiveMode != "Never" {
		t.Errorf("empty interactiveMode should default to Never, got %q", eks.ExecConfig.InteractiveMode)
	}
	// The copy returned is the caller's own.
	eks.ExecConfig.Env[0].Value = "changed"
	again, _ := p.Provider("eks")
	if again.ExecConfig.Env[0].Value != "eu-west-1" {
		t.Error("Provider() returned shared memory")
	}
	if _, ok := p.Provider("missing"); ok {
		t.Error("Provider(missing) reported found")
	}
}

func TestLoadProviderFileMissing(t *testing.T) {
	t.Parallel()
	_, err := access.LoadProviderFile(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "failed to read provider file") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewProvidersCopiesInput(t *testing.T) {
	t.Parallel()
	in := []access.Provider{aksProvider(access.CLIArgsAppend, access.EnvVarsReplace)}
	p := mustProviders(t, in...)
	in[0].ExecConfig.Args[0] = "tampered"
	in[0].ExecConfig.Env[0].Value = "tampered"
	a := mustResolve(t, p, profile("ns", "c", ap("aks", cluster("https://c.example"))))
	if a.Exec.Args[0] != "get-token" || a.Exec.Env[0].Value != "provider-client" {
		t.Errorf("provider changed through the caller's slice: %v %v", a.Exec.Args, a.Exec.Env)
	}
}
