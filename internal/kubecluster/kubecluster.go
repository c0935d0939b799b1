package kubecluster

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// AzureADTokenExchangeAudience is the audience of federated service-account
// tokens presented to Entra ID; the API server accepts it too.
const AzureADTokenExchangeAudience = "api://AzureADTokenExchange"

// Options configures Start. Only WorkDir is required.
type Options struct {
	// BinDir holds the etcd and kube-apiserver executables.
	// Default: <module root>/bin.
	BinDir string
	// WorkDir receives the certificates, etcd data, configuration and logs
	// (etcd.log, kube-apiserver.log). Required; t.TempDir() is a good choice.
	WorkDir string
	// ExtraAPIServerArgs are appended to the kube-apiserver command line.
	ExtraAPIServerArgs []string
	// AuthenticationConfig, when set, is written to a file and passed as
	// --authentication-config (structured authentication).
	AuthenticationConfig []byte
	// AnonymousIssuerDiscovery binds the ClusterRole
	// system:service-account-issuer-discovery to system:unauthenticated, so
	// that anyone (such as Entra ID) can read the service-account issuer's
	// OpenID discovery document and JWKS.
	AnonymousIssuerDiscovery bool
	// StartTimeout bounds how long Start waits for etcd and kube-apiserver to
	// become ready. Default: 2 minutes.
	StartTimeout time.Duration
	// Logf receives progress messages. Default: discard.
	Logf func(format string, args ...any)
}

// Cluster is a running etcd + kube-apiserver pair.
type Cluster struct {
	workDir   string
	server    string
	pki       *pki
	saKeyID   string
	adminPath string
	caPath    string
	logf      func(format string, args ...any)

	stopOnce sync.Once
	stopErr  error
	etcd     *process
	api      *process
}

// stopGrace is how long a process gets between SIGTERM and SIGKILL;
// kube-apiserver otherwise drains for up to a minute.
const stopGrace = 2 * time.Second

// Start generates the key material, starts etcd and kube-apiserver on free
// loopback ports and waits until /readyz answers ok. On failure nothing is
// left running and the error carries the tail of the relevant log.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.WorkDir == "" {
		return nil, errors.New("failed to start the cluster: Options.WorkDir is required")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	etcdBin, err := LookupBinary(opts.BinDir, "etcd")
	if err != nil {
		return nil, err
	}
	apiBin, err := LookupBinary(opts.BinDir, "kube-apiserver")
	if err != nil {
		return nil, err
	}
	workDir, err := filepath.Abs(opts.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve the work directory: %w", err)
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the work directory: %w", err)
	}
	keys, err := newPKI()
	if err != nil {
		return nil, err
	}
	kid, err := serviceAccountKeyID(&keys.saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	c := &Cluster{workDir: workDir, pki: keys, saKeyID: kid, logf: opts.Logf}
	if err := c.writeFiles(opts); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	// Free ports are picked by binding and releasing them; another process
	// can grab one in between, so a start that fails on a busy port is retried.
	for attempt := 1; ; attempt++ {
		err = c.start(ctx, etcdBin, apiBin, opts, attempt)
		if err == nil {
			return c, nil
		}
		_ = c.stopProcesses()
		if attempt >= 3 || !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			return nil, err
		}
		opts.Logf("kubecluster: port in use, retrying (%v)", err)
	}
}

var errPortInUse = errors.New("address already in use")

