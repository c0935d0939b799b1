package entraemulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cpaccess/cpaccess/internal/atomicfile"
)

// Option changes how Start builds the server.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	now        func() time.Time
	signingKey *rsa.PrivateKey
}

// WithLogger makes the server log through l; the default discards
// everything. Assertions and tokens are never logged.
//
// Every request is one Info record with message "request" and the string
// attributes method, endpoint (an Endpoint* name), tenant (the path
// segment), outcome (as in Stats), plus clientID when the request carried
// client_id and code ("AADSTS70021") when the answer was an error. Other
// records (start, issuer fetch failures) have other messages.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// withClock replaces time.Now (tests).
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// withSigningKey reuses an RSA key instead of generating one (tests).
func withSigningKey(k *rsa.PrivateKey) Option { return func(o *options) { o.signingKey = k } }

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	logger   *slog.Logger
	now      func() time.Time
	url      string
	hostPort string
	caPEM    []byte
	signer   *signingKey
	listener net.Listener
	httpSrv  *http.Server
	served   chan struct{}

	state  atomic.Pointer[state]
	setMu  sync.Mutex // serialises SetConfig
	faults faultSet
	stats  statsRecorder

	closeOnce sync.Once
	closeErr  error
}

// state is an immutable snapshot of the directory.
type state struct {
	cfg       Config
	tenants   map[string]*tenantState // lower-case tenant id
	resources []ResourceApp
	lifetime  time.Duration
	issuers   *issuerCache
}

type tenantState struct {
	id   string
	apps map[string]*App // lower-case client id
}

func newState(cfg Config, previous *state) *state {
	st := &state{
		cfg:       cfg,
		tenants:   map[string]*tenantState{},
		resources: cfg.ResourceApps,
		lifetime:  cfg.tokenLifetime(),
	}
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		ts := &tenantState{id: t.ID, apps: map[string]*App{}}
		for j := range t.Apps {
			ts.apps[strings.ToLower(t.Apps[j].ClientID)] = &t.Apps[j]
		}
		st.tenants[strings.ToLower(t.ID)] = ts
	}
	ttl := cfg.issuerMetadataCacheTTL()
	if previous != nil && previous.cfg.IssuerCABundle == cfg.IssuerCABundle && previous.issuers.ttl == ttl {
		st.issuers = previous.issuers
	} else {
		st.issuers = newIssuerCache(cfg.IssuerCABundle, ttl)
	}
	return st
}

// Start validates cfg, listens on cfg.Address (default 127.0.0.1:0),
// generates a CA and a serving certificate for 127.0.0.1, ::1, localhost and
// the address URL reports, plus an RSA token signing key, and serves HTTPS
// until Close. ctx only bounds the start itself; it does not stop the
// server.
//
// Start listens wherever cfg.Address says: the emulator has no
// authentication, and a listener beyond loopback lets anyone who reaches it
// obtain tokens its directory allows. The entra-emulator command refuses
// such an address unless told otherwise.
func Start(ctx context.Context, cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("failed to start: %w", err)
	}
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", addr, err)
	}
	hostPort, urlHost := urlHostPort(addr, ln.Addr())
	now := o.now()
	material, err := newTLSMaterial(now, urlHost)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	signer, err := newSigningKey(now, o.signingKey)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s := &Server{
		logger:   o.logger,
		now:      o.now,
		url:      "https://" + hostPort,
		hostPort: hostPort,
		caPEM:    material.caPEM,
		signer:   signer,
		served:   make(chan struct{}),
	}
	s.state.Store(newState(cfg, nil))
	s.listener = tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{material.serving},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	})
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		if err := s.httpSrv.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serve failed", "err", err)
		}
	}()
	s.logger.Info("entra emulator listening", "url", s.url)
	return s, nil
}

