package kubecluster_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cpaccess/cpaccess/internal/kubecluster"
)

func TestCluster(t *testing.T) {
	kubecluster.RequireBinaries(t, "etcd", "kube-apiserver")
	ctx := t.Context()

	c, err := kubecluster.Start(ctx, kubecluster.Options{
		WorkDir:                  t.TempDir(),
		AnonymousIssuerDiscovery: true,
		Logf:                     t.Logf,
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	if !strings.HasPrefix(c.Server(), "https://127.0.0.1:") {
		t.Errorf("Server() = %q, want https://127.0.0.1:PORT", c.Server())
	}

	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("list namespaces", func(t *testing.T) {
		// kube-apiserver creates the system namespaces in the background.
		deadline := time.Now().Add(20 * time.Second)
		for {
			nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list namespaces: %v", err)
			}
			if hasNamespace(nss.Items, "kube-system") && hasNamespace(nss.Items, "default") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("namespaces = %v, want kube-system and default among them", nss.Items)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("admin kubeconfig", func(t *testing.T) {
		cfg, err := clientcmd.BuildConfigFromFlags("", c.AdminKubeconfig())
		if err != nil {
			t.Fatalf("load %s: %v", c.AdminKubeconfig(), err)
		}
		kc, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		review, err := kc.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SelfSubjectReview: %v", err)
		}
		if got := review.Status.UserInfo.Groups; !contains(got, "system:masters") {
			t.Errorf("admin groups = %v, want system:masters", got)
		}
	})

	t.Run("anonymous issuer discovery", func(t *testing.T) {
		// No client certificate: the request is anonymous.
		hc := &http.Client{Transport: &http.Transport{Proxy: nil, TLSClientConfig: tlsTrusting(t, c.CAPEM())}}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		getJSON(t, hc, c.ServiceAccountIssuer()+"/.well-known/openid-configuration", &doc)
		if doc.Issuer != c.ServiceAccountIssuer() || doc.JWKSURI != c.Server()+"/openid/v1/jwks" {
			t.Errorf("discovery = %+v, want issuer %s and jwks_uri under it", doc, c.ServiceAccountIssuer())
		}
		var jwks struct {
			Keys []map[string]any `json:"keys"`
		}
		getJSON(t, hc, doc.JWKSURI, &jwks)
		if len(jwks.Keys) != 1 || jwks.Keys[0]["kty"] != "RSA" {
			t.Errorf("jwks = %v, want one RSA key", jwks.Keys)
		}
	})

	t.Run("forged token matches kube-apiserver's", func(t *testing.T) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "workload"}}
		if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create service account: %v", err)
		}
		tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "workload", &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{Audiences: []string{kubecluster.AzureADTokenExchangeAudience}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("TokenRequest: %v", err)
		}
		realHeader, realClaims := decodeJWT(t, tr.Status.Token)
		if realClaims["iss"] != c.ServiceAccountIssuer() {
			t.Errorf("iss = %v, want %s", realClaims["iss"], c.ServiceAccountIssuer())
		}
		forged, err := c.SignServiceAccountJWT(realClaims)
		if err != nil {
			t.Fatal(err)
		}
		forgedHeader, _ := decodeJWT(t, forged)
		if forgedHeader["kid"] != realHeader["kid"] || forgedHeader["alg"] != realHeader["alg"] {
			t.Errorf("forged header %v, kube-apiserver's %v", forgedHeader, realHeader)
		}
		review, err := cs.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
			Spec: authenticationv1.TokenReviewSpec{Token: forged, Audiences: []string{kubecluster.AzureADTokenExchangeAudience}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("TokenReview: %v", err)
		}
		if !review.Status.Authenticated || review.Status.User.Username != "system:serviceaccount:default:workload" {
			t.Errorf("TokenReview of the forged token = %+v, want authenticated as the service account", review.Status)
		}
	})

	t.Run("ClusterProfile CRD", func(t *testing.T) {
		if err := kubecluster.InstallClusterProfileCRD(ctx, c.RESTConfig()); err != nil {
			t.Fatalf("InstallClusterProfileCRD: %v", err)
		}
		// A second install is a no-op.
		if err := kubecluster.InstallClusterProfileCRD(ctx, c.RESTConfig()); err != nil {
			t.Fatalf("InstallClusterProfileCRD again: %v", err)
		}
		scheme := runtime.NewScheme()
		if err := v1alpha1.AddToScheme(scheme); err != nil {
			t.Fatal(err)
		}
		cl, err := client.New(c.RESTConfig(), client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		cp := &v1alpha1.ClusterProfile{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bravelion"},
			Spec:       v1alpha1.ClusterProfileSpec{ClusterManager: v1alpha1.ClusterManager{Name: "kubefleet"}},
		}
		if err := cl.Create(ctx, cp); err != nil {
			t.Fatalf("create ClusterProfile: %v", err)
		}
		base := cp.DeepCopy()
		cp.Status = v1alpha1.ClusterProfileStatus{
			Conditions: []metav1.Condition{{
				Type: v1alpha1.ClusterConditionControlPlaneHealthy, Status: metav1.ConditionTrue,
				Reason: "Healthy", Message: "ok", LastTransitionTime: metav1.Now(),
			}},
			AccessProviders: []v1alpha1.AccessProvider{{
				Name: "aks-workload-identity",
				Cluster: clientcmdv1.Cluster{
					Server:                   "https://member.example:443",
					CertificateAuthorityData: c.CAPEM(),
					Extensions: []clientcmdv1.NamedExtension{{
						Name:      "clusterprofiles.multicluster.x-k8s.io/exec/additional-args",
						Extension: runtime.RawExtension{Raw: []byte(`{"args":["--tenant-id","t1"]}`)},
					}},
				},
			}},
		}
		if err := cl.Status().Patch(ctx, cp, client.MergeFrom(base)); err != nil {
			t.Fatalf("patch status: %v", err)
		}
		got := &v1alpha1.ClusterProfile{}
		if err := cl.Get(ctx, client.ObjectKeyFromObject(cp), got); err != nil {
			t.Fatal(err)
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ClusterConditionControlPlaneHealthy) {
			t.Errorf("conditions = %v, want ControlPlaneHealthy=True", got.Status.Conditions)
		}
		if len(got.Status.AccessProviders) != 1 || got.Status.AccessProviders[0].Cluster.Server != "https://member.example:443" ||
			len(got.Status.AccessProviders[0].Cluster.Extensions) != 1 {
			t.Fatalf("access providers = %+v", got.Status.AccessProviders)
		}
		if ext := string(got.Status.AccessProviders[0].Cluster.Extensions[0].Extension.Raw); ext != `{"args":["--tenant-id","t1"]}` {
			t.Errorf("extension = %s", ext)
		}
		// The status is a subresource: a main-resource update does not touch it.
		got.Status.AccessProviders = nil
		got.Spec.DisplayName = "Brave Lion"
		if err := cl.Update(ctx, got); err != nil {
			t.Fatalf("update: %v", err)
		}
		again := &v1alpha1.ClusterProfile{}
		if err := cl.Get(ctx, client.ObjectKeyFromObject(cp), again); err != nil {
			t.Fatal(err)
		}
		if again.Spec.DisplayName != "Brave Lion" || len(again.Status.AccessProviders) != 1 {
			t.Errorf("after update: displayName %q, %d access providers; want the spec changed and the status kept",
				again.Spec.DisplayName, len(again.Status.AccessProviders))
		}
	})

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	shortCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().List(shortCtx, metav1.ListOptions{}); err == nil {
		t.Error("the API server still answers after Stop")
	}
}