func (c *Cluster) start(ctx context.Context, etcdBin, apiBin string, opts Options, attempt int) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	c.server = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	suffix := ""
	if attempt > 1 {
		suffix = "-" + strconv.Itoa(attempt)
	}

	dataDir := filepath.Join(c.workDir, "etcd-data"+suffix)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	start := time.Now()
	c.etcd, err = startProcess("etcd", etcdBin, []string{
		"--name=default",
		"--data-dir=" + dataDir,
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=default=" + peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}, filepath.Join(c.workDir, "etcd"+suffix+".log"))
	if err != nil {
		return err
	}
	if err := waitFor(ctx, c.etcd, "etcd", func(ctx context.Context) error {
		return etcdHealthy(ctx, etcdURL)
	}); err != nil {
		return err
	}
	opts.Logf("kubecluster: etcd ready on %s after %v", etcdURL, time.Since(start).Round(time.Millisecond))

	args := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--etcd-servers=" + etcdURL,
		"--cert-dir=" + filepath.Join(c.workDir, "apiserver-certs"),
		"--tls-cert-file=" + c.path("serving.crt"),
		"--tls-private-key-file=" + c.path("serving.key"),
		"--client-ca-file=" + c.caPath,
		"--service-account-issuer=" + c.server,
		"--service-account-jwks-uri=" + c.server + "/openid/v1/jwks",
		"--service-account-key-file=" + c.path("sa.pub"),
		"--service-account-signing-key-file=" + c.path("sa.key"),
		"--api-audiences=" + c.server + "," + AzureADTokenExchangeAudience,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	}
	if len(opts.AuthenticationConfig) > 0 {
		args = append(args, "--authentication-config="+c.path("authentication-config.yaml"))
	}
	args = append(args, opts.ExtraAPIServerArgs...)
	start = time.Now()
	c.api, err = startProcess("kube-apiserver", apiBin, args, filepath.Join(c.workDir, "kube-apiserver"+suffix+".log"))
	if err != nil {
		return err
	}
	if err := c.writeAdminKubeconfig(); err != nil {
		return err
	}
	httpClient, err := rest.HTTPClientFor(c.RESTConfig())
	if err != nil {
		return fmt.Errorf("failed to create the admin HTTP client: %w", err)
	}
	if err := waitFor(ctx, c.api, "kube-apiserver", func(ctx context.Context) error {
		return readyz(ctx, httpClient, c.server)
	}); err != nil {
		return err
	}
	opts.Logf("kubecluster: kube-apiserver ready on %s after %v", c.server, time.Since(start).Round(time.Millisecond))

	if opts.AnonymousIssuerDiscovery {
		if err := c.allowAnonymousIssuerDiscovery(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) path(name string) string { return filepath.Join(c.workDir, name) }

func (c *Cluster) writeFiles(opts Options) error {
	c.caPath = c.path("ca.crt")
	files := []struct {
		name string
		data []byte
	}{
		{"ca.crt", c.pki.caPEM},
		{"serving.crt", c.pki.servingPEM},
		{"serving.key", c.pki.servingKey},
		{"admin.crt", c.pki.adminPEM},
		{"admin.key", c.pki.adminKeyPEM},
		{"sa.key", c.pki.saKeyPEM},
		{"sa.pub", c.pki.saPublicPEM},
	}
	if len(opts.AuthenticationConfig) > 0 {
		files = append(files, struct {
			name string
			data []byte
		}{"authentication-config.yaml", opts.AuthenticationConfig})
	}
	for _, f := range files {
		if err := os.WriteFile(c.path(f.name), f.data, 0o600); err != nil {
			return fmt.Errorf("failed to write %s: %w", f.name, err)
		}
	}
	return nil
}

func (c *Cluster) writeAdminKubeconfig() error {
	const name = "kubecluster"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: c.server, CertificateAuthorityData: c.pki.caPEM}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: c.pki.adminPEM, ClientKeyData: c.pki.adminKeyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	c.adminPath = c.path("admin.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, c.adminPath); err != nil {
		return fmt.Errorf("failed to write the admin kubeconfig: %w", err)
	}
	return nil
}

// waitFor polls check every 100ms until it succeeds, the process exits or ctx
// ends.
func waitFor(ctx context.Context, p *process, what string, check func(context.Context) error) error {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	var last error
	for {
		if p.exited() {
			err := p.exitError()
			if strings.Contains(err.Error(), "address already in use") {
				return fmt.Errorf("failed to start %s: %w: %w", what, errPortInUse, err)
			}
			return fmt.Errorf("failed to start %s: %w", what, err)
		}
		checkCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = check(checkCtx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("failed to wait for %s to become ready (%w); last check: %v; last lines of %s:\n%s",
				what, ctx.Err(), last, p.logPath, p.logTail(40))
		case <-ticker.C:
		}
	}
}

func etcdHealthy(ctx context.Context, etcdURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, etcdURL+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: %s: %s", resp.Status, body)
	}
	var h struct {
		Health string `json:"health"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Health != "true" {
		return fmt.Errorf("GET /health: not healthy: %s", body)
	}
	return nil
}

func readyz(ctx context.Context, client *http.Client, server string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /readyz: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	var (
		ports     []int
		listeners []net.Listener
	)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("failed to find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// IssuerDiscoveryBindingName is the ClusterRoleBinding created by
// Options.AnonymousIssuerDiscovery.
const IssuerDiscoveryBindingName = "kubecluster:anonymous-service-account-issuer-discovery"

func (c *Cluster) allowAnonymousIssuerDiscovery(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return fmt.Errorf("failed to create a clientset: %w", err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: IssuerDiscoveryBindingName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:unauthenticated"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to allow anonymous service-account issuer discovery: %w", err)
	}
	return nil
}

// Server returns the API server URL, https://127.0.0.1:PORT.
func (c *Cluster) Server() string { return c.server }

// ServiceAccountIssuer returns the issuer (iss) of the service-account tokens
// the cluster signs. It equals Server(); its OpenID discovery document is at
// ServiceAccountIssuer()+"/.well-known/openid-configuration".
func (c *Cluster) ServiceAccountIssuer() string { return c.server }

// CAPEM returns the CA certificate that signed the serving certificate (and
// the admin client certificate).
func (c *Cluster) CAPEM() []byte { return append([]byte(nil), c.pki.caPEM...) }

// CAFile returns the path of a file holding CAPEM.
func (c *Cluster) CAFile() string { return c.caPath }

// AdminKubeconfig returns the path of a kubeconfig whose user is a client
// certificate in system:masters.
func (c *Cluster) AdminKubeconfig() string { return c.adminPath }

// WorkDir returns the directory holding the cluster's files and logs.
func (c *Cluster) WorkDir() string { return c.workDir }

// RESTConfig returns a fresh admin rest.Config.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host: c.server,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   append([]byte(nil), c.pki.caPEM...),
			CertData: append([]byte(nil), c.pki.adminPEM...),
			KeyData:  append([]byte(nil), c.pki.adminKeyPEM...),
		},
		QPS:   100,
		Burst: 200,
	}
}

// SignServiceAccountJWT signs claims with the cluster's service-account
// signing key, exactly as kube-apiserver would (RS256, same "kid"). Tests use
// it to forge tokens kube-apiserver cannot be asked for, such as an expired
// one. The claims are marshalled as JSON.
func (c *Cluster) SignServiceAccountJWT(claims any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "kid": c.saKeyID})
	if err != nil {
		return "", fmt.Errorf("failed to encode the JWT header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("failed to encode the JWT claims: %w", err)
	}
	signingInput := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.pki.saKey, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("failed to sign the JWT: %w", err)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// Stop terminates kube-apiserver and etcd (SIGTERM, then SIGKILL after a
// short grace). It is idempotent and safe to call on a partly started cluster.
func (c *Cluster) Stop() error {
	if c == nil {
		return nil
	}
	c.stopOnce.Do(func() { c.stopErr = c.stopProcesses() })
	return c.stopErr
}

func (c *Cluster) stopProcesses() error {
	var errs []error
	if c.api != nil {
		errs = append(errs, c.api.stop(stopGrace))
	}
	if c.etcd != nil {
		errs = append(errs, c.etcd.stop(stopGrace))
	}
	return errors.Join(errs...)
}
