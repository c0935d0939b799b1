package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cpaccess/cpaccess/internal/atomicfile"
	"github.com/cpaccess/cpaccess/internal/kubecluster"
	"github.com/cpaccess/cpaccess/pkg/access"
	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

// Fixed names and identifiers of the sandbox.
const (
	// AKSServerAppID is the resource (server) application of AKS clusters:
	// the --server-id of kubelogin and the audience members accept.
	AKSServerAppID = "6dae42f8-4368-4678-94ff-3960e28e3630"
	// ProviderName is the access provider the profiles carry and the
	// provider file configures.
	ProviderName = "aks-workload-identity"
	// ProfileNamespace and ProfileName name the sandbox's ClusterProfile.
	ProfileNamespace = "fleet-system"
	ProfileName      = "bravelion"
	// ClusterManager is the profile's spec.clusterManager.name.
	ClusterManager = "kubefleet"
	// AppNamespace and AppServiceAccount are the hub service account the app
	// runs as; its tokens are the federated credential.
	AppNamespace      = "apps"
	AppServiceAccount = "cpaccess-app"
	// MemberClusterRole is the member ClusterRole granted to the apps: read
	// namespaces, nothing else.
	MemberClusterRole = "cpaccess-sandbox:namespace-reader"

	// Reserved ClusterProfile extensions.
	AdditionalArgsExtension = "clusterprofiles.multicluster.x-k8s.io/exec/additional-args"
	AdditionalEnvsExtension = "clusterprofiles.multicluster.x-k8s.io/exec/additional-envs"
)

// Identity is an Entra app registration the app can sign in as.
type Identity struct {
	DisplayName string
	TenantID    string
	ClientID    string
	// ObjectID is the service principal's object id: the username the
	// member cluster sees (claim oid).
	ObjectID string
}

var (
	primaryIdentity = Identity{
		DisplayName: "cpaccess-app",
		TenantID:    "3f6b2e1c-7d4a-4c8e-9b1f-2a5d6e7f8091",
		ClientID:    "b7e0c2a4-1f3d-4e5b-8a6c-9d0e1f2a3b4c",
		ObjectID:    "5c9d8e7f-6a5b-4c3d-8e1f-0a9b8c7d6e5f",
	}
	secondaryIdentity = Identity{
		DisplayName: "cpaccess-app-contoso",
		TenantID:    "8e4d2c1b-0a9f-4e8d-b7c6-5a4b3c2d1e0f",
		ClientID:    "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
		ObjectID:    "9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19",
	}
)

// Options configures Start. The zero value works.
type Options struct {
	// WorkDir receives everything the sandbox writes. Default: a new
	// temporary directory, removed by Stop.
	WorkDir string
	// BinDir holds etcd, kube-apiserver and kubelogin. Default:
	// <module root>/bin. kubectl is looked for there, then on PATH.
	BinDir string
	// Logf receives progress messages. Default: discard.
	Logf func(format string, args ...any)
}

// Sandbox is a running hub, member and Entra emulator.
type Sandbox struct {
	workDir       string
	removeWorkDir bool
	logf          func(format string, args ...any)
	hub, member   *kubecluster.Cluster
	emulator      *entraemulator.Server
	baseConfig    entraemulator.Config
	requests      *requestLog
	hubClient     client.Client
	hubClientset  kubernetes.Interface

	kubelogin, kubectl string
	emulatorCAFile     string
	caBundleFile       string
	caBundleSource     string
	tokenFile          string
	providerFile       string
	homeDir            string

	envMu   sync.Mutex
	envSeq  int
	stopMu  sync.Mutex
	stopped bool
}

