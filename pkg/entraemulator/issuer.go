package entraemulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	// issuerFetchTimeout bounds the discovery plus JWKS fetch of one issuer.
	issuerFetchTimeout = 10 * time.Second
	// maxIssuerDocument bounds discovery documents and JWKS.
	maxIssuerDocument = 1 << 20
)

// issuerKey is one verification key from an issuer's JWKS.
type issuerKey struct {
	kid string
	x5t string
	pub any // *rsa.PublicKey or *ecdsa.PublicKey
}

// issuerMetadata is what was fetched for one issuer.
type issuerMetadata struct {
	keys    []issuerKey
	fetched time.Time
}

// issuerCache fetches and caches assertion issuers' OIDC discovery documents
// and JWKS. Failures are not cached. Concurrent lookups of one issuer share
// a single fetch.
type issuerCache struct {
	mu      sync.Mutex
	client  *http.Client
	ttl     time.Duration
	entries map[string]*issuerEntry
}

type issuerEntry struct {
	mu   sync.Mutex // held while fetching
	meta *issuerMetadata
}

func newIssuerCache(caBundle string, ttl time.Duration) *issuerCache {
	return &issuerCache{client: newIssuerClient(caBundle), ttl: ttl, entries: map[string]*issuerEntry{}}
}

// newIssuerClient trusts the system roots plus caBundle and ignores proxy
// settings: issuers are fetched directly.
func newIssuerClient(caBundle string) *http.Client {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caBundle != "" {
		pool.AppendCertsFromPEM([]byte(caBundle))
	}
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" {
				return errors.New("redirect to a non-https URL")
			}
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

func (c *issuerCache) close() {
	if t, ok := c.client.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}

// get returns the metadata of issuer, fetching it when absent or older
// than the TTL. With stale set (metadata lacking the assertion's key), it
// refetches unless another request already replaced stale.
func (c *issuerCache) get(ctx context.Context, issuer string, now time.Time, stale *issuerMetadata) (*issuerMetadata, error) {
	c.mu.Lock()
	e := c.entries[issuer]
	if e == nil {
		e = &issuerEntry{}
		c.entries[issuer] = e
	}
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.meta; m != nil && c.ttl > 0 && now.Sub(m.fetched) < c.ttl && (stale == nil || m != stale) {
		return m, nil
	}
	m, err := fetchIssuerMetadata(ctx, c.client, issuer)
	if err != nil {
		return nil, err
	}
	m.fetched = now
	e.meta = m
	return m, nil
}

// fetchIssuerMetadata does OIDC discovery the way Entra does for federated
// credentials: GET <iss without trailing slash>/.well-known/openid-configuration,
// then its jwks_uri. Both must be https.
func fetchIssuerMetadata(ctx context.Context, client *http.Client, issuer string) (*issuerMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, issuerFetchTimeout)
	defer cancel()

	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an https URL", issuer)
	}
	discoveryURL := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, client, discoveryURL, &doc); err != nil {
		return nil, fmt.Errorf("failed to fetch discovery document: %w", err)
	}
	ju, err := url.Parse(doc.JWKSURI)
	if err != nil || ju.Scheme != "https" || ju.Host == "" {
		return nil, fmt.Errorf("discovery document of %q has no https jwks_uri", issuer)
	}
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, client, doc.JWKSURI, &jwks); err != nil {
		return nil, fmt.Errorf("failed to fetch JWKS: %w", err)
	}
	m := &issuerMetadata{}
	for _, raw := range jwks.Keys {
		if k, ok := parseJWK(raw); ok {
			m.keys = append(m.keys, k)
		}
	}
	return m, nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("failed to build request: %w", err)
	}
	// kube-apiserver serves its JWKS as application/jwk-set+json and answers
	// 406 to a request that accepts only application/json.
	req.Header.Set("Accept", "application/json, application/jwk-set+json;q=0.9, */*;q=0.8")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("failed to GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxIssuerDocument))
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxIssuerDocument+1))
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", u, err)
	}
	if len(data) > maxIssuerDocument {
		return fmt.Errorf("%s: document too large", u)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("failed to decode %s: %w", u, err)
	}
	return nil
}

// parseJWK reads an RSA or EC public key; other keys (and encryption keys)
// are skipped.
func parseJWK(raw json.RawMessage) (issuerKey, bool) {
	var k struct {
		Kty string `json:"kty"`
		Use string `json:"use"`
		Kid string `json:"kid"`
		X5t string `json:"x5t"`
		N   string `json:"n"`
		E   string `json:"e"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return issuerKey{}, false
	}
	if k.Use != "" && k.Use != "sig" {
		return issuerKey{}, false
	}
	out := issuerKey{kid: k.Kid, x5t: k.X5t}
	switch k.Kty {
	case "RSA":
		n, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
		e, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return issuerKey{}, false
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 {
			return issuerKey{}, false
		}
		out.pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return issuerKey{}, false
		}
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) > size || len(y) > size {
			return issuerKey{}, false
		}
		point := make([]byte, 1+2*size)
		point[0] = 4
		copy(point[1+size-len(x):1+size], x)
		copy(point[1+2*size-len(y):], y)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return issuerKey{}, false
		}
		out.pub = pub
	default:
		return issuerKey{}, false
	}
	return out, true
}

// findKeys returns the keys an assertion header points at: by kid, else by
// x5t, else (no identifier at all) every key.
func (m *issuerMetadata) findKeys(kid, x5t string) []issuerKey {
	var out []issuerKey
	switch {
	case kid != "":
		for _, k := range m.keys {
			if k.kid == kid {
				out = append(out, k)
			}
		}
	case x5t != "":
		for _, k := range m.keys {
			if k.x5t == x5t || k.kid == x5t {
				out = append(out, k)
			}
		}
	default:
		out = append(out, m.keys...)
	}
	return out
}
