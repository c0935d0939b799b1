package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"

	"github.com/cpaccess/cpaccess/pkg/access"
)

// TestKubeconfigToStdout checks the plain case: one profile, the kubeconfig on
// standard output and nothing on standard error.
func TestKubeconfigToStdout(t *testing.T) {
	t.Parallel()
	res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml")...)
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
	}
	if res.errOut != "" {
		t.Errorf("standard error is not empty for a healthy profile:\n%s", res.errOut)
	}
	const name = "fleet-system/bravelion"
	cfg := checkKubeconfig(t, []byte(res.out), []string{name}, name)

	cluster := cfg.Clusters[name]
	if cluster.Server != "https://bravelion.example.com:443" {
		t.Errorf("server = %q", cluster.Server)
	}
	if !bytes.Contains(cluster.CertificateAuthorityData, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("certificate-authority-data = %q", cluster.CertificateAuthorityData)
	}
	if len(cluster.Extensions) != 0 {
		t.Errorf("cluster extensions = %v, want none for a profile without the exec extension", cluster.Extensions)
	}
	ec := cfg.AuthInfos[name].Exec
	wantArgs := []string{"get-token", "--login", "workloadidentity", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
		"--tenant-id", "11111111-2222-3333-4444-555555555555"}
	if ec.Command != "kubelogin" || !slices.Equal(ec.Args, wantArgs) {
		t.Errorf("exec = %s %q, want kubelogin %q", ec.Command, ec.Args, wantArgs)
	}
	wantEnv := []clientcmdapi.ExecEnvVar{{Name: "AZURE_CLIENT_ID", Value: "99999999-8888-7777-6666-555555555555"}}
	if !reflect.DeepEqual(ec.Env, wantEnv) {
		t.Errorf("exec env = %+v, want %+v", ec.Env, wantEnv)
	}

	raw := rawKubeconfig(t, []byte(res.out))
	if got := rawUser(t, raw, name).Exec.InteractiveMode; got != clientcmdv1.NeverExecInteractiveMode {
		t.Errorf("interactiveMode in the file = %q, want Never (the provider file leaves it empty)", got)
	}

	// Same inputs, same bytes.
	again := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml")...)
	if again.out != res.out {
		t.Errorf("a second run gave different output:\n%s\nthen:\n%s", res.out, again.out)
	}
}