// Start brings the sandbox up: emulator, hub and member (the two clusters
// start concurrently), the ClusterProfile CRD, the app's service account and
// federated token, RBAC on the member, the provider file and the
// ClusterProfile fleet-system/bravelion pointing at the member with the
// primary identity. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	s := &Sandbox{logf: opts.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if s.kubelogin, err = kubecluster.LookupBinary(opts.BinDir, "kubelogin"); err != nil {
		return nil, err
	}
	if s.kubectl, err = kubecluster.LookupBinary(opts.BinDir, "kubectl"); err != nil {
		return nil, err
	}
	if err := s.makeWorkDir(opts.WorkDir); err != nil {
		return nil, err
	}

	start := time.Now()
	s.requests = newRequestLog(s.logf)
	// The emulator starts with its tenants and apps but no federated
	// credentials: those name the hub's issuer, known once the hub runs. The
	// tenants must exist before the member starts, whose JWT authenticators
	// fetch their discovery documents at once and otherwise retry only
	// every 10s.
	s.emulator, err = entraemulator.Start(ctx, s.emulatorConfig(nil), entraemulator.WithLogger(slog.New(s.requests)))
	if err != nil {
		return nil, fmt.Errorf("failed to start the Entra emulator: %w", err)
	}
	s.emulatorCAFile = s.path("entra-emulator-ca.pem")
	if err := s.emulator.WriteCAFile(s.emulatorCAFile); err != nil {
		return nil, err
	}
	if err := s.writeCABundle(os.Getenv("SSL_CERT_FILE"), systemCAFiles); err != nil {
		return nil, err
	}
	s.logf("sandbox: Entra emulator on %s", s.emulator.URL())

	authn := s.memberAuthenticationConfig()
	var wg sync.WaitGroup
	var hubErr, memberErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.hub, hubErr = kubecluster.Start(ctx, kubecluster.Options{
			BinDir: opts.BinDir, WorkDir: s.path("hub"), AnonymousIssuerDiscovery: true, Logf: prefixed(s.logf, "hub: "),
		})
	}()
	go func() {
		defer wg.Done()
		s.member, memberErr = kubecluster.Start(ctx, kubecluster.Options{
			BinDir: opts.BinDir, WorkDir: s.path("member"), AuthenticationConfig: authn, Logf: prefixed(s.logf, "member: "),
		})
	}()
	wg.Wait()
	if err := errors.Join(wrapErr("failed to start the hub", hubErr), wrapErr("failed to start the member", memberErr)); err != nil {
		return nil, err
	}
	s.logf("sandbox: hub %s and member %s ready after %v", s.hub.Server(), s.member.Server(), time.Since(start).Round(time.Millisecond))

	s.baseConfig = s.emulatorConfig(s.hub)
	if err := s.emulator.SetConfig(s.baseConfig); err != nil {
		return nil, fmt.Errorf("failed to configure the Entra emulator: %w", err)
	}
	if err := s.setUpHub(ctx); err != nil {
		return nil, err
	}
	if err := s.setUpMember(ctx); err != nil {
		return nil, err
	}
	if err := s.writeProviderFile(); err != nil {
		return nil, err
	}
	if err := s.ApplyProfile(ctx, ProfileName, s.ProfileStatus(s.Primary(), s.emulator.AuthorityHost())); err != nil {
		return nil, err
	}
	if err := s.probe(ctx); err != nil {
		return nil, err
	}
	s.emulator.ResetStats()
	s.requests.reset()
	s.logf("sandbox: ready after %v (work dir %s)", time.Since(start).Round(time.Millisecond), s.workDir)
	return s, nil
}

func wrapErr(msg string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", msg, err)
}

func prefixed(logf func(string, ...any), prefix string) func(string, ...any) {
	return func(format string, args ...any) { logf(prefix+format, args...) }
}

func (s *Sandbox) makeWorkDir(dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "cpaccess-sandbox-")
		if err != nil {
			return fmt.Errorf("failed to create the work directory: %w", err)
		}
		s.workDir, s.removeWorkDir = d, true
	} else {
		d, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("failed to resolve the work directory: %w", err)
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("failed to create the work directory: %w", err)
		}
		s.workDir = d
	}
	s.homeDir = s.path("home")
	if err := os.MkdirAll(filepath.Join(s.homeDir, ".cache"), 0o700); err != nil {
		return fmt.Errorf("failed to create the home directory: %w", err)
	}
	return nil
}