func TestStartRequiresWorkDir(t *testing.T) {
	if _, err := kubecluster.Start(t.Context(), kubecluster.Options{}); err == nil || !strings.Contains(err.Error(), "WorkDir") {
		t.Fatalf("Start without WorkDir: err = %v, want one naming WorkDir", err)
	}
}

func TestStartFailureShowsLog(t *testing.T) {
	kubecluster.RequireBinaries(t, "etcd", "kube-apiserver")
	_, err := kubecluster.Start(t.Context(), kubecluster.Options{
		WorkDir:            t.TempDir(),
		ExtraAPIServerArgs: []string{"--no-such-flag=1"},
	})
	if err == nil {
		t.Fatal("Start with a bad kube-apiserver flag succeeded")
	}
	if !strings.Contains(err.Error(), "kube-apiserver") || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("error = %v, want it to name kube-apiserver and quote its log", err)
	}
	if kids := childProcesses(t); len(kids) > 0 {
		t.Errorf("a failed Start left processes running: %v", kids)
	}
}

// childProcesses lists the names of this process's live children (Linux).
func childProcesses(t *testing.T) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		t.Skip("no /proc")
	}
	var kids []string
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) >= 2 && fields[0] != "Z" && fields[1] == strconv.Itoa(os.Getpid()) {
			kids = append(kids, s[open+1:end])
		}
	}
	return kids
}

func hasNamespace(items []corev1.Namespace, name string) bool {
	for _, ns := range items {
		if ns.Name == name {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func getJSON(t *testing.T, hc *http.Client, url string, into any) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func decodeJWT(t *testing.T, jwt string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	for i, into := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("decode JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("decode JWT part %d: %v", i, err)
		}
	}
	return header, claims
}