// TestKubeconfigInteractiveMode checks the provider's interactive mode is
// written as configured, and Never when the provider leaves it out.
func TestKubeconfigInteractiveMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, context string
		want          clientcmdv1.ExecInteractiveMode
	}{
		{"testdata/valid-single.yaml", "fleet-system/bravelion", clientcmdv1.NeverExecInteractiveMode},
		{"testdata/valid-second.yaml", "fleet-system/silverfox", clientcmdv1.IfAvailableExecInteractiveMode},
	}
	for _, tt := range tests {
		t.Run(tt.context, func(t *testing.T) {
			t.Parallel()
			res := run(t, "", kubeconfigArgs("-f", tt.file)...)
			if res.code != 0 {
				t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
			}
			raw := rawKubeconfig(t, []byte(res.out))
			if got := rawUser(t, raw, tt.context).Exec.InteractiveMode; got != tt.want {
				t.Errorf("interactiveMode = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestKubeconfigExecExtension checks the client.authentication.k8s.io/exec
// extension lands under clusters[].cluster.extensions, where clientcmd hands
// it to the plugin.
func TestKubeconfigExecExtension(t *testing.T) {
	t.Parallel()
	res := run(t, "", kubeconfigArgs("-f", "testdata/valid-exec-extension.yaml")...)
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
	}
	const name = "fleet-system/execext"
	wantPayload := map[string]any{"audience": "api://cluster-login", "region": "westeurope", "nested": map[string]any{"replicas": float64(3)}}
	decode := func(raw []byte) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("extension payload is not a JSON object: %v: %s", err, raw)
		}
		return m
	}

	// In the file.
	raw := rawKubeconfig(t, []byte(res.out))
	exts := rawCluster(t, raw, name).Extensions
	if len(exts) != 1 || exts[0].Name != access.ExtensionExec {
		t.Fatalf("cluster extensions = %+v, want only %s", exts, access.ExtensionExec)
	}
	if got := decode(exts[0].Extension.Raw); !reflect.DeepEqual(got, wantPayload) {
		t.Errorf("extension payload = %v, want %v", got, wantPayload)
	}

	// As clientcmd loads it.
	cfg := checkKubeconfig(t, []byte(res.out), []string{name}, name)
	u, ok := cfg.Clusters[name].Extensions[access.ExtensionExec].(*runtime.Unknown)
	if !ok {
		t.Fatalf("loaded extension = %T, want *runtime.Unknown", cfg.Clusters[name].Extensions[access.ExtensionExec])
	}
	if got := decode(u.Raw); !reflect.DeepEqual(got, wantPayload) {
		t.Errorf("loaded extension payload = %v, want %v", got, wantPayload)
	}

	// As client-go hands it to the plugin.
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if rc.ExecProvider == nil || rc.ExecProvider.Config == nil {
		t.Fatalf("rest config exec provider = %+v, want one with Config", rc.ExecProvider)
	}
	if !rc.ExecProvider.ProvideClusterInfo {
		t.Error("provideClusterInfo lost")
	}
	cfgRaw, err := json.Marshal(rc.ExecProvider.Config)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(cfgRaw); !reflect.DeepEqual(got, wantPayload) {
		t.Errorf("ExecProvider.Config = %v, want %v", got, wantPayload)
	}
	wantEnv := []clientcmdapi.ExecEnvVar{{Name: "CLUSTER_LOGIN_MODE", Value: "federated"}}
	if !reflect.DeepEqual(rc.ExecProvider.Env, wantEnv) {
		t.Errorf("exec env = %+v, want %+v", rc.ExecProvider.Env, wantEnv)
	}
}

// TestKubeconfigInputs covers the ways profiles are given: repeated -f,
// standard input, several documents, JSON, List kinds, and bad documents.
func TestKubeconfigInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		stdin string // a file whose content is standard input
		// want are the contexts written; nil means no output at all.
		want     []string
		wantCode int
		// wantErr are substrings of standard error.
		wantErr []string
	}{
		{name: "one file", args: []string{"-f", "testdata/valid-single.yaml"},
			want: []string{"fleet-system/bravelion"}},
		{name: "repeated -f", args: []string{"-f", "testdata/valid-single.yaml", "--filename", "testdata/valid-second.yaml"},
			want: []string{"fleet-system/bravelion", "fleet-system/silverfox"}},
		{name: "stdin", args: []string{"-f", "-"}, stdin: "testdata/valid-single.yaml",
			want: []string{"fleet-system/bravelion"}},
		{name: "stdin and a file", args: []string{"-f", "testdata/valid-second.yaml", "-f", "-"}, stdin: "testdata/valid-single.yaml",
			want: []string{"fleet-system/bravelion", "fleet-system/silverfox"}},
		{name: "stdin JSON", args: []string{"-f", "-"}, stdin: "testdata/valid-profiles.json",
			want: []string{"team-a/alpha", "team-b/gamma"}},
		{name: "stdin twice", args: []string{"-f", "-", "-f", "-"}, stdin: "testdata/valid-single.yaml",
			want: []string{"fleet-system/bravelion"}, wantCode: 1, wantErr: []string{`error: standard input ("-") is given more than once`}},
		{name: "multi-document YAML with empty documents", args: []string{"-f", "testdata/valid-multi-document.yaml"},
			want: []string{"team-a/alpha", "team-a/beta", "team-b/gamma"}},
		{name: "JSON stream", args: []string{"-f", "testdata/valid-profiles.json"},
			want: []string{"team-a/alpha", "team-b/gamma"}},
		{name: "kind List", args: []string{"-f", "testdata/valid-list.yaml"},
			want: []string{"team-a/alpha", "team-a/beta"}},
		{name: "kind ClusterProfileList YAML", args: []string{"-f", "testdata/valid-clusterprofilelist.yaml"},
			want: []string{"team-a/alpha", "team-a/beta"}},
		{name: "kind ClusterProfileList JSON", args: []string{"-f", "testdata/valid-clusterprofilelist.json"},
			want: []string{"team-a/alpha", "team-a/beta"}},
		{name: "wrong kind in document 2", args: []string{"-f", "testdata/invalid-kind.yaml"},
			want: []string{"team-a/alpha", "team-b/gamma"}, wantCode: 1,
			wantErr: []string{"error: failed to read testdata/invalid-kind.yaml (document 2): expected kind ClusterProfile", "ConfigMap"}},
		{name: "two bad documents, each reported", args: []string{"-f", "testdata/invalid-two-bad-documents.yaml"},
			want: []string{"team-a/alpha"}, wantCode: 1,
			wantErr: []string{"error: failed to read testdata/invalid-two-bad-documents.yaml (document 1)", "found v1 ConfigMap",
				"error: failed to read testdata/invalid-two-bad-documents.yaml (document 3)", "found v1 Secret"}},
		{name: "profile without namespace", args: []string{"-f", "testdata/valid-no-namespace.yaml"},
			want: []string{"lonely"}, wantErr: []string{"warning: ClusterProfile lonely has no ControlPlaneHealthy condition"}},
		{name: "wrong apiVersion", args: []string{"-f", "testdata/invalid-apiversion.yaml"},
			wantCode: 1, wantErr: []string{"testdata/invalid-apiversion.yaml (document 1)", "multicluster.x-k8s.io/v1beta9"}},
		{name: "syntax error", args: []string{"-f", "testdata/invalid-syntax.yaml"},
			wantCode: 1, wantErr: []string{"error: failed to read testdata/invalid-syntax.yaml (document 1)"}},
		{name: "no profiles", args: []string{"-f", "testdata/invalid-empty.yaml"},
			wantCode: 1, wantErr: []string{"Error: no ClusterProfiles found"}},
		{name: "empty stdin", args: []string{"-f", "-"},
			wantCode: 1, wantErr: []string{"Error: no ClusterProfiles found"}},
		{name: "missing file", args: []string{"-f", "testdata/does-not-exist.yaml"},
			wantCode: 1, wantErr: []string{"error: failed to open ClusterProfile file", "testdata/does-not-exist.yaml", "no such file"}},
		{name: "missing file and a good one", args: []string{"-f", "testdata/does-not-exist.yaml", "-f", "testdata/valid-single.yaml"},
			want: []string{"fleet-system/bravelion"}, wantCode: 1, wantErr: []string{"testdata/does-not-exist.yaml"}},
		{name: "directory", args: []string{"-f", "testdata"},
			wantCode: 1, wantErr: []string{"error: failed to read testdata (document 1)", "is a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdin string
			if tt.stdin != "" {
				stdin = string(readFile(t, tt.stdin))
			}
			res := run(t, stdin, kubeconfigArgs(tt.args...)...)
			if res.code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, tt.wantCode, res.errOut)
			}
			checkStderr(t, res.errOut)
			for _, s := range tt.wantErr {
				if !strings.Contains(res.errOut, s) {
					t.Errorf("standard error does not hold %q:\n%s", s, res.errOut)
				}
			}
			if tt.wantErr == nil && res.errOut != "" {
				t.Errorf("unexpected standard error:\n%s", res.errOut)
			}
			if tt.want == nil {
				if res.out != "" {
					t.Errorf("standard output is not empty:\n%s", res.out)
				}
				return
			}
			// current-context only for exactly one profile read, and
			// nothing else that failed to be read.
			wantCurrent := ""
			if len(tt.want) == 1 && tt.wantCode == 0 {
				wantCurrent = tt.want[0]
			}
			checkKubeconfig(t, []byte(res.out), tt.want, wantCurrent)
		})
	}
}