func (s *Sandbox) path(name string) string { return filepath.Join(s.workDir, name) }

// memberAuthenticationConfig trusts the emulator's v1 issuer of both tenants
// for the AKS server audience and maps the oid claim to the username, as
// AKS does for service principals.
func (s *Sandbox) memberAuthenticationConfig() []byte {
	var b strings.Builder
	b.WriteString("apiVersion: apiserver.config.k8s.io/v1beta1\nkind: AuthenticationConfiguration\njwt:\n")
	ca := strings.TrimRight(string(s.emulator.CAPEM()), "\n")
	for _, id := range []Identity{primaryIdentity, secondaryIdentity} {
		fmt.Fprintf(&b, "- issuer:\n    url: %s\n    audiences:\n    - %s\n    certificateAuthority: |\n", strconv.Quote(s.emulator.V1Issuer(id.TenantID)), AKSServerAppID)
		for _, line := range strings.Split(ca, "\n") {
			b.WriteString("      " + line + "\n")
		}
		fmt.Fprintf(&b, "  claimValidationRules:\n  - expression: 'claims.tid == %s'\n    message: token of another tenant\n", strconv.Quote(id.TenantID))
		b.WriteString("  claimMappings:\n    username:\n      claim: oid\n      prefix: \"\"\n")
	}
	return []byte(b.String())
}

// emulatorConfig is the directory: two tenants, each with one app whose
// federated credential trusts the hub's app service account (no credential
// while hub is nil).
func (s *Sandbox) emulatorConfig(hub *kubecluster.Cluster) entraemulator.Config {
	cfg := entraemulator.Config{ResourceApps: []entraemulator.ResourceApp{{AppID: AKSServerAppID}}}
	if hub != nil {
		cfg.IssuerCABundle = string(hub.CAPEM())
	}
	for _, id := range []Identity{primaryIdentity, secondaryIdentity} {
		app := entraemulator.App{DisplayName: id.DisplayName, ClientID: id.ClientID, ObjectID: id.ObjectID}
		if hub != nil {
			app.FederatedCredentials = []entraemulator.FederatedCredential{{
				Name:      "hub-" + AppServiceAccount,
				Issuer:    hub.ServiceAccountIssuer(),
				Subject:   s.ServiceAccountSubject(),
				Audiences: []string{kubecluster.AzureADTokenExchangeAudience},
			}}
		}
		cfg.Tenants = append(cfg.Tenants, entraemulator.Tenant{ID: id.TenantID, Apps: []entraemulator.App{app}})
	}
	return cfg
}

func (s *Sandbox) setUpHub(ctx context.Context) error {
	if err := kubecluster.InstallClusterProfileCRD(ctx, s.hub.RESTConfig()); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(s.hub.RESTConfig())
	if err != nil {
		return fmt.Errorf("failed to create the hub clientset: %w", err)
	}
	s.hubClientset = cs
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return fmt.Errorf("failed to build the hub scheme: %w", err)
	}
	if s.hubClient, err = client.New(s.hub.RESTConfig(), client.Options{Scheme: scheme}); err != nil {
		return fmt.Errorf("failed to create the hub client: %w", err)
	}
	for _, ns := range []string{ProfileNamespace, AppNamespace} {
		if err := createNamespace(ctx, cs, ns); err != nil {
			return fmt.Errorf("failed to set up the hub: %w", err)
		}
	}
	if err := s.CreateServiceAccount(ctx, AppNamespace, AppServiceAccount); err != nil {
		return err
	}
	s.tokenFile = s.path("federated-token")
	return s.WriteFederatedToken(ctx, AppNamespace, AppServiceAccount, s.tokenFile)
}

func createNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %s: %w", name, err)
	}
	return nil
}

