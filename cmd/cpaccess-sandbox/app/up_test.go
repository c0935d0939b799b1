package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpaccess/cpaccess/internal/sandbox"
)

// testUpInfo is an upInfo with paths holding a space, as a home directory
// may.
func testUpInfo(dir string) upInfo {
	return upInfo{
		WorkDir:             dir,
		EnvFile:             filepath.Join(dir, "env.sh"),
		GeneratedKubeconfig: filepath.Join(dir, "member.kubeconfig"),
		HubServer:           "https://127.0.0.1:6443",
		HubKubeconfig:       filepath.Join(dir, "hub", "admin.kubeconfig"),
		Namespace:           sandbox.ProfileNamespace,
		Profile:             sandbox.ProfileName,
		Provider:            sandbox.ProviderName,
		CABundleFile:        filepath.Join(dir, "ca-bundle.pem"),
		CABundleSource:      "/etc/ssl/certs/ca-certificates.crt",
		CacheDir:            filepath.Join(dir, "home", ".cache"),
		ProviderFile:        filepath.Join(dir, "providers.yaml"),
		CPAccess:            filepath.Join(dir, "bin", "cpaccess"),
		Kubectl:             "/usr/bin/kubectl",
	}
}

// TestEnvScript sources env.sh in sh and checks the resulting environment:
// the CA bundle as SSL_CERT_FILE, the hub as KUBECONFIG, the overrides of
// kubelogin's flags gone, and the rest of the shell (HOME, proxies,
// SSL_CERT_DIR) untouched.
func TestEnvScript(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "my sandbox")
	info := testUpInfo(dir)
	environ := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=/home/someone",
		"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		"SSL_CERT_DIR=/etc/ssl/certs",
		"HTTPS_PROXY=http://proxy.example:3128",
		"NO_PROXY=.corp.example",
		"AZURE_CLIENT_ID=stray",
		"AAD_LOGIN_METHOD=devicecode",
		"ARM_TENANT_ID=stray",
		"KUBECACHEDIR=/tmp/kcache",
		"KUBECONFIG=/home/someone/.kube/config",
		"XDG_CACHE_HOME=/home/someone/.cache",
	}
	script := envScript(environ, info)
	scriptFile := filepath.Join(t.TempDir(), "env.sh")
	if err := os.WriteFile(scriptFile, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `. "$1" && env`, "sh", scriptFile)
	cmd.Env = environ
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sourcing env.sh: %v\n%s", err, script)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	want := map[string]string{
		"SSL_CERT_FILE":  info.CABundleFile,
		"KUBECONFIG":     info.HubKubeconfig,
		"XDG_CACHE_HOME": info.CacheDir,
		"HOME":           "/home/someone",
		"SSL_CERT_DIR":   "/etc/ssl/certs",
		"HTTPS_PROXY":    "http://proxy.example:3128",
		"NO_PROXY":       ".corp.example",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q after sourcing, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"AZURE_CLIENT_ID", "AAD_LOGIN_METHOD", "ARM_TENANT_ID", "KUBECACHEDIR"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s=%q is still set after sourcing", k, v)
		}
	}
}

// TestEnvScriptIgnoresOddNames checks a variable name a shell would read as
// code never reaches the script.
func TestEnvScriptIgnoresOddNames(t *testing.T) {
	t.Parallel()
	script := envScript([]string{"AZURE_X;touch pwned=1", "AZURE_OK=1"}, testUpInfo(t.TempDir()))
	if strings.Contains(script, "pwned") {
		t.Errorf("script holds an odd name:\n%s", script)
	}
	if !strings.Contains(script, "unset AZURE_OK\n") {
		t.Errorf("script does not unset AZURE_OK:\n%s", script)
	}
}

