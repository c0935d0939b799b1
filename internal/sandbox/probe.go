package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// probe checks the chain once per identity before the sandbox is handed
// out: the hub token is exchanged at the emulator and the member accepts the
// result as the identity's object id. It waits for the member's JWT
// authenticators, which initialise in the background.
func (s *Sandbox) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	assertion, err := s.FederatedToken(ctx, AppNamespace, AppServiceAccount)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.emulator.CAPEM())
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	defer hc.CloseIdleConnections()
	for _, id := range []Identity{primaryIdentity, secondaryIdentity} {
		token, err := s.exchange(ctx, hc, id, assertion)
		if err != nil {
			return fmt.Errorf("failed to check the sandbox: %w", err)
		}
		if err := s.waitMemberAccepts(ctx, id, token); err != nil {
			return fmt.Errorf("failed to check the sandbox: %w", err)
		}
	}
	return nil
}

// exchange is the client-credentials request kubelogin makes.
func (s *Sandbox) exchange(ctx context.Context, hc *http.Client, id Identity, assertion string) (string, error) {
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {id.ClientID},
		"scope":                 {AKSServerAppID + "/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.emulator.TokenEndpoint(id.TenantID), strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("failed to build the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("failed to exchange the hub token at the emulator: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		AccessToken      string `json:"access_token"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", fmt.Errorf("emulator refused the exchange for tenant %s client %s: %s: %s", id.TenantID, id.ClientID, resp.Status, out.ErrorDescription)
	}
	return out.AccessToken, nil
}

func (s *Sandbox) waitMemberAccepts(ctx context.Context, id Identity, token string) error {
	cfg := &rest.Config{Host: s.member.Server(), BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: s.member.CAPEM()}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a member client: %w", err)
	}
	var last error
	for {
		review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		switch {
		case err != nil:
			last = err
		case review.Status.UserInfo.Username != id.ObjectID:
			return fmt.Errorf("member sees tenant %s's app as %q, want its object id %s", id.TenantID, review.Status.UserInfo.Username, id.ObjectID)
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("member did not accept tenant %s's token: %w", id.TenantID, ctx.Err()), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