// CreateServiceAccount creates a service account on the hub (if absent).
func (s *Sandbox) CreateServiceAccount(ctx context.Context, namespace, name string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := s.hubClientset.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create service account %s/%s on the hub: %w", namespace, name, err)
	}
	return nil
}

// FederatedToken asks the hub for a token of the service account with
// audience api://AzureADTokenExchange, as the kubelet projects it for
// workload identity (one hour).
func (s *Sandbox) FederatedToken(ctx context.Context, namespace, name string) (string, error) {
	expiry := int64(3600)
	tr, err := s.hubClientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences:         []string{kubecluster.AzureADTokenExchangeAudience},
			ExpirationSeconds: &expiry,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("failed to request a token for service account %s/%s on the hub: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// WriteFederatedToken writes a fresh FederatedToken to path (mode 0600,
// atomically, so that a reading kubelogin never sees half a token).
func (s *Sandbox) WriteFederatedToken(ctx context.Context, namespace, name, path string) error {
	token, err := s.FederatedToken(ctx, namespace, name)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, []byte(token), 0o600)
}

// RefreshFederatedToken rewrites the app's federated token file, as the
// kubelet does before the projected token expires.
func (s *Sandbox) RefreshFederatedToken(ctx context.Context) error {
	return s.WriteFederatedToken(ctx, AppNamespace, AppServiceAccount, s.tokenFile)
}

// setUpMember lets both identities read namespaces, and nothing else.
func (s *Sandbox) setUpMember(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(s.member.RESTConfig())
	if err != nil {
		return fmt.Errorf("failed to create the member clientset: %w", err)
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: MemberClusterRole},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"},
		}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create ClusterRole %s on the member: %w", MemberClusterRole, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: MemberClusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: MemberClusterRole},
	}
	for _, id := range []Identity{primaryIdentity, secondaryIdentity} {
		binding.Subjects = append(binding.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: id.ObjectID})
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create ClusterRoleBinding %s on the member: %w", MemberClusterRole, err)
	}
	return nil
}

// profileArgs and profileEnvVars are what the sandbox's provider file lets
// a ClusterProfile add to kubelogin's command line and environment (its
// allowedProfileArgs and allowedProfileEnvVars): the tenant, the authority
// host (the emulator) with instance discovery off, and the client id.
// Anything else a profile carries is refused when it is resolved.
var (
	profileArgs    = []string{"--tenant-id", "--authority-host", "--disable-instance-discovery"}
	profileEnvVars = []string{"AZURE_CLIENT_ID"}
)

// ProviderFileYAML returns the app's provider file: kubelogin in workload
// identity mode with the given federated token file; tenant, authority and
// client come from the profile, and nothing else may (profileArgs,
// profileEnvVars).
func (s *Sandbox) ProviderFileYAML(tokenFile string) []byte {
	args := []string{"get-token", "--login", "workloadidentity", "--server-id", AKSServerAppID, "--federated-token-file", tokenFile}
	return fmt.Appendf(nil, `# How this app runs the credential plugin named by a ClusterProfile's
# access provider. Tenant, authority host and client id come from the
# profile; the allow lists keep out any other flag or variable.
providers:
- name: %s
  execConfig:
    apiVersion: client.authentication.k8s.io/v1beta1
    command: %s
    args: [%s]
    interactiveMode: Never
  profileSourcedCLIArgsPolicy: Append
  profileSourcedEnvVarsPolicy: Replace
  allowedProfileArgs: [%s]
  allowedProfileEnvVars: [%s]
`, ProviderName, strconv.Quote(s.kubelogin), quoteAll(args), quoteAll(profileArgs), quoteAll(profileEnvVars))
}

// quoteAll is strs as the items of a YAML flow sequence.
func quoteAll(strs []string) string {
	quoted := make([]string, len(strs))
	for i, a := range strs {
		quoted[i] = strconv.Quote(a)
	}
	return strings.Join(quoted, ", ")
}