// TestKubeconfigPartialFailure checks that good profiles are written, each bad
// one is reported with its name and reason, and the exit code is 1; and that
// nothing is written when every profile is bad.
func TestKubeconfigPartialFailure(t *testing.T) {
	t.Parallel()
	badReasons := map[string]string{
		"fleet-system/nomatch":   `no matching access provider: the profile offers "gke-workload-identity"`,
		"fleet-system/plainhttp": `cluster.server: expected an https:// URL`,
		"fleet-system/badext":    `extension "clusterprofiles.multicluster.x-k8s.io/exec/additional-envs": variable "AZURE_CLIENT_ID"`,
	}
	tests := []struct {
		name   string
		file   string
		output bool
		want   []string // nil: nothing written
	}{
		{"mixed to stdout", "testdata/invalid-mixed.yaml", false, []string{"fleet-system/bravelion", "fleet-system/silverfox"}},
		{"mixed to file", "testdata/invalid-mixed.yaml", true, []string{"fleet-system/bravelion", "fleet-system/silverfox"}},
		{"all bad to stdout", "testdata/invalid-all-bad.yaml", false, nil},
		{"all bad to file", "testdata/invalid-all-bad.yaml", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := filepath.Join(dir, "out.kubeconfig")
			args := kubeconfigArgs("-f", tt.file)
			if tt.output {
				args = append(args, "-o", out)
			}
			res := run(t, "", args...)
			if res.code != 1 {
				t.Errorf("exit code %d, want 1", res.code)
			}
			checkStderr(t, res.errOut)
			for name, reason := range badReasons {
				line := findLine(res.errOut, "ClusterProfile "+name+":")
				if line == "" {
					t.Errorf("%s is not reported:\n%s", name, res.errOut)
					continue
				}
				if !strings.HasPrefix(line, "error: ") || !strings.Contains(line, reason) {
					t.Errorf("report of %s = %q, want an error holding %q", name, line, reason)
				}
			}
			for _, name := range tt.want {
				if strings.Contains(res.errOut, name) {
					t.Errorf("good profile %s is mentioned on standard error:\n%s", name, res.errOut)
				}
			}

			var written []byte
			if tt.output {
				if res.out != "" {
					t.Errorf("standard output is not empty with -o:\n%s", res.out)
				}
				data, err := os.ReadFile(out)
				switch {
				case tt.want == nil && !errors.Is(err, fs.ErrNotExist):
					t.Errorf("output file exists (err %v) though every profile failed", err)
				case tt.want == nil:
					checkDirHolds(t, dir)
				case err != nil:
					t.Fatal(err)
				default:
					written = data
				}
			} else {
				written = []byte(res.out)
			}
			if tt.want == nil {
				if len(written) != 0 {
					t.Errorf("written though every profile failed:\n%s", written)
				}
				return
			}
			checkKubeconfig(t, written, tt.want, "")
		})
	}
}

// findLine returns the first line of s holding sub, or "".
func findLine(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return strings.TrimSuffix(line, "\n")
		}
	}
	return ""
}

