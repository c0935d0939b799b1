package entraemulator

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	grantTypeClientCredentials = "client_credentials"
	assertionTypeJWTBearer     = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// maxTokenRequestBody bounds the form body of a token request.
	maxTokenRequestBody = 1 << 20
	// issuedAtBackdate is how far iat and nbf of issued tokens lie in the
	// past, as in Entra's access tokens, absorbing clock skew.
	issuedAtBackdate = 5 * time.Minute
)

// oidcScopes are the scopes MSAL always appends; Entra ignores them for
// client credentials.
var oidcScopes = map[string]bool{"openid": true, "offline_access": true, "profile": true, "email": true}

// tokenResponseV2 is the v2 endpoint's success body, without scope like
// Entra's client credentials answers.
type tokenResponseV2 struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

// tokenResponseV1 is the v1 endpoint's success body: numbers as strings.
type tokenResponseV1 struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
}

// handleToken is the client credentials grant with a federated client
// assertion. The checks run in this order; the first failure answers:
//
//	tenant syntax (900023) and existence (90002)
//	grant_type present (900144) and client_credentials (70003)
//	client_id present (900144) and registered in the tenant (700016)
//	scope present (90014), one <resource>/.default (1002012, 70011); v1: resource (900144)
//	credential: client_secret (7000215), client_assertion (7000218),
//	  client_assertion_type present (900144) and jwt-bearer (7000218)
//	assertion is a JWS (50027)
//	federated credential match (70021; 7002138 for a subject differing only in case)
//	issuer discovery and JWKS (90061), kid in JWKS (7000272), signature (700027)
//	exp/nbf with 5 minutes skew (700024), lifetime <= 25h (70023)
//	resource registered (500011)
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, info *requestInfo, st *state, tenant string, v1 bool) string {
	if r.Method != http.MethodPost {
		return s.fail(w, r, info, errMethodNotAllowed(r.Method))
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBody)
	formErr := r.ParseForm()
	form := r.PostForm
	info.clientID = form.Get("client_id")
	ts, e := lookupTenant(st, tenant, OutcomeInvalidRequest)
	if e != nil {
		return s.fail(w, r, info, e)
	}
	if formErr != nil {
		return s.fail(w, r, info, errMissingParameter("grant_type"))
	}

	grantType := form.Get("grant_type")
	switch {
	case grantType == "":
		return s.fail(w, r, info, errMissingParameter("grant_type"))
	case grantType != grantTypeClientCredentials:
		return s.fail(w, r, info, errUnsupportedGrantType(grantType))
	}

	clientID := form.Get("client_id")
	if clientID == "" {
		return s.fail(w, r, info, errMissingParameter("client_id"))
	}
	app := ts.apps[strings.ToLower(clientID)]
	if app == nil {
		return s.fail(w, r, info, errClientNotFound(clientID, ts.id))
	}

	var resource string
	if v1 {
		if resource = form.Get("resource"); resource == "" {
			return s.fail(w, r, info, errMissingParameter("resource"))
		}
	} else {
		if resource, e = resourceFromScope(form.Get("scope")); e != nil {
			return s.fail(w, r, info, e)
		}
	}

	rawAssertion := form.Get("client_assertion")
	assertionType := form.Get("client_assertion_type")
	switch {
	case rawAssertion == "" && form.Get("client_secret") != "":
		return s.fail(w, r, info, errInvalidClientSecret(app.ClientID))
	case rawAssertion == "":
		return s.fail(w, r, info, errMissingCredential())
	case assertionType == "":
		return s.fail(w, r, info, errMissingParameter("client_assertion_type"))
	case assertionType != assertionTypeJWTBearer:
		return s.fail(w, r, info, errMissingCredential())
	}

	a, e := parseAssertion(rawAssertion)
	if e != nil {
		return s.fail(w, r, info, e)
	}
	if _, e := matchFederatedCredential(app, a); e != nil {
		return s.fail(w, r, info, e)
	}
	if e := s.verifyAssertion(r.Context(), st.issuers, a, s.now()); e != nil {
		return s.fail(w, r, info, e)
	}

	aud, ok := findResource(st.resources, resource)
	if !ok {
		return s.fail(w, r, info, errResourceNotFound(resource, ts.id))
	}

	now := s.now()
	exp := now.Add(st.lifetime)
	token, err := s.issueToken(ts.id, app, aud, now, exp)
	if err != nil {
		s.logger.Error("failed to sign access token", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return OutcomeServerError
	}
	lifetime := int64(st.lifetime / time.Second)
	if v1 {
		writeJSON(w, r, http.StatusOK, tokenResponseV1{
			TokenType:    "Bearer",
			ExpiresIn:    strconv.FormatInt(lifetime, 10),
			ExtExpiresIn: strconv.FormatInt(lifetime, 10),
			ExpiresOn:    strconv.FormatInt(exp.Unix(), 10),
			NotBefore:    strconv.FormatInt(now.Add(-issuedAtBackdate).Unix(), 10),
			Resource:     resource,
			AccessToken:  token,
		})
	} else {
		writeJSON(w, r, http.StatusOK, tokenResponseV2{
			TokenType:    "Bearer",
			ExpiresIn:    lifetime,
			ExtExpiresIn: lifetime,
			AccessToken:  token,
		})
	}
	return OutcomeOK
}

// resourceFromScope extracts the resource of a client credentials scope
// list: exactly one "<resource>/.default" besides openid, offline_access,
// profile and email.
func resourceFromScope(scope string) (string, *aadError) {
	if strings.TrimSpace(scope) == "" {
		return "", errMissingScope()
	}
	var resources []string
	for _, sc := range strings.Fields(scope) {
		if oidcScopes[strings.ToLower(sc)] {
			continue
		}
		if !strings.HasSuffix(sc, "/.default") {
			return "", errScopeNotDefault(sc)
		}
		res := strings.TrimSuffix(sc, "/.default")
		if res == "" {
			return "", errScopeNotDefault(sc)
		}
		dup := false
		for _, r := range resources {
			dup = dup || strings.EqualFold(r, res)
		}
		if !dup {
			resources = append(resources, res)
		}
	}
	switch len(resources) {
	case 0:
		return "", errScopeNotDefault(scope)
	case 1:
		return resources[0], nil
	}
	return "", errScopeMultipleResources(scope)
}

// findResource matches a requested resource against the resource apps, by
// app id or identifier URI, case-insensitively and ignoring one trailing
// slash. It returns the token audience: the app id, or the identifier URI
// (as configured) when the request named one.
func findResource(apps []ResourceApp, resource string) (string, bool) {
	norm := func(s string) string { return strings.ToLower(strings.TrimSuffix(s, "/")) }
	want := norm(resource)
	for _, a := range apps {
		if norm(a.AppID) == want {
			return a.AppID, true
		}
		for _, u := range a.IdentifierURIs {
			if norm(u) == want {
				return u, true
			}
		}
	}
	return "", false
}

// issueToken signs a v1 app-only access token like those Entra issues for
// resources with accessTokenAcceptedVersion 1 (the AKS server app).
func (s *Server) issueToken(tenantID string, app *App, aud string, now, exp time.Time) (string, error) {
	iss := s.V1Issuer(tenantID)
	issued := now.Add(-issuedAtBackdate).Unix()
	claims := jwt.MapClaims{
		"aud":      aud,
		"iss":      iss,
		"iat":      issued,
		"nbf":      issued,
		"exp":      exp.Unix(),
		"aio":      randomString(base64.StdEncoding, 48),
		"appid":    app.ClientID,
		"appidacr": "2",
		"idp":      iss,
		"idtyp":    "app",
		"oid":      app.ObjectID,
		"rh":       "1." + randomString(base64.RawURLEncoding, 42) + ".",
		"sub":      app.ObjectID,
		"tid":      tenantID,
		"uti":      randomString(base64.RawURLEncoding, 16),
		"ver":      "1.0",
	}
	if len(app.Roles) > 0 {
		claims["roles"] = app.Roles
	}
	if len(app.Groups) > 0 {
		claims["groups"] = app.Groups
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = s.signer.kid
	t.Header["x5t"] = s.signer.kid
	return t.SignedString(s.signer.key)
}

func randomString(enc *base64.Encoding, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return enc.EncodeToString(b)
}