// WriteProviderFile writes ProviderFileYAML(tokenFile) to path and checks
// that cpaccess accepts it.
func (s *Sandbox) WriteProviderFile(path, tokenFile string) error {
	if err := atomicfile.Write(path, s.ProviderFileYAML(tokenFile), 0o600); err != nil {
		return err
	}
	if _, err := access.LoadProviderFile(path); err != nil {
		return fmt.Errorf("failed to validate the sandbox provider file: %w", err)
	}
	return nil
}

func (s *Sandbox) writeProviderFile() error {
	s.providerFile = s.path("providers.yaml")
	return s.WriteProviderFile(s.providerFile, s.tokenFile)
}

// ProfileStatus is the status a cluster manager would publish for the
// member: one aks-workload-identity access provider with the member's URL
// and CA, the tenant, authority host and client of id as profile-sourced
// arguments and environment, and ControlPlaneHealthy=True.
func (s *Sandbox) ProfileStatus(id Identity, authorityHost string) v1alpha1.ClusterProfileStatus {
	return v1alpha1.ClusterProfileStatus{
		Conditions: []metav1.Condition{{
			Type:               v1alpha1.ClusterConditionControlPlaneHealthy,
			Status:             metav1.ConditionTrue,
			Reason:             "Healthy",
			Message:            "the member API server is ready",
			LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second)),
		}},
		AccessProviders: []v1alpha1.AccessProvider{s.AccessProvider(id, authorityHost)},
	}
}

// AccessProvider is the aks-workload-identity access provider for the member
// signing in as id through the authority host.
func (s *Sandbox) AccessProvider(id Identity, authorityHost string) v1alpha1.AccessProvider {
	// The object form of additional-args: the published CRD types every
	// extension as an object, so the API server rejects the list form.
	args := []string{"--tenant-id", id.TenantID, "--authority-host", authorityHost, "--disable-instance-discovery"}
	argsJSON, _ := json.Marshal(map[string][]string{"args": args})
	envJSON, _ := json.Marshal(map[string]string{"AZURE_CLIENT_ID": id.ClientID})
	return v1alpha1.AccessProvider{
		Name: ProviderName,
		Cluster: clientcmdv1.Cluster{
			Server:                   s.member.Server(),
			CertificateAuthorityData: s.member.CAPEM(),
			Extensions: []clientcmdv1.NamedExtension{
				{Name: AdditionalArgsExtension, Extension: runtime.RawExtension{Raw: argsJSON}},
				{Name: AdditionalEnvsExtension, Extension: runtime.RawExtension{Raw: envJSON}},
			},
		},
	}
}

// ApplyProfile creates the ClusterProfile fleet-system/<name> on the hub if
// absent and sets its status through the status subresource.
func (s *Sandbox) ApplyProfile(ctx context.Context, name string, status v1alpha1.ClusterProfileStatus) error {
	cp := &v1alpha1.ClusterProfile{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ProfileNamespace, Name: name,
			Labels: map[string]string{v1alpha1.LabelClusterManagerKey: ClusterManager},
		},
		Spec: v1alpha1.ClusterProfileSpec{DisplayName: name, ClusterManager: v1alpha1.ClusterManager{Name: ClusterManager}},
	}
	if err := s.hubClient.Create(ctx, cp); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create ClusterProfile %s/%s on the hub: %w", ProfileNamespace, name, err)
	}
	for attempt := 0; ; attempt++ {
		cur := &v1alpha1.ClusterProfile{}
		if err := s.hubClient.Get(ctx, client.ObjectKey{Namespace: ProfileNamespace, Name: name}, cur); err != nil {
			return fmt.Errorf("failed to get ClusterProfile %s/%s from the hub: %w", ProfileNamespace, name, err)
		}
		cur.Status = *status.DeepCopy()
		err := s.hubClient.Status().Update(ctx, cur)
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt >= 5 {
			return fmt.Errorf("failed to update the status of ClusterProfile %s/%s on the hub: %w", ProfileNamespace, name, err)
		}
	}
}

