// Package entraemulator is a local Microsoft Entra ID emulator for workload
// identity federation. It is faithful enough that unmodified clients
// exchange a Kubernetes service account token for an Entra access token
// against it: azidentity's WorkloadIdentityCredential, MSAL Go, and the
// kubelogin binary running "get-token --login workloadidentity". The
// tokens it issues validate like Entra's v1 tokens, so a kube-apiserver
// with a structured JWT authenticator can trust it too.
//
// The behaviour follows kubelogin-wire.md (sections 2, 3 and 5), which
// records what Entra and the clients do on the wire.
//
// # Serving
//
// Start generates an ECDSA CA, a serving certificate for 127.0.0.1, ::1,
// localhost and the address it listens on, and an RSA token signing key,
// all in memory, and serves HTTPS only, on 127.0.0.1 by default.
// Server.URL names the address listened on (for a wildcard address such as
// 0.0.0.0, the loopback address of that family). Clients trust
// Server.CAPEM (or the file written by Server.WriteCAFile, atomically with
// mode 0600). The emulator has no authentication: keep it on loopback.
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration   v2 discovery (MSAL); issuer https://HOST:PORT/{tenant}/v2.0
//	GET  /{tenant}/.well-known/openid-configuration        v1 metadata; issuer Server.V1Issuer, for API servers
//	GET  /{tenant}/discovery/keys, /{tenant}/discovery/v2.0/keys, /common/discovery/keys, /common/discovery/v2.0/keys
//	GET  /common/discovery/instance                        instance discovery for authorization endpoints on this host
//	POST /{tenant}/oauth2/v2.0/token                       client credentials with a federated assertion
//	POST /{tenant}/oauth2/token                            the same, v1 style: resource instead of scope
//
// Tenant ids and client ids match case-insensitively (GUIDs); the
// discovery documents and tokens carry the configured spelling. The aliases
// common, organizations and consumers get discovery documents with Entra's
// "{tenantid}" placeholder issuer but cannot obtain tokens.
//
// # Checks and errors
//
// A token request is checked in this order and the first failure answers
// with Entra's JSON error body (error, error_description
// "AADSTSn: message\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …",
// error_codes, timestamp, trace_id, correlation_id, error_uri). The status
// is 401 for invalid_client and 400 otherwise. The correlation id echoes
// the client-request-id header, as Entra does.
//
//	AADSTS900561  invalid_request        not a POST
//	AADSTS900023  invalid_request        tenant is not a DNS-like name
//	AADSTS90002   invalid_request        tenant not found (invalid_tenant on discovery and keys)
//	AADSTS900144  invalid_request        grant_type, client_id, client_assertion_type (or v1 resource) missing
//	AADSTS70003   unsupported_grant_type grant_type is not client_credentials
//	AADSTS700016  unauthorized_client    application not found in the directory
//	AADSTS90014   invalid_request        scope missing
//	AADSTS1002012 invalid_scope          a scope other than openid/offline_access/profile/email lacks /.default
//	AADSTS70011   invalid_scope          more than one resource requested
//	AADSTS7000215 invalid_client         a client_secret was sent (apps here have none)
//	AADSTS7000218 invalid_client         no client_assertion, or an assertion type other than jwt-bearer
//	AADSTS50027   invalid_request        assertion is not a signed compact JWS with string iss/sub, aud and exp
//	AADSTS70021   invalid_request        no federated credential matches issuer, subject and audience
//	AADSTS7002138 invalid_client         ... except for the case of the subject
//	AADSTS90061   invalid_request        the issuer's discovery document or JWKS could not be fetched over HTTPS
//	AADSTS7000272 invalid_client         the assertion's kid (or x5t) is not in the issuer's JWKS
//	AADSTS700027  invalid_client         signature does not verify, or unsupported alg ("Client assertion contains an invalid signature")
//	AADSTS700024  invalid_client         now is after exp or before nbf, with 5 minutes of skew either way
//	AADSTS70023   invalid_request        exp - iat (or nbf) is over 1.01:00:00 (25 hours)
//	AADSTS500011  invalid_resource       the resource is not a configured ResourceApp
//
// Federated credential matching is Entra's: the issuer compares byte for
// byte (case and trailing slash matter), the subject byte for byte, and
// the credential's single audience must be one of the assertion's aud
// values. The assertion is used exactly as sent: a token file ending in a
// newline gives AADSTS50027, because kubelogin and azidentity send the file
// untrimmed.
//
// The issuer's metadata is fetched from
// "<iss without trailing slash>/.well-known/openid-configuration" and its
// jwks_uri, both https, trusting the system roots plus
// Config.IssuerCABundle. It is cached per issuer for
// Config.IssuerMetadataCacheTTL (default one minute); an assertion whose
// key is missing from the cached JWKS causes one refetch, so key rotation
// works at once (Entra may take minutes). Failures are not cached.
// Supported assertion algorithms are RS256/384/512, PS256/384/512 and
// ES256/384/512.
//
// # Tokens
//
// A successful v2 answer is
// {"token_type":"Bearer","expires_in":N,"ext_expires_in":N,"access_token":"…"}
// with no scope, N being Config.TokenLifetime in seconds (default 3600).
// The access token is a v1 JWT, RS256, whose header kid and x5t name the
// key in the emulator's JWKS, with claims aud (the resource app id, or the
// identifier URI when the scope named one), iss and idp (Server.V1Issuer),
// iat and nbf (five minutes in the past, like Entra), exp, appid (client
// id), appidacr "2", idtyp "app", oid and sub (the app's object id), tid,
// ver "1.0", random aio, rh and uti, plus roles and groups when the App
// lists them.
//
// # Faults and statistics
//
// Server.InjectFault makes an endpoint (the token endpoint unless
// Fault.Endpoint says otherwise) answer 429/503 with Retry-After, answer
// late, or answer 200 with truncated JSON, for Count requests or until
// Server.ClearFaults. Server.AdminHandler offers the same over HTTP, for
// the entra-emulator command. Server.Stats counts every request by endpoint
// ("token", "openid-configuration-v2", "openid-configuration-v1", "keys",
// "instance-discovery", "other") and outcome ("ok", the OAuth error code,
// or "fault").
//
// # Use in your own tests
//
// Start an emulator per test, trust its CA, and point the client at
// AuthorityHost with instance discovery disabled. The assertion must come
// from an issuer the emulator can reach over HTTPS: a real cluster's
// service account issuer, or a small httptest TLS server serving
// /.well-known/openid-configuration and a JWKS, whose certificate goes into
// Config.IssuerCABundle.
//
//	srv, err := entraemulator.Start(t.Context(), entraemulator.Config{
//		Tenants: []entraemulator.Tenant{{ID: tenantID, Apps: []entraemulator.App{{
//			ClientID: clientID, ObjectID: objectID,
//			FederatedCredentials: []entraemulator.FederatedCredential{{
//				Name: "sa", Issuer: issuerURL, Subject: "system:serviceaccount:ns:sa",
//			}},
//		}}}},
//		ResourceApps:   []entraemulator.ResourceApp{{AppID: "6dae42f8-4368-4678-94ff-3960e28e3630"}},
//		IssuerCABundle: issuerCAPEM,
//	})
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(func() { _ = srv.Close() })
//
// With azidentity:
//
//	pool := x509.NewCertPool()
//	pool.AppendCertsFromPEM(srv.CAPEM())
//	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
//		ClientOptions: azcore.ClientOptions{
//			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: srv.AuthorityHost()},
//			Transport: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
//		},
//		ClientID: clientID, TenantID: tenantID, TokenFilePath: tokenFile,
//		DisableInstanceDiscovery: true,
//	})
//
// With the kubelogin binary, write the CA with Server.WriteCAFile and run,
// with a fresh HOME and XDG_CACHE_HOME so its persistent cache is empty:
//
//	SSL_CERT_FILE=ca.pem kubelogin get-token --login workloadidentity \
//	  --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 --client-id $CLIENT \
//	  --tenant-id $TENANT --federated-token-file sa.jwt \
//	  --authority-host $(AuthorityHost) --disable-instance-discovery
//
// To have an API server accept the issued tokens, configure a JWT
// authenticator with issuer Server.V1Issuer(tenant), the resource app id
// as audience, the emulator CA as certificateAuthority and
// claimMappings.username.claim "oid".
//
// Server.SetConfig swaps the directory at run time (new apps, credentials
// or resources) without changing the URL or CA. The command
// cmd/entra-emulator runs the emulator standalone from a YAML or JSON
// config (see testdata/valid-aks.yaml).
//
// # Not emulated
//
// Only the client credentials grant with federated assertions is
// implemented: no users, secrets, certificates, managed identity endpoints,
// v2 access tokens, claims challenges, regional endpoints or the
// claimsMatchingExpression preview. Throttling exists only as injected
// faults, whose bodies use AADSTS90033 (temporarily_unavailable).
package entraemulator
