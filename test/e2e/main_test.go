package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpaccess/cpaccess/internal/kubecluster"
	"github.com/cpaccess/cpaccess/internal/sandbox"
)

// requiredBinaries are the real components the tests run.
var requiredBinaries = []string{"etcd", "kube-apiserver", "kubelogin", "kubectl"}

// Shared by all tests; set up once by TestMain.
var (
	sb          *sandbox.Sandbox
	cpaccessBin string
	setupErr    error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// The exec plugins client-go starts in this process (the library test)
	// inherit its environment. Nothing in it may steer kubelogin: drop the
	// AZURE_*/AAD_*/... overrides once, before any test runs.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); sandbox.KubeloginOverride(name) {
			_ = os.Unsetenv(name)
		}
	}
	if missing := kubecluster.MissingBinaries(requiredBinaries...); len(missing) > 0 {
		// Every test calls setup(t), which skips (or fails under CI).
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "cpaccess-e2e-")
	if err != nil {
		setupErr = fmt.Errorf("failed to create a temporary directory: %w", err)
		return m.Run()
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if cpaccessBin, err = buildCPAccess(ctx, tmp); err != nil {
		setupErr = err
		return m.Run()
	}
	built := time.Since(start)
	var logf func(string, ...any)
	if testing.Verbose() {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	sb, err = sandbox.Start(ctx, sandbox.Options{WorkDir: filepath.Join(tmp, "sandbox"), Logf: logf})
	if err != nil {
		setupErr = fmt.Errorf("failed to start the sandbox: %w", err)
		return m.Run()
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: cpaccess built in %v, sandbox up in %v\n",
			built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
	}
	code := m.Run()
	if err := sb.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: failed to stop the sandbox: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// buildCPAccess builds ./cmd/cpaccess from the module root into dir.
func buildCPAccess(ctx context.Context, dir string) (string, error) {
	root, err := kubecluster.ModuleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "cpaccess")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/cpaccess")
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to build cpaccess: %w\n%s", err, output)
	}
	return out, nil
}

// setup skips or fails the test (or benchmark) when the shared sandbox is
// not available.
func setup(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	kubecluster.RequireBinaries(t, requiredBinaries...)
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	if sb == nil {
		t.Fatal("the sandbox was not started")
	}
	return sb
}

// result is what a command did.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("err: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// freshEnv is the sandbox environment with a new HOME and XDG_CACHE_HOME, so
// that no kubelogin cache from another test can hide a sign-in.
func freshEnv(t *testing.T) []string {
	t.Helper()
	env, err := sb.FreshEnv()
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func runCmd(t *testing.T, env []string, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func kubectl(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runCmd(t, env, sb.KubectlPath(), args...)
}

// generateKubeconfig runs `cpaccess kubeconfig --hub` for profile
// fleet-system/<name> with providerFile and returns the output file.
func generateKubeconfig(t *testing.T, env []string, providerFile, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "member.kubeconfig")
	r := runCmd(t, env, cpaccessBin, "kubeconfig", "--provider-file", providerFile,
		"--hub", "--kubeconfig", sb.Hub().AdminKubeconfig(), "-n", sandbox.ProfileNamespace, name, "-o", out)
	if r.err != nil {
		t.Fatalf("cpaccess kubeconfig failed:\n%s", r)
	}
	return out
}
