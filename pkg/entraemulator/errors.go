package entraemulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Outcomes counted by Stats. Besides OutcomeOK and OutcomeFault they are
// the OAuth error codes of the "error" field of Entra's error answers.
const (
	// OutcomeOK counts requests answered successfully.
	OutcomeOK = "ok"
	// OutcomeFault counts requests answered by an injected fault (Status
	// or MalformedJSON).
	OutcomeFault = "fault"

	OutcomeInvalidRequest         = "invalid_request"
	OutcomeInvalidClient          = "invalid_client"
	OutcomeUnauthorizedClient     = "unauthorized_client"
	OutcomeUnsupportedGrantType   = "unsupported_grant_type"
	OutcomeInvalidScope           = "invalid_scope"
	OutcomeInvalidResource        = "invalid_resource"
	OutcomeInvalidTenant          = "invalid_tenant"
	OutcomeInvalidInstance        = "invalid_instance"
	OutcomeTemporarilyUnavailable = "temporarily_unavailable"
	// OutcomeNotFound counts requests to paths the emulator does not serve.
	OutcomeNotFound = "not_found"
	// OutcomeServerError counts requests that failed inside the emulator.
	OutcomeServerError = "server_error"
)

// aadError is one Entra error answer.
type aadError struct {
	status  int
	err     string
	code    int
	message string
}

// newAADError builds an error whose HTTP status follows Entra:
// invalid_client is 401, everything else 400.
func newAADError(errCode string, code int, format string, args ...any) *aadError {
	status := http.StatusBadRequest
	if errCode == OutcomeInvalidClient {
		status = http.StatusUnauthorized
	}
	return &aadError{status: status, err: errCode, code: code, message: fmt.Sprintf(format, args...)}
}

func (e *aadError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.code, e.message) }

// aadErrorBody is the JSON shape of Entra errors, fields in Entra's order.
type aadErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// entraTimestamp formats t the way Entra error bodies do: "2006-01-02 15:04:05Z".
func entraTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// entraPreciseTime formats t the way Entra writes times inside messages,
// e.g. "2024-10-02T22:05:03.6755165Z".
func entraPreciseTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// writeAADError writes e in Entra's shape. The trace id is fresh, the
// correlation id echoes the client-request-id header when present.
func writeAADError(w http.ResponseWriter, r *http.Request, now time.Time, e *aadError) {
	traceID := newUUID()
	correlationID := correlationID(r)
	ts := entraTimestamp(now)
	body := aadErrorBody{
		Error: e.err,
		ErrorDescription: strings.Join([]string{
			e.Error(),
			"Trace ID: " + traceID,
			"Correlation ID: " + correlationID,
			"Timestamp: " + ts,
		}, "\r\n"),
		ErrorCodes:    []int{e.code},
		Timestamp:     ts,
		TraceID:       traceID,
		CorrelationID: correlationID,
		ErrorURI:      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.code),
	}
	w.Header().Set("x-ms-request-id", traceID)
	writeJSON(w, r, e.status, body)
}

// correlationID is the client-request-id sent by MSAL, or a fresh id.
func correlationID(r *http.Request) string {
	if id := strings.TrimSpace(r.Header.Get("client-request-id")); id != "" && len(id) <= 64 {
		return id
	}
	return newUUID()
}

// writeJSON writes v with Entra's caching headers. When the client asked
// for it, the client-request-id is echoed like Entra does.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, r, status, data)
}

func writeRawJSON(w http.ResponseWriter, r *http.Request, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	if strings.EqualFold(r.Header.Get("return-client-request-id"), "true") {
		if id := r.Header.Get("client-request-id"); id != "" {
			h.Set("client-request-id", id)
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// The errors below reproduce Entra's codes, statuses and wording.

func errTenantNotFound(errCode, tenant string) *aadError {
	return newAADError(errCode, 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func errTenantInvalid(tenant string) *aadError {
	return newAADError(OutcomeInvalidRequest, 900023, "Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", tenant)
}

func errMissingParameter(name string) *aadError {
	return newAADError(OutcomeInvalidRequest, 900144, "The request body must contain the following parameter: '%s'.", name)
}

func errMethodNotAllowed(method string) *aadError {
	return newAADError(OutcomeInvalidRequest, 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", method)
}

func errUnsupportedGrantType(grantType string) *aadError {
	return newAADError(OutcomeUnsupportedGrantType, 70003, "The app requested an unsupported grant type '%s'.", grantType)
}

func errClientNotFound(clientID, tenant string) *aadError {
	return newAADError(OutcomeUnauthorizedClient, 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant)
}

func errMissingCredential() *aadError {
	return newAADError(OutcomeInvalidClient, 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errInvalidClientSecret(clientID string) *aadError {
	return newAADError(OutcomeInvalidClient, 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)
}

func errMalformedJWT() *aadError {
	return newAADError(OutcomeInvalidRequest, 50027, "JWT token is invalid or malformed.")
}

func errNoMatchingFederatedIdentity(iss, sub, aud string) *aadError {
	return newAADError(OutcomeInvalidRequest, 70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation", iss, sub, aud)
}

func errSubjectCaseMismatch(sub string) *aadError {
	return newAADError(OutcomeInvalidClient, 7002138, "No matching federated identity record found for presented assertion subject '%s'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation", sub)
}

func errExternalOIDC() *aadError {
	return newAADError(OutcomeInvalidRequest, 90061, "Request to External OIDC endpoint failed.")
}

func errSigningKeyNotFound(kid, iss string) *aadError {
	return newAADError(OutcomeInvalidClient, 7000272, "The certificate with identifier %s used to sign the federated credential could not be found in the metadata of identity provider %s. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.", kid, iss)
}

func errInvalidSignature(reason, kid string) *aadError {
	return newAADError(OutcomeInvalidClient, 700027, "Client assertion contains an invalid signature. [Reason - %s, Thumbprint of key used by client: '%s']", reason, kid)
}

func errAssertionTime(now, nbf, exp time.Time) *aadError {
	return newAADError(OutcomeInvalidClient, 700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .", entraPreciseTime(now), entraPreciseTime(nbf), entraPreciseTime(exp))
}

func errAssertionLifetime(iat, exp int64) *aadError {
	return newAADError(OutcomeInvalidRequest, 70023, "External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00. Token issued at %d. Token expires on %d.", iat, exp)
}

func errMissingScope() *aadError {
	return newAADError(OutcomeInvalidRequest, 90014, "The required field 'scope' is missing from the credential. Ensure that you have all the necessary parameters for the login request.")
}

func errScopeNotDefault(scope string) *aadError {
	return newAADError(OutcomeInvalidScope, 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
}

func errScopeMultipleResources(scope string) *aadError {
	return newAADError(OutcomeInvalidScope, 70011, "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)
}

func errResourceNotFound(resource, tenant string) *aadError {
	return newAADError(OutcomeInvalidResource, 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenant)
}

func errUnknownInstance() *aadError {
	return newAADError(OutcomeInvalidInstance, 50049, "Unknown or invalid instance.")
}

func errTransient(status int) *aadError {
	e := newAADError(OutcomeTemporarilyUnavailable, 90033, "A transient error has occurred. Please try again.")
	e.status = status
	return e
}
