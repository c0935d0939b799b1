package entraemulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// clockSkew is the tolerance applied to an assertion's exp and nbf,
	// Microsoft.IdentityModel's default that Entra uses.
	clockSkew = 5 * time.Minute
	// maxAssertionLifetime is Entra's limit on exp-iat of an external
	// token: "1.01:00:00" (AADSTS70023).
	maxAssertionLifetime = 25 * time.Hour
	// maxAssertionLength bounds the assertion parameter.
	maxAssertionLength = 64 << 10
)

// supportedAlgs are the JWS algorithms accepted for assertions.
var supportedAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
}

// assertion is a parsed, not yet verified, client assertion.
type assertion struct {
	signingInput string
	signature    []byte
	alg, kid     string
	x5t          string
	iss, sub     string
	aud          []string
	exp          *int64
	nbf          *int64
	iat          *int64
}

// parseAssertion splits and decodes a compact JWS. The value is used as
// sent: surrounding whitespace (a token file ending in a newline) makes it
// malformed, AADSTS50027.
func parseAssertion(raw string) (*assertion, *aadError) {
	// Go's base64 decoder skips CR and LF, Entra's does not.
	if raw == "" || len(raw) > maxAssertionLength || strings.ContainsAny(raw, " \t\r\n") {
		return nil, errMalformedJWT()
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errMalformedJWT()
	}
	headerJSON, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	payloadJSON, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errMalformedJWT()
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		X5t string `json:"x5t"`
	}
	if err := json.Unmarshal(headerJSON, &header); err != nil {
		return nil, errMalformedJWT()
	}
	if header.Alg == "" || strings.EqualFold(header.Alg, "none") || len(sig) == 0 {
		return nil, errMalformedJWT()
	}
	var claims map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(payloadJSON))
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, errMalformedJWT()
	}
	a := &assertion{
		signingInput: parts[0] + "." + parts[1],
		signature:    sig,
		alg:          header.Alg,
		kid:          header.Kid,
		x5t:          header.X5t,
	}
	var ok bool
	if a.iss, ok = stringClaim(claims, "iss"); !ok {
		return nil, errMalformedJWT()
	}
	if a.sub, ok = stringClaim(claims, "sub"); !ok {
		return nil, errMalformedJWT()
	}
	if a.aud, ok = audienceClaim(claims); !ok {
		return nil, errMalformedJWT()
	}
	for name, dst := range map[string]**int64{"exp": &a.exp, "nbf": &a.nbf, "iat": &a.iat} {
		v, present, ok := numericDateClaim(claims, name)
		if !ok {
			return nil, errMalformedJWT()
		}
		if present {
			*dst = &v
		}
	}
	if a.exp == nil {
		return nil, errMalformedJWT()
	}
	return a, nil
}

func stringClaim(claims map[string]json.RawMessage, name string) (string, bool) {
	raw, present := claims[name]
	if !present {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// audienceClaim reads aud as a string or an array of strings.
func audienceClaim(claims map[string]json.RawMessage) ([]string, bool) {
	raw, present := claims["aud"]
	if !present {
		return nil, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, true
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, false
	}
	return list, true
}

// numericDateClaim reads a NumericDate (seconds, possibly fractional).
func numericDateClaim(claims map[string]json.RawMessage, name string) (v int64, present, ok bool) {
	raw, present := claims[name]
	if !present || string(raw) == "null" {
		return 0, false, true
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, true, false
	}
	return int64(f), true, true
}

// matchFederatedCredential finds the credential trusting a: issuer and
// subject byte-for-byte equal, audience contained in aud.
func matchFederatedCredential(app *App, a *assertion) (*FederatedCredential, *aadError) {
	caseOnly := false
	for i := range app.FederatedCredentials {
		f := &app.FederatedCredentials[i]
		if f.Issuer != a.iss || !containsString(a.aud, f.audience()) {
			continue
		}
		if f.Subject == a.sub {
			return f, nil
		}
		if strings.EqualFold(f.Subject, a.sub) {
			caseOnly = true
		}
	}
	if caseOnly {
		return nil, errSubjectCaseMismatch(a.sub)
	}
	return nil, errNoMatchingFederatedIdentity(a.iss, a.sub, strings.Join(a.aud, ","))
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// verifyAssertion does what Entra does after a federated credential
// matched: OIDC discovery of the issuer, key lookup by kid, signature, then
// the validity period and the lifetime limit.
func (s *Server) verifyAssertion(ctx context.Context, cache *issuerCache, a *assertion, now time.Time) *aadError {
	meta, err := cache.get(ctx, a.iss, now, nil)
	if err != nil {
		s.logger.Info("external OIDC endpoint failed", "issuer", a.iss, "err", err)
		return errExternalOIDC()
	}
	keys := meta.findKeys(a.kid, a.x5t)
	if len(keys) == 0 {
		// The key may have been rotated since the JWKS was cached.
		if meta, err = cache.get(ctx, a.iss, now, meta); err != nil {
			s.logger.Info("external OIDC endpoint failed", "issuer", a.iss, "err", err)
			return errExternalOIDC()
		}
		keys = meta.findKeys(a.kid, a.x5t)
	}
	keyID := a.kid
	if keyID == "" {
		keyID = a.x5t
	}
	if len(keys) == 0 {
		return errSigningKeyNotFound(keyID, a.iss)
	}
	if !supportedAlgs[a.alg] {
		return errInvalidSignature("The algorithm '"+a.alg+"' is not supported.", keyID)
	}
	method := jwt.GetSigningMethod(a.alg)
	if method == nil {
		return errInvalidSignature("The algorithm '"+a.alg+"' is not supported.", keyID)
	}
	verified := false
	for _, k := range keys {
		if method.Verify(a.signingInput, a.signature, k.pub) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return errInvalidSignature("The key was found, but the signature could not be validated with it.", keyID)
	}

	exp := time.Unix(*a.exp, 0)
	nbf := time.Unix(0, 0)
	if a.nbf != nil {
		nbf = time.Unix(*a.nbf, 0)
	}
	if now.After(exp.Add(clockSkew)) || now.Add(clockSkew).Before(nbf) {
		return errAssertionTime(now, nbf, exp)
	}
	issued := a.iat
	if issued == nil {
		issued = a.nbf
	}
	if issued != nil && exp.Sub(time.Unix(*issued, 0)) > maxAssertionLifetime {
		return errAssertionLifetime(*issued, *a.exp)
	}
	return nil
}