// urlHostPort returns the host:port of URLs for a listener asked to listen
// on requested, and the host alone. It is the address actually listened on,
// with brackets for IPv6, except for a wildcard listener (host empty,
// 0.0.0.0 or ::), which has no one address: it accepts on loopback too, so
// URLs name the loopback address of the family asked for (127.0.0.1 for an
// empty host and for 0.0.0.0, which Go may serve as a dual-stack [::]).
func urlHostPort(requested string, actual net.Addr) (hostPort, host string) {
	tcp, ok := actual.(*net.TCPAddr)
	if !ok {
		h, _, _ := net.SplitHostPort(actual.String())
		return actual.String(), h
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		reqHost, _, _ := net.SplitHostPort(requested)
		if reqIP := net.ParseIP(reqHost); reqIP != nil && reqIP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	host = ip.String()
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port)), host
}

// URL is the base URL, "https://127.0.0.1:PORT" by default: the address the
// server listens on (see Start for wildcard addresses). The serving
// certificate is valid for it.
func (s *Server) URL() string { return s.url }

// AuthorityHost is URL()+"/", what kubelogin --authority-host,
// AZURE_AUTHORITY_HOST and azcore's cloud.Configuration want.
func (s *Server) AuthorityHost() string { return s.url + "/" }

// CAPEM is the PEM certificate of the CA clients must trust.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.caPEM...) }

// WriteCAFile writes CAPEM to path atomically with mode 0600. It replaces a
// regular file (or the one a symbolic link leads to) and refuses anything
// else, such as a directory or a device.
func (s *Server) WriteCAFile(path string) error {
	if err := atomicfile.Write(path, s.caPEM, 0o600); err != nil {
		return fmt.Errorf("failed to write CA file: %w", err)
	}
	return nil
}

// V1Issuer is the iss of issued access tokens,
// "https://127.0.0.1:PORT/<tenant>/" (the emulator's counterpart of
// https://sts.windows.net/<tenant>/). The tenant is used as given.
func (s *Server) V1Issuer(tenant string) string { return s.url + "/" + tenant + "/" }

// V2Issuer is the issuer of the v2 discovery document,
// "https://127.0.0.1:PORT/<tenant>/v2.0".
func (s *Server) V2Issuer(tenant string) string { return s.url + "/" + tenant + "/v2.0" }

// TokenEndpoint is "https://127.0.0.1:PORT/<tenant>/oauth2/v2.0/token".
func (s *Server) TokenEndpoint(tenant string) string {
	return s.url + "/" + tenant + "/oauth2/v2.0/token"
}

// SigningKeyID is the kid (and x5t) of the key signing access tokens.
func (s *Server) SigningKeyID() string { return s.signer.kid }

// Config returns the config currently served.
func (s *Server) Config() Config { return s.state.Load().cfg }

// SetConfig validates cfg and replaces tenants, apps, federated
// credentials, resource apps, token lifetime and issuer settings. The
// listener (cfg.Address is ignored), CA and signing key are unchanged.
// Cached issuer metadata is kept unless IssuerCABundle or
// IssuerMetadataCacheTTL changed.
func (s *Server) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	s.setMu.Lock()
	defer s.setMu.Unlock()
	prev := s.state.Load()
	next := newState(cfg, prev)
	s.state.Store(next)
	if next.issuers != prev.issuers {
		prev.issuers.close()
	}
	return nil
}

// FlushIssuerCache forgets all cached assertion issuer metadata, so the
// next token request fetches discovery and JWKS again.
func (s *Server) FlushIssuerCache() {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	prev := s.state.Load()
	next := *prev
	next.issuers = newIssuerCache(prev.cfg.IssuerCABundle, prev.issuers.ttl)
	s.state.Store(&next)
	prev.issuers.close()
}

// Stats returns a copy of the request counts.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats sets all counts to zero.
func (s *Server) ResetStats() { s.stats.reset() }

// InjectFault adds a fault; see Fault.
func (s *Server) InjectFault(f Fault) { s.faults.inject(f) }

// ClearFaults removes all faults.
func (s *Server) ClearFaults() { s.faults.clear() }

// Close stops the server, waiting up to five seconds for requests in
// flight. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.httpSrv.Shutdown(ctx)
		if err != nil {
			_ = s.httpSrv.Close()
		}
		<-s.served
		s.state.Load().issuers.close()
		if err != nil {
			s.closeErr = fmt.Errorf("failed to shut down: %w", err)
		}
	})
	return s.closeErr
}

