package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/profiles"
)

// fakeHub serves ClusterProfiles at the paths client-go uses and counts the
// requests by path. It stands in for a hub, including a hostile one: it
// serves what it holds, unchecked.
type fakeHub struct {
	profiles []*v1alpha1.ClusterProfile
	mu       sync.Mutex
	requests map[string]int
}

const hubPrefix = "/apis/multicluster.x-k8s.io/v1alpha1/namespaces/"

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.requests == nil {
		h.requests = map[string]int{}
	}
	h.requests[r.URL.Path]++
	h.mu.Unlock()
	rest, ok := strings.CutPrefix(r.URL.Path, hubPrefix)
	parts := strings.Split(rest, "/")
	if !ok || r.Method != http.MethodGet || len(parts) < 2 || parts[1] != "clusterprofiles" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if len(parts) == 2 {
		list := v1alpha1.ClusterProfileList{TypeMeta: metav1.TypeMeta{Kind: "ClusterProfileList", APIVersion: profiles.APIVersion}}
		for _, cp := range h.profiles {
			list.Items = append(list.Items, *cp)
		}
		_ = json.NewEncoder(w).Encode(list)
		return
	}
	for _, cp := range h.profiles {
		if cp.Namespace == parts[0] && cp.Name == parts[2] {
			_ = json.NewEncoder(w).Encode(cp)
			return
		}
	}
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound,
		Message: fmt.Sprintf("clusterprofiles %q not found", parts[2]),
	})
}

