package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/yaml"

	"github.com/cpaccess/cpaccess/internal/cli"
)

// providerFile is the provider file of most tests.
const providerFile = "testdata/providers.yaml"

// result is what one cpaccess run left behind.
type result struct {
	code   int
	out    string
	errOut string
}

// run runs cpaccess with args, stdin as standard input, and buffers as the
// output streams.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(t.Context(), cli.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, args)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// kubeconfigArgs returns the arguments of "cpaccess kubeconfig" with the test
// provider file and extra.
func kubeconfigArgs(extra ...string) []string {
	return append([]string{"kubeconfig", "--provider-file", providerFile}, extra...)
}

// checkStderr fails when the error stream holds anything but warnings,
// per-profile errors, the "wrote" notice and a final error (which may span
// several lines).
func checkStderr(t *testing.T, errOut string) {
	t.Helper()
	final := false
	for line := range strings.Lines(errOut) {
		switch {
		case final:
			// continuation of the final error
		case strings.HasPrefix(line, "Error: "):
			final = true
		case strings.HasPrefix(line, "warning: "), strings.HasPrefix(line, "error: "), strings.HasPrefix(line, "wrote "):
		default:
			t.Errorf("standard error holds a line that is no warning or error: %q", line)
		}
	}
	for _, r := range errOut {
		if r != '\n' && (!unicode.IsPrint(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069) {
			t.Errorf("standard error holds %U unescaped: %q", r, errOut)
		}
	}
	for _, marker := range []string{"current-context:", "kind: Config", "clusters:", "certificate-authority-data"} {
		if strings.Contains(errOut, marker) {
			t.Errorf("standard error holds kubeconfig content (%q):\n%s", marker, errOut)
		}
	}
}

// loadKubeconfig loads data with clientcmd and validates it by clientcmd's
// rules, as kubectl would.
func loadKubeconfig(t *testing.T, data []byte) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatalf("clientcmd.Load: %v\n%s", err, data)
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		t.Fatalf("clientcmd.Validate: %v\n%s", err, data)
	}
	return cfg
}

// rawKubeconfig decodes data strictly into the kubeconfig v1 types, with no
// defaulting: what is in the file, not what clientcmd makes of it.
func rawKubeconfig(t *testing.T, data []byte) *clientcmdv1.Config {
	t.Helper()
	var cfg clientcmdv1.Config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatalf("kubeconfig does not decode strictly: %v\n%s", err, data)
	}
	return &cfg
}

// checkKubeconfig checks data is a valid kubeconfig with one cluster, user
// and context named as each of wantContexts (in any order), each context
// pointing at its own cluster and user, current-context wantCurrent, and
// every exec user's interactiveMode written out.
func checkKubeconfig(t *testing.T, data []byte, wantContexts []string, wantCurrent string) *clientcmdapi.Config {
	t.Helper()
	cfg := loadKubeconfig(t, data)
	want := slices.Sorted(slices.Values(wantContexts))
	for what, got := range map[string][]string{
		"contexts": sortedKeys(cfg.Contexts),
		"clusters": sortedKeys(cfg.Clusters),
		"users":    sortedKeys(cfg.AuthInfos),
	} {
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	for name, c := range cfg.Contexts {
		if c.Cluster != name || c.AuthInfo != name {
			t.Errorf("context %s points at cluster %q and user %q, want both %q", name, c.Cluster, c.AuthInfo, name)
		}
	}
	if cfg.CurrentContext != wantCurrent {
		t.Errorf("current-context = %q, want %q", cfg.CurrentContext, wantCurrent)
	}
	raw := rawKubeconfig(t, data)
	for _, u := range raw.AuthInfos {
		if u.AuthInfo.Exec == nil {
			t.Errorf("user %s has no exec section", u.Name)
			continue
		}
		if u.AuthInfo.Exec.InteractiveMode == "" {
			t.Errorf("user %s: interactiveMode is not written", u.Name)
		}
	}
	return cfg
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// rawUser returns the named user of a raw kubeconfig.
func rawUser(t *testing.T, cfg *clientcmdv1.Config, name string) *clientcmdv1.AuthInfo {
	t.Helper()
	for i := range cfg.AuthInfos {
		if cfg.AuthInfos[i].Name == name {
			return &cfg.AuthInfos[i].AuthInfo
		}
	}
	t.Fatalf("no user %q in the kubeconfig", name)
	return nil
}

// rawCluster returns the named cluster of a raw kubeconfig.
func rawCluster(t *testing.T, cfg *clientcmdv1.Config, name string) *clientcmdv1.Cluster {
	t.Helper()
	for i := range cfg.Clusters {
		if cfg.Clusters[i].Name == name {
			return &cfg.Clusters[i].Cluster
		}
	}
	t.Fatalf("no cluster %q in the kubeconfig", name)
	return nil
}

// readFile returns a file's content, failing the test when it cannot.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// copyFile copies a testdata file to dir with mode perm and returns its path.
func copyFile(t *testing.T, src, dir string, perm os.FileMode) string {
	t.Helper()
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, readFile(t, src), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, perm); err != nil { // not subject to the umask
		t.Fatal(err)
	}
	return dst
}

// checkMode fails unless path has permission bits want.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s = %#o, want %#o", path, got, want)
	}
}

// checkDirHolds fails unless dir holds exactly the named files: no temporary
// files are left behind.
func checkDirHolds(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}