// DeleteProfile deletes the ClusterProfile fleet-system/<name> from the hub.
func (s *Sandbox) DeleteProfile(ctx context.Context, name string) error {
	cp := &v1alpha1.ClusterProfile{ObjectMeta: metav1.ObjectMeta{Namespace: ProfileNamespace, Name: name}}
	if err := s.hubClient.Delete(ctx, cp); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to delete ClusterProfile %s/%s from the hub: %w", ProfileNamespace, name, err)
	}
	return nil
}

// GetProfile reads the ClusterProfile fleet-system/<name> from the hub.
func (s *Sandbox) GetProfile(ctx context.Context, name string) (*v1alpha1.ClusterProfile, error) {
	cp := &v1alpha1.ClusterProfile{}
	if err := s.hubClient.Get(ctx, client.ObjectKey{Namespace: ProfileNamespace, Name: name}, cp); err != nil {
		return nil, fmt.Errorf("failed to get ClusterProfile %s/%s from the hub: %w", ProfileNamespace, name, err)
	}
	return cp, nil
}

// Stop tears everything down and removes a work directory Start created. It
// is idempotent.
func (s *Sandbox) Stop() error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	var errs []error
	if s.member != nil {
		errs = append(errs, wrapErr("failed to stop the member", s.member.Stop()))
	}
	if s.hub != nil {
		errs = append(errs, wrapErr("failed to stop the hub", s.hub.Stop()))
	}
	if s.emulator != nil {
		errs = append(errs, wrapErr("failed to stop the Entra emulator", s.emulator.Close()))
	}
	if s.removeWorkDir && s.workDir != "" {
		errs = append(errs, wrapErr("failed to remove the work directory", os.RemoveAll(s.workDir)))
	}
	return errors.Join(errs...)
}

// Hub is the hub cluster.
func (s *Sandbox) Hub() *kubecluster.Cluster { return s.hub }

// Member is the member cluster.
func (s *Sandbox) Member() *kubecluster.Cluster { return s.member }

// Emulator is the Entra ID emulator.
func (s *Sandbox) Emulator() *entraemulator.Server { return s.emulator }

// EmulatorConfig is the emulator's directory as Start set it; restore it
// with Emulator().SetConfig after changing it.
func (s *Sandbox) EmulatorConfig() entraemulator.Config { return s.baseConfig }

// EmulatorRequests lists every request the emulator answered, in order.
func (s *Sandbox) EmulatorRequests() []EmulatorRequest { return s.requests.snapshot() }

// Primary is the identity the profile names at start: tenant, client and
// object id of the app registration federated with the hub service account.
func (s *Sandbox) Primary() Identity { return primaryIdentity }

// Secondary is an app registration in another tenant, federated with the
// same hub service account and also allowed to read namespaces on the member.
func (s *Sandbox) Secondary() Identity { return secondaryIdentity }

// ServiceAccountSubject is the sub of the app's federated token.
func (s *Sandbox) ServiceAccountSubject() string {
	return "system:serviceaccount:" + AppNamespace + ":" + AppServiceAccount
}

// WorkDir is the directory holding the sandbox's files.
func (s *Sandbox) WorkDir() string { return s.workDir }

// KubeloginPath is the absolute path of the real kubelogin.
func (s *Sandbox) KubeloginPath() string { return s.kubelogin }

// KubectlPath is the absolute path of kubectl.
func (s *Sandbox) KubectlPath() string { return s.kubectl }

// ProviderFile is the path of the app's provider file.
func (s *Sandbox) ProviderFile() string { return s.providerFile }

// FederatedTokenFile is the path of the app's federated token (0600).
func (s *Sandbox) FederatedTokenFile() string { return s.tokenFile }

// EmulatorCAFile is the path of the emulator's CA certificate.
func (s *Sandbox) EmulatorCAFile() string { return s.emulatorCAFile }