// TestKubeconfigHealthWarnings checks a profile whose ControlPlaneHealthy
// condition is not True gets a warning, and is still written.
func TestKubeconfigHealthWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		// want is a substring of the warning; "" means no warning.
		want string
	}{
		{"valid-health-true.yaml", ""},
		{"valid-health-false.yaml", "warning: ClusterProfile fleet-system/health-false: condition ControlPlaneHealthy is False (ProbeFalse: probe result false)"},
		{"valid-health-unknown.yaml", "warning: ClusterProfile fleet-system/health-unknown: condition ControlPlaneHealthy is Unknown"},
		{"valid-health-missing.yaml", "warning: ClusterProfile fleet-system/health-missing has no ControlPlaneHealthy condition"},
		// Reason, message and status come from the hub or the file: escaped,
		// and the detail cut to 200 characters.
		{"valid-health-hostile.yaml", `warning: ClusterProfile fleet-system/health-hostile: condition ControlPlaneHealthy is False (Probe\x1b[2JFalse: line one\r\nerror: forged line \u202eevil\u202c xxxx`},
		{"valid-health-badstatus.yaml", `warning: ClusterProfile fleet-system/health-badstatus: condition ControlPlaneHealthy is "Fa\x1b]0;owned\alse" (ProbeFalse: probe result false)`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			res := run(t, "", kubeconfigArgs("-f", filepath.Join("testdata", tt.file))...)
			if res.code != 0 {
				t.Errorf("exit code %d, want 0 (a warning is no failure)", res.code)
			}
			checkStderr(t, res.errOut)
			if tt.want == "" {
				if res.errOut != "" {
					t.Errorf("standard error is not empty for a healthy profile:\n%s", res.errOut)
				}
			} else if !strings.Contains(res.errOut, tt.want) || strings.Count(res.errOut, "\n") != 1 {
				t.Errorf("standard error = %q, want one warning holding %q", res.errOut, tt.want)
			}
			if detail, ok := warningDetail(res.errOut); ok && utf8.RuneCountInString(detail) > 200 {
				t.Errorf("warning detail is %d characters long, want at most 200: %q", utf8.RuneCountInString(detail), detail)
			}
			name := "fleet-system/" + strings.TrimSuffix(strings.TrimPrefix(tt.file, "valid-"), ".yaml")
			checkKubeconfig(t, []byte(res.out), []string{name}, name)
		})
	}

	t.Run("long detail is cut with an ellipsis", func(t *testing.T) {
		t.Parallel()
		res := run(t, "", kubeconfigArgs("-f", "testdata/valid-health-hostile.yaml")...)
		detail, ok := warningDetail(res.errOut)
		if !ok {
			t.Fatalf("no warning detail in %q", res.errOut)
		}
		if n := utf8.RuneCountInString(detail); n != 200 || !strings.HasSuffix(detail, "x…") {
			t.Errorf("detail = %q (%d characters), want 200 ending in an ellipsis", detail, n)
		}
	})
}

// warningDetail returns the parenthesised detail of a condition warning.
func warningDetail(errOut string) (string, bool) {
	const end = "); the cluster may be unreachable"
	line := findLine(errOut, end)
	_, rest, ok := strings.Cut(line, " (")
	if !ok {
		return "", false
	}
	return strings.TrimSuffix(rest, end), true
}

// TestKubeconfigOutputFile checks -o writes the file with mode 0600, also
// over an existing file with a wider mode, and leaves no temporary file.
func TestKubeconfigOutputFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing bool
	}{
		{"new file", false},
		{"existing 0644 file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := filepath.Join(dir, "existing-kubeconfig.yaml")
			if tt.existing {
				out = copyFile(t, "testdata/existing-kubeconfig.yaml", dir, 0o644)
				checkMode(t, out, 0o644)
			}
			res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-o", out)...)
			if res.code != 0 {
				t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
			}
			if res.out != "" {
				t.Errorf("standard output is not empty with -o:\n%s", res.out)
			}
			if want := "wrote 1 context(s) to " + out + "\n"; res.errOut != want {
				t.Errorf("standard error = %q, want %q", res.errOut, want)
			}
			checkMode(t, out, 0o600)
			checkDirHolds(t, dir, filepath.Base(out))
			// Without --merge the old content is gone.
			const name = "fleet-system/bravelion"
			cfg := checkKubeconfig(t, readFile(t, out), []string{name}, name)
			if got := cfg.Clusters[name].Server; got != "https://bravelion.example.com:443" {
				t.Errorf("server = %q", got)
			}

			// The file and standard output agree.
			stdout := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml")...)
			if got := string(readFile(t, out)); got != stdout.out {
				t.Errorf("file and standard output differ:\n%s\nvs\n%s", got, stdout.out)
			}
		})
	}

	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		out := filepath.Join(t.TempDir(), "no", "such", "dir", "kubeconfig")
		res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-o", out)...)
		// Writing (or locking the file next to it, as kubectl does) fails.
		if res.code != 1 || !strings.HasPrefix(res.errOut, "Error: failed to ") || !strings.Contains(res.errOut, out) {
			t.Errorf("exit code %d, stderr %q; want 1 and an error naming the file", res.code, res.errOut)
		}
	})
}