// ServeHTTP routes a request, applies faults and counts the outcome.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint, tenant, route := s.route(r.URL.Path)
	info := &requestInfo{}
	outcome := s.serve(w, r, info, endpoint, tenant, route)
	s.stats.record(endpoint, outcome)
	attrs := []any{"method", r.Method, "endpoint", endpoint, "tenant", tenant, "outcome", outcome}
	if info.clientID != "" {
		attrs = append(attrs, "clientID", info.clientID)
	}
	if info.code != 0 {
		attrs = append(attrs, "code", fmt.Sprintf("AADSTS%d", info.code))
	}
	s.logger.Info("request", attrs...)
}

// requestInfo collects what is logged about a request.
type requestInfo struct {
	clientID string
	code     int
}

// fail writes e and returns its outcome.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, info *requestInfo, e *aadError) string {
	info.code = e.code
	writeAADError(w, r, s.now(), e)
	return e.err
}

type route int

const (
	routeNone route = iota
	routeTokenV2
	routeTokenV1
	routeOpenIDV2
	routeOpenIDV1
	routeKeys
	routeInstance
)

// route maps a path to its endpoint name, tenant segment and handler.
func (s *Server) route(path string) (string, string, route) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) < 2 || seg[0] == "" {
		return EndpointOther, "", routeNone
	}
	t, rest := seg[0], strings.Join(seg[1:], "/")
	switch rest {
	case "oauth2/v2.0/token":
		return EndpointToken, t, routeTokenV2
	case "oauth2/token":
		return EndpointToken, t, routeTokenV1
	case "v2.0/.well-known/openid-configuration":
		return EndpointOpenIDConfigurationV2, t, routeOpenIDV2
	case ".well-known/openid-configuration":
		return EndpointOpenIDConfigurationV1, t, routeOpenIDV1
	case "discovery/keys", "discovery/v2.0/keys":
		return EndpointKeys, t, routeKeys
	case "discovery/instance", "discovery/v2.0/instance":
		if strings.EqualFold(t, "common") {
			return EndpointInstanceDiscovery, t, routeInstance
		}
	}
	return EndpointOther, "", routeNone
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, info *requestInfo, endpoint, tenant string, rt route) string {
	if f, ok := s.faults.take(endpoint); ok {
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return OutcomeFault
			}
		}
		switch {
		case f.Status != 0:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
			}
			_ = s.fail(w, r, info, errTransient(f.Status))
			return OutcomeFault
		case f.MalformedJSON:
			writeRawJSON(w, r, http.StatusOK, malformedBody(endpoint))
			return OutcomeFault
		}
	}

	st := s.state.Load()
	switch rt {
	case routeTokenV2, routeTokenV1:
		return s.handleToken(w, r, info, st, tenant, rt == routeTokenV1)
	case routeOpenIDV2:
		return s.handleOpenIDConfiguration(w, r, info, st, tenant, true)
	case routeOpenIDV1:
		return s.handleOpenIDConfiguration(w, r, info, st, tenant, false)
	case routeKeys:
		return s.handleKeys(w, r, info, st, tenant)
	case routeInstance:
		return s.handleInstanceDiscovery(w, r, info)
	}
	http.NotFound(w, r)
	return OutcomeNotFound
}

// malformedBody is a truncated JSON document of the endpoint's kind.
func malformedBody(endpoint string) []byte {
	if endpoint == EndpointToken {
		return []byte(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1`)
	}
	return []byte(`{"token_endpoint":"https://`)
}

// lookupTenant validates the tenant path segment the way Entra does.
func lookupTenant(st *state, tenant, notFoundErr string) (*tenantState, *aadError) {
	if !tenantPattern.MatchString(tenant) {
		return nil, errTenantInvalid(tenant)
	}
	ts := st.tenants[strings.ToLower(tenant)]
	if ts == nil {
		return nil, errTenantNotFound(notFoundErr, tenant)
	}
	return ts, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