// CABundleFile is the path of a PEM bundle of the system trust roots plus
// the emulator's CA: an SSL_CERT_FILE for a shell that must reach the
// emulator and still trust public servers. Env uses the emulator's CA
// alone.
func (s *Sandbox) CABundleFile() string { return s.caBundleFile }

// CABundleSource is the file CABundleFile took the system trust roots from
// (SSL_CERT_FILE of the process when set, else a well-known system bundle
// such as /etc/ssl/certs/ca-certificates.crt), or "" when none was found
// and the bundle holds the emulator's CA only.
func (s *Sandbox) CABundleSource() string { return s.caBundleSource }

// writeCABundle writes CABundleFile from the system roots (see
// systemRoots) and the emulator's CA.
func (s *Sandbox) writeCABundle(sslCertFile string, candidates []string) error {
	roots, source, err := systemRoots(sslCertFile, candidates)
	if err != nil {
		return err
	}
	s.caBundleFile = s.path("ca-bundle.pem")
	s.caBundleSource = source
	if err := atomicfile.Write(s.caBundleFile, combineCABundle(roots, s.emulator.CAPEM()), 0o600); err != nil {
		return fmt.Errorf("failed to write the CA bundle: %w", err)
	}
	if source == "" {
		s.logf("sandbox: no system trust roots found; %s holds the emulator's CA only", s.caBundleFile)
	}
	return nil
}

// Env is the environment kubectl and kubelogin run with: the parent's
// without anything that would steer kubelogin or kubectl elsewhere
// (AZURE_*, AAD_*, ARM_*, ACTIONS_ID_TOKEN_REQUEST_*, KUBECONFIG, proxies,
// trust roots, caches), plus SSL_CERT_FILE = the emulator's CA and the
// sandbox's own HOME and XDG_CACHE_HOME.
func (s *Sandbox) Env() []string { return s.envWithHome(s.homeDir) }

// FreshEnv is Env with a new, empty HOME and XDG_CACHE_HOME, so that no
// token cached by an earlier kubelogin run can hide a sign-in.
func (s *Sandbox) FreshEnv() ([]string, error) {
	s.envMu.Lock()
	s.envSeq++
	home := s.path(fmt.Sprintf("homes/%d", s.envSeq))
	s.envMu.Unlock()
	if err := os.MkdirAll(filepath.Join(home, ".cache"), 0o700); err != nil {
		return nil, fmt.Errorf("failed to create a home directory: %w", err)
	}
	return s.envWithHome(home), nil
}

func (s *Sandbox) envWithHome(home string) []string {
	env := SanitizedEnviron(os.Environ())
	return append(env,
		"SSL_CERT_FILE="+s.emulatorCAFile,
		"HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
	)
}

// SanitizedEnviron drops from env every variable that would make kubelogin
// or kubectl talk to something other than the sandbox, or trust something
// else, or reuse a cache. kubelogin reads its environment over its flags, so
// a stray AZURE_CLIENT_ID in the parent would silently win.
func SanitizedEnviron(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if dropEnv(name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func dropEnv(name string) bool {
	if KubeloginOverride(name) {
		return true
	}
	switch strings.ToUpper(name) {
	case "KUBECONFIG", "KUBECACHEDIR", "KUBERNETES_EXEC_INFO", "SSL_CERT_FILE", "SSL_CERT_DIR",
		"HOME", "XDG_CACHE_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY":
		return true
	}
	return false
}

// KubeloginOverride reports whether the environment variable name would
// override kubelogin's flags or change where it gets its credential:
// AZURE_*, AAD_*, ARM_*, ACTIONS_ID_TOKEN_REQUEST_*, MSI_* and IDENTITY_*.
// A process whose plugins must follow only their kubeconfig should not
// carry any of them.
func KubeloginOverride(name string) bool {
	upper := strings.ToUpper(name)
	for _, p := range []string{"AZURE_", "AAD_", "ARM_", "ACTIONS_ID_TOKEN_REQUEST_", "MSI_", "IDENTITY_"} {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	return false
}