// TestKubeconfigMerge checks --merge keeps unrelated entries and replaces
// same-named ones, works without an existing file, and leaves a corrupt file
// alone.
func TestKubeconfigMerge(t *testing.T) {
	t.Parallel()
	const name = "fleet-system/bravelion"

	t.Run("into an existing file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		out := copyFile(t, "testdata/existing-kubeconfig.yaml", dir, 0o644)
		res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-o", out, "--merge")...)
		if res.code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
		}
		checkStderr(t, res.errOut)
		checkMode(t, out, 0o600)
		checkDirHolds(t, dir, filepath.Base(out))
		cfg := loadKubeconfig(t, readFile(t, out))
		if got, want := sortedKeys(cfg.Contexts), []string{name, "other"}; !slices.Equal(got, want) {
			t.Errorf("contexts = %q, want %q", got, want)
		}
		// Kept.
		if c := cfg.Clusters["other"]; c == nil || c.Server != "https://other.example.com" {
			t.Errorf("cluster other = %+v, want it kept", c)
		}
		if u := cfg.AuthInfos["other"]; u == nil || u.Token != "other-token" {
			t.Errorf("user other = %+v, want it kept", u)
		}
		if c := cfg.Contexts["other"]; c == nil || c.Namespace != "kube-system" || c.Cluster != "other" {
			t.Errorf("context other = %+v, want it kept", c)
		}
		// Replaced, not merged field by field.
		if got := cfg.Clusters[name].Server; got != "https://bravelion.example.com:443" {
			t.Errorf("cluster %s server = %q, want the profile's", name, got)
		}
		u := cfg.AuthInfos[name]
		if u.Token != "" || u.Exec == nil || u.Exec.Command != "kubelogin" {
			t.Errorf("user %s = token %q exec %+v, want only the exec plugin", name, u.Token, u.Exec)
		}
		if cfg.CurrentContext != name {
			t.Errorf("current-context = %q, want %q (one profile)", cfg.CurrentContext, name)
		}
	})

	t.Run("several profiles keep the current context", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		out := copyFile(t, "testdata/existing-kubeconfig.yaml", dir, 0o644)
		res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-f", "testdata/valid-second.yaml", "-o", out, "--merge")...)
		if res.code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
		}
		cfg := loadKubeconfig(t, readFile(t, out))
		if got, want := sortedKeys(cfg.Contexts), []string{name, "fleet-system/silverfox", "other"}; !slices.Equal(got, want) {
			t.Errorf("contexts = %q, want %q", got, want)
		}
		if cfg.CurrentContext != "other" {
			t.Errorf("current-context = %q, want other", cfg.CurrentContext)
		}
	})

	t.Run("into a missing file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		out := filepath.Join(dir, "config")
		res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-o", out, "--merge")...)
		if res.code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
		}
		checkMode(t, out, 0o600)
		checkKubeconfig(t, readFile(t, out), []string{name}, name)
	})

	t.Run("into a corrupt file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		out := copyFile(t, "testdata/invalid-kubeconfig.yaml", dir, 0o644)
		before := readFile(t, out)
		res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-o", out, "--merge")...)
		if res.code != 1 {
			t.Errorf("exit code %d, want 1", res.code)
		}
		if !strings.Contains(res.errOut, "Error: failed to load kubeconfig "+out) {
			t.Errorf("standard error does not name the file:\n%s", res.errOut)
		}
		if after := readFile(t, out); !bytes.Equal(after, before) {
			t.Errorf("corrupt file was changed:\n%s", after)
		}
		checkMode(t, out, 0o644)
		checkDirHolds(t, dir, filepath.Base(out))
	})
}