// TestUpText checks what up prints: cpaccess and kubectl by absolute path
// in commands that paste into a shell, and where SSL_CERT_FILE points.
func TestUpText(t *testing.T) {
	t.Parallel()
	dir := "/tmp/my sandbox"
	info := testUpInfo(dir)
	var out bytes.Buffer
	if err := writeUpInfo(&out, info); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"source /tmp/my sandbox/env.sh",
		"SSL_CERT_FILE   /tmp/my sandbox/ca-bundle.pem",
		"the system trust roots (/etc/ssl/certs/ca-certificates.crt) plus the emulator's CA",
		"'/tmp/my sandbox/bin/cpaccess' kubeconfig --provider-file '/tmp/my sandbox/providers.yaml' --hub -n fleet-system bravelion -o '/tmp/my sandbox/member.kubeconfig'",
		"/usr/bin/kubectl --kubeconfig '/tmp/my sandbox/member.kubeconfig' get namespaces",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// The printed command runs as printed.
	line := findLine(text, "kubeconfig --provider-file")
	words, err := exec.Command("sh", "-c", `for w in `+line+`; do printf '%s\n' "$w"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(string(words), "\n", 2)[0]; first != info.CPAccess {
		t.Errorf("the shell reads the command as %q, want %q", first, info.CPAccess)
	}

	info.CABundleSource = ""
	out.Reset()
	if err := writeUpInfo(&out, info); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "the emulator's CA only") {
		t.Errorf("without system roots the output does not say so:\n%s", out.String())
	}
}

func findLine(s, sub string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestCPAccessFinder checks which cpaccess up and demo run: --cpaccess,
// else one built from the module into the work directory, else the one in
// the bin directory.
func TestCPAccessFinder(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	withBinary := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(withBinary, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(withBinary, "cpaccess"), []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	emptyBin := t.TempDir()
	boom := errors.New("boom")

	tests := []struct {
		name     string
		explicit string
		binDir   string
		buildErr error
		want     string // "built" for <buildDir>/cpaccess
		wantErr  error
		builds   int
		noModule bool
	}{
		{name: "--cpaccess", explicit: "/opt/cpaccess", binDir: withBinary, want: "/opt/cpaccess"},
		{name: "in the module: always built, never stale", binDir: withBinary, want: "built", builds: 1},
		{name: "in the module, nothing prebuilt: built", binDir: emptyBin, want: "built", builds: 1},
		{name: "build fails", binDir: emptyBin, buildErr: boom, wantErr: boom, builds: 1},
		{name: "outside the module: the bin directory", binDir: withBinary, noModule: true, want: filepath.Join(withBinary, "cpaccess")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			buildDir := filepath.Join(t.TempDir(), "work", "bin")
			var builds []string
			f := cpaccessFinder{
				binDir:   tt.binDir,
				buildDir: buildDir,
				moduleRoot: func() (string, error) {
					if tt.noModule {
						return "", errors.New("no module")
					}
					return root, nil
				},
				build: func(_ context.Context, r, out string) error {
					if r != root {
						t.Errorf("built in %s, want the module root %s", r, root)
					}
					builds = append(builds, out)
					return tt.buildErr
				},
				logf: t.Logf,
			}
			got, err := f.find(t.Context(), tt.explicit)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("find = %q, %v; want error %v", got, err, tt.wantErr)
			}
			want := tt.want
			if want == "built" {
				want = filepath.Join(buildDir, "cpaccess")
			}
			if err == nil && got != want {
				t.Errorf("find = %q, want %q", got, want)
			}
			if len(builds) != tt.builds {
				t.Errorf("built %d times (%q), want %d", len(builds), builds, tt.builds)
			}
			if len(builds) > 0 && !slices.Contains(builds, filepath.Join(buildDir, "cpaccess")) {
				t.Errorf("built into %q, want %s", builds, filepath.Join(buildDir, "cpaccess"))
			}
		})
	}
}

// TestGoBuild builds the real cpaccess from this module, as up and demo do
// when none is at hand.
func TestGoBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cpaccess")
	}
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go on PATH")
	}
	f := newCPAccessFinder(IOStreams{ErrOut: &bytes.Buffer{}}, t.TempDir(), t.TempDir())
	bin, err := f.find(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
}
