package entraemulator_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

const (
	tenantID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	clientID = "d4c0f3b5-5a4b-4bd8-9a6e-6e1f3c0b9a11"
)

// Example signs in the way workload identity does, end to end: a
// Kubernetes-like service account issuer on 127.0.0.1 (discovery document
// and JWKS over HTTPS) signs an assertion, and the emulator, which trusts
// that issuer for one service account, exchanges it for an access token
// to the AKS server application. Then an assertion that is not a JWT is
// refused with Entra's error. Ports are masked so the output is stable.
func Example() {
	// The assertion issuer, like a cluster's service account issuer.
	issuer := startIssuer()
	defer issuer.srv.Close()

	srv, err := entraemulator.Start(context.Background(), entraemulator.Config{
		Tenants: []entraemulator.Tenant{{
			ID: tenantID,
			Apps: []entraemulator.App{{
				ClientID: clientID,
				ObjectID: "a8b9c0d1-2e3f-4a5b-8c7d-9e0f1a2b3c4d",
				FederatedCredentials: []entraemulator.FederatedCredential{{
					Name:    "cluster-1",
					Issuer:  issuer.iss,
					Subject: "system:serviceaccount:team-a:deployer",
				}},
			}},
		}},
		ResourceApps:   []entraemulator.ResourceApp{{AppID: aksServerApp}},
		IssuerCABundle: issuer.caPEM,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// Clients must trust the emulator's CA.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CAPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	// What MSAL reads first.
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	getJSON(hc, srv.AuthorityHost()+tenantID+"/v2.0/.well-known/openid-configuration", &doc)
	fmt.Println("discovery:", maskPorts(doc.Issuer))
	fmt.Println("token endpoint:", maskPorts(doc.TokenEndpoint))

	// The exchange: the service account token is the client assertion.
	assertion := issuer.sign(jwt.MapClaims{
		"iss": issuer.iss,
		"sub": "system:serviceaccount:team-a:deployer",
		"aud": []string{entraemulator.DefaultFederatedAudience},
		"iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Hour).Unix(),
	})
	status, body := postForm(hc, doc.TokenEndpoint, url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"scope":                 {aksServerApp + "/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	})
	var tok struct {
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println(status, tok.TokenType, "expires_in", tok.ExpiresIn)
	// The access token's claims (a real client would not look inside).
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, claims); err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"aud", "iss", "appid", "oid", "tid", "idtyp", "ver"} {
		fmt.Printf("  %-5s %v\n", k, maskPorts(fmt.Sprint(claims[k])))
	}

	// An assertion that is not a JWT.
	status, body = postForm(hc, doc.TokenEndpoint, url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"scope":                 {aksServerApp + "/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {"not-a-jwt"},
	})
	var e struct {
		Error      string `json:"error"`
		ErrorCodes []int  `json:"error_codes"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		log.Fatal(err)
	}
	fmt.Println(status, e.Error, e.ErrorCodes)
	fmt.Println(srv.Stats())
	// Output:
	// discovery: https://127.0.0.1:PORT/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/v2.0
	// token endpoint: https://127.0.0.1:PORT/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/oauth2/v2.0/token
	// 200 Bearer expires_in 3600
	//   aud   6dae42f8-4368-4678-94ff-3960e28e3630
	//   iss   https://127.0.0.1:PORT/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/
	//   appid d4c0f3b5-5a4b-4bd8-9a6e-6e1f3c0b9a11
	//   oid   a8b9c0d1-2e3f-4a5b-8c7d-9e0f1a2b3c4d
	//   tid   8e3af657-a8ff-443c-a75c-2fe8c4bcb635
	//   idtyp app
	//   ver   1.0
	// 400 invalid_request [50027]
	// openid-configuration-v2: ok=1; token: invalid_request=1 ok=1
}

const aksServerApp = "6dae42f8-4368-4678-94ff-3960e28e3630"

// exampleIssuer is a minimal OIDC issuer: HTTPS on 127.0.0.1 serving a
// discovery document and a JWKS with one RSA key.
type exampleIssuer struct {
	srv   *httptest.Server
	iss   string // with a trailing slash, like AKS issuers
	caPEM string
	key   *rsa.PrivateKey
}

func startIssuer() *exampleIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	is := &exampleIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.iss, "jwks_uri": is.iss + "openid/v1/jwks"})
	})
	mux.HandleFunc("GET /openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "sa-key",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	is.srv = httptest.NewTLSServer(mux) // on 127.0.0.1
	is.iss = is.srv.URL + "/"
	is.caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.srv.Certificate().Raw}))
	return is
}

func (is *exampleIssuer) sign(claims jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = "sa-key"
	s, err := t.SignedString(is.key)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

var portPattern = regexp.MustCompile(`:\d+/`)

// maskPorts replaces the random ports of URLs in s by PORT.
func maskPorts(s string) string { return portPattern.ReplaceAllString(s, ":PORT/") }

func getJSON(hc *http.Client, u string, v any) {
	resp, err := hc.Get(u)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		log.Fatal(err)
	}
}

func postForm(hc *http.Client, u string, form url.Values) (int, []byte) {
	resp, err := hc.PostForm(u, form)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	return resp.StatusCode, body
}

// ExampleServer_InjectFault makes the next two token requests answer 503
// with Retry-After: 1, which azcore's retry policy (and so kubelogin)
// retries.
func ExampleServer_InjectFault() {
	srv, err := entraemulator.Start(context.Background(), entraemulator.Config{
		Tenants: []entraemulator.Tenant{{ID: tenantID}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.InjectFault(entraemulator.Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Second, Count: 2})

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CAPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for range 3 {
		resp, err := hc.PostForm(srv.URL()+"/"+tenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	fmt.Println(srv.Stats().Count(entraemulator.EndpointToken, entraemulator.OutcomeFault), "faults")
	// Output:
	// 503 Retry-After="1"
	// 503 Retry-After="1"
	// 400 Retry-After=""
	// 2 faults
}