// TestKubeconfigFlagValidation checks bad flag combinations fail before
// anything is read or written.
func TestKubeconfigFlagValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"hub with -f", kubeconfigArgs("--hub", "-f", "testdata/valid-single.yaml"), "--hub and --filename cannot be used together"},
		{"neither -f nor --hub", kubeconfigArgs(), "give ClusterProfiles with --filename or read them from a hub with --hub"},
		{"names without --hub", kubeconfigArgs("-f", "testdata/valid-single.yaml", "bravelion", "silverfox"), "profile names (bravelion, silverfox) are only accepted with --hub"},
		{"-l with names", kubeconfigArgs("--hub", "-n", "fleet-system", "-l", "env=prod", "bravelion"), "profile names cannot be combined with --selector or --all-namespaces"},
		{"-A with names", kubeconfigArgs("--hub", "-A", "bravelion"), "profile names cannot be combined with --selector or --all-namespaces"},
		{"bad selector", kubeconfigArgs("--hub", "-l", "env in (prod"), "failed to parse --selector"},
		{"hub flags without --hub", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-n", "fleet-system"), "--namespace, --all-namespaces, --selector, --kubeconfig and --context only apply with --hub"},
		{"selector without --hub", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-l", "env=prod"), "--namespace, --all-namespaces, --selector, --kubeconfig and --context only apply with --hub"},
		{"--merge without -o", kubeconfigArgs("-f", "testdata/valid-single.yaml", "--merge"), "--merge needs --output FILE"},
		{"missing --provider-file", []string{"kubeconfig", "-f", "testdata/valid-single.yaml"}, `required flag(s) "provider-file" not set`},
		{"unknown flag", kubeconfigArgs("-f", "testdata/valid-single.yaml", "--no-such-flag"), "unknown flag: --no-such-flag"},
		{"unknown command", []string{"kubeconfigs"}, `unknown command "kubeconfigs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, "", tt.args...)
			if res.code != 1 {
				t.Errorf("exit code %d, want 1", res.code)
			}
			if res.out != "" {
				t.Errorf("standard output is not empty:\n%s", res.out)
			}
			if want := "Error: " + tt.want; !strings.Contains(res.errOut, want) {
				t.Errorf("standard error = %q, want it to hold %q", res.errOut, want)
			}
			if strings.Count(res.errOut, "Error:") != 1 {
				t.Errorf("the error is not printed exactly once:\n%s", res.errOut)
			}
			if strings.Contains(res.errOut, "Usage:") {
				t.Errorf("usage printed on a runtime error:\n%s", res.errOut)
			}
		})
	}
}

// TestKubeconfigBadProviderFile checks a bad provider file fails at start-up
// with an error naming the file and the provider or field at fault.
func TestKubeconfigBadProviderFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"invalid-providers-unknown-field.yaml", []string{`provider "p1"`, "providers[0].execConfig.ARGS", "case-sensitive"}},
		{"invalid-providers-bad-policy.yaml", []string{`provider "p1"`, "profileSourcedCLIArgsPolicy", `"append"`}},
		{"invalid-providers-bad-env-policy.yaml", []string{`provider "p1"`, "profileSourcedEnvVarsPolicy", `"Merge"`}},
		{"invalid-providers-missing-execconfig.yaml", []string{`provider "p1"`, "execConfig", "required"}},
		{"invalid-providers-empty-command.yaml", []string{`provider "p1"`, "execConfig.command", "must not be empty"}},
		{"invalid-providers-bad-apiversion.yaml", []string{`provider "p1"`, "execConfig.apiVersion", "client.authentication.k8s.io/v1alpha1"}},
		{"invalid-providers-bad-interactivemode.yaml", []string{`provider "p1"`, "execConfig.interactiveMode", `"Sometimes"`}},
		{"invalid-providers-duplicate-name.yaml", []string{"providers[1]", `name "p1" is already used by providers[0]`}},
		{"invalid-providers-empty-name.yaml", []string{"providers[0]", "field name", "must not be empty"}},
		{"invalid-providers-not-yaml.yaml", []string{"not valid JSON or YAML"}},
		{"does-not-exist.yaml", []string{"failed to read provider file", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tt.file)
			res := run(t, "", "kubeconfig", "--provider-file", path, "-f", "testdata/valid-single.yaml")
			if res.code != 1 {
				t.Errorf("exit code %d, want 1", res.code)
			}
			if res.out != "" {
				t.Errorf("standard output is not empty:\n%s", res.out)
			}
			checkStderr(t, res.errOut)
			for _, s := range append([]string{"Error: ", path}, tt.want...) {
				if !strings.Contains(res.errOut, s) {
					t.Errorf("standard error does not hold %q:\n%s", s, res.errOut)
				}
			}
		})
	}
}

// TestKubeconfigDuplicateProfile checks a profile given twice is reported
// and written once, from its first occurrence.
func TestKubeconfigDuplicateProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"twice in one file", []string{"-f", "testdata/invalid-duplicate-profile.yaml"}},
		{"same file twice", []string{"-f", "testdata/valid-single.yaml", "-f", "testdata/valid-single.yaml"}},
	}
	const name = "fleet-system/bravelion"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, "", kubeconfigArgs(tt.args...)...)
			if res.code != 1 {
				t.Errorf("exit code %d, want 1", res.code)
			}
			checkStderr(t, res.errOut)
			if want := "error: ClusterProfile " + name + " is given more than once"; !strings.Contains(res.errOut, want) {
				t.Errorf("standard error does not hold %q:\n%s", want, res.errOut)
			}
			cfg := checkKubeconfig(t, []byte(res.out), []string{name}, name)
			if got := cfg.Clusters[name].Server; got != "https://bravelion.example.com:443" {
				t.Errorf("server = %q, want the first occurrence's", got)
			}
		})
	}
}

// secretMarker is a piece of the opaque value the invalid-secret-* profiles
// carry; it must never be printed.
const secretMarker = "c2VjcmV0LXBheWxvYWQtZG8tbm90LXByaW50"

// TestKubeconfigDoesNotPrintSecrets checks errors about a profile's
// extensions name the profile and extension but never print their payload.
func TestKubeconfigDoesNotPrintSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"invalid-secret-duplicate-extension.yaml", []string{"fleet-system/dupext", `"client.authentication.k8s.io/exec"`, "more than once"}},
		{"invalid-secret-denied-flag.yaml", []string{"fleet-system/deniedflag", access.ExtensionAdditionalArgs, `"--client-secret"`}},
		{"invalid-secret-env-value.yaml", []string{"fleet-system/badenv", access.ExtensionAdditionalEnvs, `"AZURE_CLIENT_ID"`}},
		{"invalid-secret-denied-env.yaml", []string{"fleet-system/deniedenv", access.ExtensionAdditionalEnvs, `"AZURE_CLIENT_SECRET"`}},
		{"invalid-secret-args-object.yaml", []string{"fleet-system/badargs", access.ExtensionAdditionalArgs, `unknown key "token"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tt.file)
			if !bytes.Contains(readFile(t, path), []byte(secretMarker)) {
				t.Fatalf("%s does not carry the secret marker", path)
			}
			res := run(t, "", kubeconfigArgs("-f", path)...)
			if res.code != 1 {
				t.Errorf("exit code %d, want 1", res.code)
			}
			if res.out != "" {
				t.Errorf("standard output is not empty:\n%s", res.out)
			}
			checkStderr(t, res.errOut)
			for _, s := range tt.want {
				if !strings.Contains(res.errOut, s) {
					t.Errorf("standard error does not hold %q:\n%s", s, res.errOut)
				}
			}
			if strings.Contains(res.errOut, secretMarker) || strings.Contains(res.errOut, "secret-payload") {
				t.Errorf("standard error prints the extension payload:\n%s", res.errOut)
			}
		})
	}
}

