package entraemulator_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/cpaccess/cpaccess/pkg/entraemulator"
)

const (
	tenantID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	clientID = "d4c0f3b5-5a4b-4bd8-9a6e-6e1f3c0b9a11"
)

// Example starts an emulator, reads the v2 discovery document MSAL reads,
// and sends a token request whose assertion is not a JWT.
func Example() {
	srv, err := entraemulator.Start(context.Background(), entraemulator.Config{
		Tenants: []entraemulator.Tenant{{
			ID: tenantID,
			Apps: []entraemulator.App{{
				ClientID: clientID,
				ObjectID: "a8b9c0d1-2e3f-4a5b-8c7d-9e0f1a2b3c4d",
				FederatedCredentials: []entraemulator.FederatedCredential{{
					Name:    "cluster-1",
					Issuer:  "https://oidc.cluster-1.example/",
					Subject: "system:serviceaccount:team-a:deployer",
				}},
			}},
		}},
		ResourceApps: []entraemulator.ResourceApp{{AppID: "6dae42f8-4368-4678-94ff-3960e28e3630"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// Clients must trust the emulator's CA.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CAPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	resp, err := hc.Get(srv.AuthorityHost() + tenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	port := regexp.MustCompile(`:\d+/`)
	fmt.Println(port.ReplaceAllString(doc.Issuer, ":PORT/"))
	fmt.Println(port.ReplaceAllString(doc.TokenEndpoint, ":PORT/"))

	resp, err = hc.PostForm(doc.TokenEndpoint, url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"scope":                 {"6dae42f8-4368-4678-94ff-3960e28e3630/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {"not-a-jwt"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var e struct {
		Error      string `json:"error"`
		ErrorCodes []int  `json:"error_codes"`
	}
	err = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, e.Error, e.ErrorCodes)
	fmt.Println(srv.Stats())
	// Output:
	// https://127.0.0.1:PORT/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/v2.0
	// https://127.0.0.1:PORT/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/oauth2/v2.0/token
	// 400 invalid_request [50027]
	// openid-configuration-v2: ok=1; token: invalid_request=1
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
