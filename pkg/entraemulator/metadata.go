package entraemulator

import (
	"net/http"
	"net/url"
	"strings"
)

// openIDConfigurationV2 mirrors the fields Entra returns at
// /{tenant}/v2.0/.well-known/openid-configuration, with hosts replaced by
// the emulator (userinfo stays on Microsoft Graph, as in Entra).
type openIDConfigurationV2 struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 string   `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

// openIDConfigurationV1 mirrors /{tenant}/.well-known/openid-configuration,
// the metadata API servers (guard, structured JWT authenticators) read to
// validate v1 access tokens.
type openIDConfigurationV1 struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	MicrosoftMultiRefreshToken        bool     `json:"microsoft_multi_refresh_token"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CheckSessionIframe                string   `json:"check_session_iframe"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 string   `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

var tokenEndpointAuthMethods = []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}

// handleOpenIDConfiguration serves the v2 or v1 discovery document. A
// configured tenant's document names its id; the aliases common,
// organizations and consumers get Entra's "{tenantid}" placeholder issuer.
func (s *Server) handleOpenIDConfiguration(w http.ResponseWriter, r *http.Request, info *requestInfo, st *state, tenant string, v2 bool) string {
	pathTenant, issuerTenant := tenant, tenant
	if isReservedTenant(tenant) {
		pathTenant, issuerTenant = strings.ToLower(tenant), "{tenantid}"
	} else {
		ts, e := lookupTenant(st, tenant, OutcomeInvalidTenant)
		if e != nil {
			return s.fail(w, r, info, e)
		}
		pathTenant, issuerTenant = ts.id, ts.id
	}
	base := s.url + "/" + pathTenant
	if v2 {
		writeJSON(w, r, http.StatusOK, openIDConfigurationV2{
			TokenEndpoint:                     base + "/oauth2/v2.0/token",
			TokenEndpointAuthMethodsSupported: tokenEndpointAuthMethods,
			JWKSURI:                           base + "/discovery/v2.0/keys",
			ResponseModesSupported:            []string{"query", "fragment", "form_post"},
			SubjectTypesSupported:             []string{"pairwise"},
			IDTokenSigningAlgValuesSupported:  []string{"RS256"},
			ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "id_token token"},
			ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
			Issuer:                            s.V2Issuer(issuerTenant),
			RequestURIParameterSupported:      false,
			UserinfoEndpoint:                  "https://graph.microsoft.com/oidc/userinfo",
			AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
			DeviceAuthorizationEndpoint:       base + "/oauth2/v2.0/devicecode",
			HTTPLogoutSupported:               true,
			FrontchannelLogoutSupported:       true,
			EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
			ClaimsSupported:                   []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
			KerberosEndpoint:                  base + "/kerberos",
			TenantRegionScope:                 "NA",
			CloudInstanceName:                 "microsoftonline.com",
			CloudGraphHostName:                "graph.windows.net",
			MSGraphHost:                       "graph.microsoft.com",
			RBACURL:                           "https://pas.windows.net",
		})
		return OutcomeOK
	}
	writeJSON(w, r, http.StatusOK, openIDConfigurationV1{
		TokenEndpoint:                     base + "/oauth2/token",
		TokenEndpointAuthMethodsSupported: tokenEndpointAuthMethods,
		JWKSURI:                           base + "/discovery/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "token id_token", "token"},
		ScopesSupported:                   []string{"openid"},
		Issuer:                            s.V1Issuer(issuerTenant),
		MicrosoftMultiRefreshToken:        true,
		AuthorizationEndpoint:             base + "/oauth2/authorize",
		DeviceAuthorizationEndpoint:       base + "/oauth2/devicecode",
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                base + "/oauth2/logout",
		ClaimsSupported:                   []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"},
		CheckSessionIframe:                base + "/oauth2/checksession",
		UserinfoEndpoint:                  base + "/openid/userinfo",
		KerberosEndpoint:                  base + "/kerberos",
		TenantRegionScope:                 "NA",
		CloudInstanceName:                 "microsoftonline.com",
		CloudGraphHostName:                "graph.windows.net",
		MSGraphHost:                       "graph.microsoft.com",
		RBACURL:                           "https://pas.windows.net",
	})
	return OutcomeOK
}

// handleKeys serves the JWKS holding the token signing key. The key is the
// same for all tenants, like Entra's common keys.
func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request, info *requestInfo, st *state, tenant string) string {
	if !isReservedTenant(tenant) {
		if _, e := lookupTenant(st, tenant, OutcomeInvalidTenant); e != nil {
			return s.fail(w, r, info, e)
		}
	}
	writeJSON(w, r, http.StatusOK, map[string]any{
		"keys": []any{s.signer.jwk(s.V2Issuer("{tenantid}"))},
	})
	return OutcomeOK
}

// instanceDiscoveryResponse is the answer of /common/discovery/instance.
type instanceDiscoveryResponse struct {
	TenantDiscoveryEndpoint string             `json:"tenant_discovery_endpoint"`
	APIVersion              string             `json:"api-version"`
	Metadata                []instanceMetadata `json:"metadata"`
}

type instanceMetadata struct {
	PreferredNetwork string   `json:"preferred_network"`
	PreferredCache   string   `json:"preferred_cache"`
	Aliases          []string `json:"aliases"`
}

// handleInstanceDiscovery answers MSAL's instance discovery for
// authorization endpoints on the emulator's own host; any other host is an
// unknown instance, AADSTS50049.
func (s *Server) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request, info *requestInfo) string {
	authz := r.URL.Query().Get("authorization_endpoint")
	u, err := url.Parse(authz)
	if authz == "" || err != nil || u.Scheme != "https" || !strings.EqualFold(u.Host, s.hostPort) {
		return s.fail(w, r, info, errUnknownInstance())
	}
	tenant := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 2)[0]
	if tenant == "" {
		tenant = "common"
	}
	writeJSON(w, r, http.StatusOK, instanceDiscoveryResponse{
		TenantDiscoveryEndpoint: s.url + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		APIVersion:              "1.1",
		Metadata: []instanceMetadata{{
			PreferredNetwork: s.hostPort,
			PreferredCache:   s.hostPort,
			Aliases:          []string{s.hostPort},
		}},
	})
	return OutcomeOK
}