func (h *fakeHub) gets(namespace, name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[hubPrefix+namespace+"/clusterprofiles/"+name]
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

// startFakeHub serves h and returns the path of a kubeconfig reaching it.
func startFakeHub(t *testing.T, h *fakeHub) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "hub.kubeconfig")
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: hub, cluster: {server: %q}}]
users: [{name: hub, user: {token: hub-token}}]
contexts: [{name: hub, context: {cluster: hub, user: hub, namespace: fleet-system}}]
current-context: hub
`, srv.URL)
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// hubProfile is testdata/valid-single.yaml (fleet-system/bravelion) renamed.
func hubProfile(t *testing.T, name string) *v1alpha1.ClusterProfile {
	t.Helper()
	f, err := os.Open("testdata/valid-single.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cps, err := profiles.Decode(f, "valid-single.yaml")
	if err != nil || len(cps) != 1 {
		t.Fatalf("valid-single.yaml: %d profiles, %v", len(cps), err)
	}
	cps[0].Name = name
	return cps[0]
}

// TestKubeconfigFromHubNames checks names given to --hub: a name given twice
// is read once and is no error; with several names of which one is missing,
// the rest is written but current-context is not set, nor changed by --merge.
func TestKubeconfigFromHubNames(t *testing.T) {
	t.Parallel()

	t.Run("same name twice", func(t *testing.T) {
		t.Parallel()
		h := &fakeHub{profiles: []*v1alpha1.ClusterProfile{hubProfile(t, "bravelion")}}
		hub := startFakeHub(t, h)
		res := run(t, "", kubeconfigArgs("--hub", "--kubeconfig", hub, "bravelion", "bravelion")...)
		if res.code != 0 || res.errOut != "" {
			t.Fatalf("exit code %d, want 0 and nothing on standard error:\n%s", res.code, res.errOut)
		}
		const name = "fleet-system/bravelion"
		checkKubeconfig(t, []byte(res.out), []string{name}, name)
		if n := h.gets("fleet-system", "bravelion"); n != 1 {
			t.Errorf("the hub was asked for bravelion %d times, want once", n)
		}
	})

	t.Run("one of two missing", func(t *testing.T) {
		t.Parallel()
		h := &fakeHub{profiles: []*v1alpha1.ClusterProfile{hubProfile(t, "bravelion")}}
		hub := startFakeHub(t, h)
		res := run(t, "", kubeconfigArgs("--hub", "--kubeconfig", hub, "bravelion", "ghost")...)
		if res.code != 1 {
			t.Errorf("exit code %d, want 1", res.code)
		}
		checkStderr(t, res.errOut)
		if want := "error: failed to get ClusterProfile fleet-system/ghost: not found on the hub"; !strings.Contains(res.errOut, want) {
			t.Errorf("standard error lacks %q:\n%s", want, res.errOut)
		}
		checkKubeconfig(t, []byte(res.out), []string{"fleet-system/bravelion"}, "")

		dir := t.TempDir()
		out := copyFile(t, "testdata/existing-kubeconfig.yaml", dir, 0o600)
		res = run(t, "", kubeconfigArgs("--hub", "--kubeconfig", hub, "bravelion", "ghost", "-o", out, "--merge")...)
		if res.code != 1 {
			t.Errorf("--merge: exit code %d, want 1", res.code)
		}
		cfg := loadKubeconfig(t, readFile(t, out))
		if cfg.CurrentContext != "other" {
			t.Errorf("--merge: current-context = %q, want other (unchanged)", cfg.CurrentContext)
		}
		if got := cfg.Clusters["fleet-system/bravelion"].Server; got != "https://bravelion.example.com:443" {
			t.Errorf("--merge: bravelion's server = %q, want the hub's", got)
		}
	})

	t.Run("invalid name", func(t *testing.T) {
		t.Parallel()
		h := &fakeHub{}
		hub := startFakeHub(t, h)
		res := run(t, "", kubeconfigArgs("--hub", "--kubeconfig", hub, "bravelion/status")...)
		if res.code != 1 || !strings.Contains(res.errOut, `Error: failed to query the hub: profile name "bravelion/status" is invalid`) {
			t.Errorf("exit code %d, stderr %q; want an invalid name error", res.code, res.errOut)
		}
		if n := h.total(); n != 0 {
			t.Errorf("the hub was asked %d times", n)
		}
	})
}

// TestKubeconfigFromHostileHub checks what a hub controls reaches standard
// error escaped: condition texts, and names the API server would refuse.
func TestKubeconfigFromHostileHub(t *testing.T) {
	t.Parallel()
	unhealthy := hubProfile(t, "bravelion")
	unhealthy.Status.Conditions[0].Status = metav1.ConditionFalse
	unhealthy.Status.Conditions[0].Reason = "Down\x1b]8;;https://evil.example\x07"
	unhealthy.Status.Conditions[0].Message = "\rerror: nothing to see\u2067 " + strings.Repeat("é", 500)
	badName := hubProfile(t, "evil\x1b[2J")
	h := &fakeHub{profiles: []*v1alpha1.ClusterProfile{unhealthy, badName}}
	hub := startFakeHub(t, h)
	res := run(t, "", kubeconfigArgs("--hub", "--kubeconfig", hub)...)
	if res.code != 1 {
		t.Errorf("exit code %d, want 1", res.code)
	}
	checkStderr(t, res.errOut)
	for _, want := range []string{
		`warning: ClusterProfile fleet-system/bravelion: condition ControlPlaneHealthy is False (Down\x1b]8;;https://evil.example\a: \rerror: nothing to see\u2067 éé`,
		`error: failed to list ClusterProfile "fleet-system/evil\x1b[2J": ClusterProfile metadata.name "evil\x1b[2J" is invalid`,
	} {
		if !strings.Contains(res.errOut, want) {
			t.Errorf("standard error lacks %q:\n%s", want, res.errOut)
		}
	}
	if detail, ok := warningDetail(res.errOut); !ok || len([]rune(detail)) != 200 {
		t.Errorf("warning detail = %q, want 200 characters", detail)
	}
	// The valid profile is written; it is one of two listed, so it does not
	// become the current context.
	checkKubeconfig(t, []byte(res.out), []string{"fleet-system/bravelion"}, "")
	if n := strings.Count(res.errOut, "warning: "); n != 1 {
		t.Errorf("%d warnings, want one:\n%s", n, res.errOut)
	}
}