// TestKubeconfigExample runs the AKS workload identity example as documented.
func TestKubeconfigExample(t *testing.T) {
	t.Parallel()
	res := run(t, "", "kubeconfig",
		"-f", "../../examples/aks-workload-identity/clusterprofile.yaml",
		"--provider-file", "../../examples/aks-workload-identity/providers.yaml")
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
	}
	if res.errOut != "" {
		t.Errorf("standard error is not empty:\n%s", res.errOut)
	}
	const name = "fleet-system/bravelion"
	cfg := checkKubeconfig(t, []byte(res.out), []string{name}, name)
	if got := cfg.Clusters[name].Server; got != "https://bravelion-dns-4k2j7q1x.hcp.westeurope.azmk8s.io:443" {
		t.Errorf("server = %q", got)
	}
	ec := cfg.AuthInfos[name].Exec
	wantArgs := []string{
		"get-token", "--login", "workloadidentity",
		"--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
		"--federated-token-file", "/var/run/secrets/tokens/azure-identity-token",
		"--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47",
		"--authority-host", "https://login.microsoftonline.com/",
	}
	if !slices.Equal(ec.Args, wantArgs) {
		t.Errorf("args = %q\nwant   %q", ec.Args, wantArgs)
	}
	wantEnv := []clientcmdapi.ExecEnvVar{{Name: "AZURE_CLIENT_ID", Value: "3f1b2c9e-8a47-4d6e-9b1f-5c2a7e8d4f60"}}
	if !reflect.DeepEqual(ec.Env, wantEnv) {
		t.Errorf("env = %+v, want %+v", ec.Env, wantEnv)
	}
	if ec.Command != "kubelogin" || ec.APIVersion != "client.authentication.k8s.io/v1beta1" {
		t.Errorf("exec = %s %s", ec.APIVersion, ec.Command)
	}
	if !strings.Contains(ec.InstallHint, "https://azure.github.io/kubelogin/install.html") {
		t.Errorf("installHint = %q", ec.InstallHint)
	}
}

// TestKubeconfigWithKubectl checks kubectl reads the generated file unchanged.
func TestKubeconfigWithKubectl(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("kubectl is not on PATH")
		}
		t.Fatalf("kubectl is required in CI: %v", err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "generated.kubeconfig")
	res := run(t, "", kubeconfigArgs("-f", "testdata/valid-single.yaml", "-f", "testdata/valid-exec-extension.yaml", "-o", out)...)
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
	}
	kubectlRun := func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), kubectl, append(args, "--kubeconfig", out)...)
		// No user kubeconfig, cache or plugin from the environment.
		cmd.Env = append(os.Environ(), "HOME="+dir, "KUBECONFIG=", "KUBECACHEDIR="+filepath.Join(dir, "cache"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout
	}

	var view struct {
		Clusters []struct {
			Name    string `json:"name"`
			Cluster struct {
				Server     string `json:"server"`
				Extensions []struct {
					Name string `json:"name"`
				} `json:"extensions"`
			} `json:"cluster"`
		} `json:"clusters"`
		Contexts []struct {
			Name string `json:"name"`
		} `json:"contexts"`
		Users []struct {
			Name string `json:"name"`
			User struct {
				Exec struct {
					Command         string   `json:"command"`
					Args            []string `json:"args"`
					InteractiveMode string   `json:"interactiveMode"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
	}
	data := kubectlRun("config", "view", "-o", "json")
	if err := json.Unmarshal(data, &view); err != nil {
		t.Fatalf("kubectl config view output: %v\n%s", err, data)
	}
	var contexts []string
	for _, c := range view.Contexts {
		contexts = append(contexts, c.Name)
	}
	want := []string{"fleet-system/bravelion", "fleet-system/execext"}
	if slices.Sort(contexts); !slices.Equal(contexts, want) {
		t.Errorf("kubectl config view contexts = %q, want %q", contexts, want)
	}
	for _, u := range view.Users {
		if u.User.Exec.Command == "" || u.User.Exec.InteractiveMode == "" {
			t.Errorf("kubectl sees user %s with exec %+v", u.Name, u.User.Exec)
		}
	}
	extFound := false
	for _, c := range view.Clusters {
		for _, e := range c.Cluster.Extensions {
			extFound = extFound || (c.Name == "fleet-system/execext" && e.Name == access.ExtensionExec)
		}
	}
	if !extFound {
		t.Errorf("kubectl does not see the exec extension of fleet-system/execext:\n%s", data)
	}

	listed := string(kubectlRun("config", "get-contexts", "-o", "name"))
	for _, name := range want {
		if !slices.Contains(strings.Fields(listed), name) {
			t.Errorf("kubectl config get-contexts does not list %s:\n%s", name, listed)
		}
	}
	table := string(kubectlRun("config", "get-contexts"))
	if !strings.Contains(table, "fleet-system/bravelion") {
		t.Errorf("kubectl config get-contexts table does not list the context:\n%s", table)
	}
}

// TestKubeconfigCurrentContextOnPartialRuns checks current-context is set
// only when exactly one profile was given and resolved: of two profiles, the
// one left after the other failed does not become the current context, on
// standard output, with -o, or with --merge (which keeps the file's own).
func TestKubeconfigCurrentContextOnPartialRuns(t *testing.T) {
	t.Parallel()
	const name = "fleet-system/bravelion"
	tests := []struct {
		name     string
		files    []string
		wantCode int
		want     string // current-context; "other" is the merged file's own
		output   string // "", "file" or "merge"
	}{
		{"one profile", []string{"testdata/valid-single.yaml"}, 0, name, ""},
		{"one profile to a file", []string{"testdata/valid-single.yaml"}, 0, name, "file"},
		{"one profile merged", []string{"testdata/valid-single.yaml"}, 0, name, "merge"},
		{"one of two resolves", []string{"testdata/valid-single.yaml", "testdata/invalid-secret-denied-flag.yaml"}, 1, "", ""},
		{"one of two resolves, to a file", []string{"testdata/valid-single.yaml", "testdata/invalid-secret-denied-flag.yaml"}, 1, "", "file"},
		{"one of two resolves, merged", []string{"testdata/valid-single.yaml", "testdata/invalid-secret-denied-flag.yaml"}, 1, "other", "merge"},
		{"a file fails to open", []string{"testdata/valid-single.yaml", "testdata/does-not-exist.yaml"}, 1, "", ""},
		{"a document fails to decode", []string{"testdata/valid-single.yaml", "testdata/invalid-syntax.yaml"}, 1, "other", "merge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			for _, f := range tt.files {
				args = append(args, "-f", f)
			}
			out := filepath.Join(t.TempDir(), "out.kubeconfig")
			switch tt.output {
			case "file":
				args = append(args, "-o", out)
			case "merge":
				out = copyFile(t, "testdata/existing-kubeconfig.yaml", filepath.Dir(out), 0o600)
				args = append(args, "-o", out, "--merge")
			}
			res := run(t, "", kubeconfigArgs(args...)...)
			if res.code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, tt.wantCode, res.errOut)
			}
			checkStderr(t, res.errOut)
			data := []byte(res.out)
			if tt.output != "" {
				data = readFile(t, out)
			}
			cfg := loadKubeconfig(t, data)
			if cfg.CurrentContext != tt.want {
				t.Errorf("current-context = %q, want %q", cfg.CurrentContext, tt.want)
			}
			if cfg.Contexts[name] == nil {
				t.Errorf("context %s is not written", name)
			}
		})
	}
}

// TestKubeconfigProviderWarnings checks a provider that takes profile
// arguments or variables without an allow list is pointed out on standard
// error, once per run, and is no failure.
func TestKubeconfigProviderWarnings(t *testing.T) {
	t.Parallel()
	const path = "testdata/providers-open.yaml"
	res := run(t, "", "kubeconfig", "--provider-file", path, "-f", "testdata/valid-single.yaml")
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
	}
	checkStderr(t, res.errOut)
	for _, want := range []string{
		"warning: " + path + `: provider "aks-workload-identity" appends profile arguments without allowedProfileArgs`,
		"warning: " + path + `: provider "aks-workload-identity" takes profile environment variables without allowedProfileEnvVars`,
	} {
		if strings.Count(res.errOut, want) != 1 {
			t.Errorf("standard error does not hold %q once:\n%s", want, res.errOut)
		}
	}
	const name = "fleet-system/bravelion"
	checkKubeconfig(t, []byte(res.out), []string{name}, name)
}
