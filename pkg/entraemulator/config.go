package entraemulator

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	// DefaultTokenLifetime is the lifetime of issued access tokens when
	// Config.TokenLifetime is zero.
	DefaultTokenLifetime = time.Hour
	// MinTokenLifetime is the shortest accepted Config.TokenLifetime. MSAL
	// neither caches nor serves tokens that expire within five minutes.
	MinTokenLifetime = 5 * time.Minute
	// DefaultIssuerMetadataCacheTTL is how long the OIDC discovery document
	// and JWKS of an assertion issuer are reused when
	// Config.IssuerMetadataCacheTTL is zero.
	DefaultIssuerMetadataCacheTTL = time.Minute
	// DefaultAddress is the listen address when Config.Address is empty.
	DefaultAddress = "127.0.0.1:0"
	// DefaultFederatedAudience is the audience of a federated credential
	// whose Audiences list is empty, as in Entra.
	DefaultFederatedAudience = "api://AzureADTokenExchange"

	// maxFederatedCredentials is Entra's limit per application.
	maxFederatedCredentials = 20
	// maxIssuerLength is Entra's limit on a federated credential's issuer.
	maxIssuerLength = 600
)

// tenantPattern is what Entra (and azidentity) accept as a tenant
// identifier: a GUID or a DNS-like name.
var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)

// Config is the directory the emulator serves: tenants with their
// applications and federated identity credentials, the resource
// applications tokens can be issued for, and a few server settings.
//
// Its JSON and YAML form uses the json tags; durations are strings such as
// "1h" or "90s".
type Config struct {
	// Tenants are the directories the emulator knows. Tenant identifiers
	// are matched case-insensitively, as Entra does for GUIDs.
	Tenants []Tenant `json:"tenants"`
	// ResourceApps are the resources tokens can be issued for, global
	// across tenants, e.g. the AKS server application
	// 6dae42f8-4368-4678-94ff-3960e28e3630.
	ResourceApps []ResourceApp `json:"resourceApps"`
	// TokenLifetime is the lifetime of issued access tokens. Zero means
	// DefaultTokenLifetime; otherwise it must be at least MinTokenLifetime.
	TokenLifetime time.Duration `json:"tokenLifetime"`
	// IssuerCABundle is PEM: CAs trusted, in addition to the system roots,
	// when fetching an assertion issuer's OIDC discovery document and JWKS.
	IssuerCABundle string `json:"issuerCABundle,omitempty"`
	// IssuerMetadataCacheTTL is how long an assertion issuer's discovery
	// document and JWKS are reused. Zero means
	// DefaultIssuerMetadataCacheTTL; a negative value disables the cache.
	// An assertion signed with a key that is not in the cached JWKS causes
	// one refetch.
	IssuerMetadataCacheTTL time.Duration `json:"issuerMetadataCacheTTL,omitempty"`
	// Address is the listen address. Empty means DefaultAddress. It is
	// only read by Start.
	Address string `json:"address,omitempty"`
}

// Tenant is one directory.
type Tenant struct {
	// ID is the tenant identifier, normally a GUID. It appears in URLs,
	// in the issuer and in the tid claim.
	ID string `json:"id"`
	// Apps are the application registrations and user-assigned managed
	// identities that can authenticate in this tenant.
	Apps []App `json:"apps"`
}

// App is an application registration (or user-assigned managed identity)
// that can authenticate with a federated identity credential.
type App struct {
	// DisplayName is informational.
	DisplayName string `json:"displayName,omitempty"`
	// ClientID is the application (client) id, sent as client_id and
	// returned in the appid claim. Matched case-insensitively.
	ClientID string `json:"clientID"`
	// ObjectID is the service principal object id, returned in the oid
	// and sub claims.
	ObjectID string `json:"objectID"`
	// FederatedCredentials are the trusted external issuers and subjects.
	// At most 20 per app, as in Entra.
	FederatedCredentials []FederatedCredential `json:"federatedCredentials"`
	// Roles, when set, are emitted as the roles claim of issued tokens
	// (app roles granted to this app).
	Roles []string `json:"roles,omitempty"`
	// Groups, when set, are emitted as the groups claim of issued tokens.
	Groups []string `json:"groups,omitempty"`
}

// FederatedCredential is a federated identity credential: it trusts
// assertions whose iss equals Issuer exactly (case-sensitive, trailing slash
// significant), whose sub equals Subject exactly and whose aud contains the
// audience.
type FederatedCredential struct {
	// Name identifies the credential within its app.
	Name string `json:"name"`
	// Issuer is compared byte for byte with the assertion's iss.
	Issuer string `json:"issuer"`
	// Subject is compared byte for byte with the assertion's sub.
	Subject string `json:"subject"`
	// Audiences holds exactly one audience, as in Entra. Empty means
	// DefaultFederatedAudience.
	Audiences []string `json:"audiences"`
}

// ResourceApp is a resource (API) application tokens can be requested for,
// by scope "<appID>/.default" or "<identifier URI>/.default".
type ResourceApp struct {
	// AppID is the resource application id (matched case-insensitively).
	AppID string `json:"appID"`
	// IdentifierURIs are alternative names such as "api://my-api".
	IdentifierURIs []string `json:"identifierURIs,omitempty"`
}

// configJSON is Config with durations as strings.
type configJSON struct {
	Tenants                []Tenant      `json:"tenants"`
	ResourceApps           []ResourceApp `json:"resourceApps"`
	TokenLifetime          jsonDuration  `json:"tokenLifetime,omitempty"`
	IssuerCABundle         string        `json:"issuerCABundle,omitempty"`
	IssuerMetadataCacheTTL jsonDuration  `json:"issuerMetadataCacheTTL,omitempty"`
	Address                string        `json:"address,omitempty"`
}

// MarshalJSON writes durations as strings such as "1h0m0s".
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{
		Tenants:                c.Tenants,
		ResourceApps:           c.ResourceApps,
		TokenLifetime:          jsonDuration(c.TokenLifetime),
		IssuerCABundle:         c.IssuerCABundle,
		IssuerMetadataCacheTTL: jsonDuration(c.IssuerMetadataCacheTTL),
		Address:                c.Address,
	})
}

// UnmarshalJSON reads durations as strings such as "1h" and rejects unknown
// fields.
func (c *Config) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v configJSON
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*c = Config{
		Tenants:                v.Tenants,
		ResourceApps:           v.ResourceApps,
		TokenLifetime:          time.Duration(v.TokenLifetime),
		IssuerCABundle:         v.IssuerCABundle,
		IssuerMetadataCacheTTL: time.Duration(v.IssuerMetadataCacheTTL),
		Address:                v.Address,
	}
	return nil
}

// jsonDuration is a time.Duration written as a Go duration string.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"1h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("failed to parse duration: %w", err)
	}
	*d = jsonDuration(v)
	return nil
}

// LoadConfig reads a Config from a YAML or JSON file. Unknown and duplicate
// fields are errors, and the result is validated.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("failed to read config: %w", err)
	}
	var cfg Config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("failed to parse config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate checks the config the way Entra would check the corresponding
// directory objects, and returns all problems found.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	tenantIDs := map[string]bool{}
	for i, t := range c.Tenants {
		switch {
		case t.ID == "":
			add("tenants[%d].id: must not be empty", i)
		case !tenantPattern.MatchString(t.ID):
			add("tenants[%d].id: %q may contain only letters, digits, '.' and '-'", i, t.ID)
		case isReservedTenant(t.ID):
			add("tenants[%d].id: %q is reserved", i, t.ID)
		case tenantIDs[strings.ToLower(t.ID)]:
			add("tenants[%d].id: duplicate %q", i, t.ID)
		}
		tenantIDs[strings.ToLower(t.ID)] = true

		clientIDs := map[string]bool{}
		for j, a := range t.Apps {
			p := fmt.Sprintf("tenants[%d].apps[%d]", i, j)
			switch {
			case a.ClientID == "":
				add("%s.clientID: must not be empty", p)
			case strings.ContainsAny(a.ClientID, " \t\r\n"):
				add("%s.clientID: must not contain whitespace", p)
			case clientIDs[strings.ToLower(a.ClientID)]:
				add("%s.clientID: duplicate %q in tenant", p, a.ClientID)
			}
			clientIDs[strings.ToLower(a.ClientID)] = true
			if a.ObjectID == "" {
				add("%s.objectID: must not be empty", p)
			}
			if len(a.FederatedCredentials) > maxFederatedCredentials {
				add("%s.federatedCredentials: at most %d allowed, got %d", p, maxFederatedCredentials, len(a.FederatedCredentials))
			}
			names := map[string]bool{}
			pairs := map[[2]string]bool{}
			for k, f := range a.FederatedCredentials {
				fp := fmt.Sprintf("%s.federatedCredentials[%d]", p, k)
				if f.Name == "" {
					add("%s.name: must not be empty", fp)
				} else if names[strings.ToLower(f.Name)] {
					add("%s.name: duplicate %q", fp, f.Name)
				}
				names[strings.ToLower(f.Name)] = true
				switch {
				case f.Issuer == "":
					add("%s.issuer: must not be empty", fp)
				case len(f.Issuer) > maxIssuerLength:
					add("%s.issuer: longer than %d characters", fp, maxIssuerLength)
				case strings.ContainsAny(f.Issuer, " \t\r\n"):
					add("%s.issuer: must not contain whitespace", fp)
				}
				if f.Subject == "" {
					add("%s.subject: must not be empty", fp)
				}
				if len(f.Audiences) > 1 {
					add("%s.audiences: Entra accepts exactly one audience, got %d", fp, len(f.Audiences))
				}
				for _, aud := range f.Audiences {
					if aud == "" {
						add("%s.audiences: must not contain an empty value", fp)
					}
				}
				pair := [2]string{f.Issuer, f.Subject}
				if pairs[pair] {
					add("%s: issuer and subject duplicate another credential of the app", fp)
				}
				pairs[pair] = true
			}
		}
	}

	appIDs := map[string]bool{}
	for i, r := range c.ResourceApps {
		switch {
		case r.AppID == "":
			add("resourceApps[%d].appID: must not be empty", i)
		case strings.ContainsAny(r.AppID, " \t\r\n"):
			add("resourceApps[%d].appID: must not contain whitespace", i)
		case appIDs[strings.ToLower(r.AppID)]:
			add("resourceApps[%d].appID: duplicate %q", i, r.AppID)
		}
		appIDs[strings.ToLower(r.AppID)] = true
		for j, u := range r.IdentifierURIs {
			if u == "" || strings.ContainsAny(u, " \t\r\n") {
				add("resourceApps[%d].identifierURIs[%d]: must be non-empty without whitespace", i, j)
			}
		}
	}

	if c.TokenLifetime != 0 && c.TokenLifetime < MinTokenLifetime {
		add("tokenLifetime: must be at least %s, got %s", MinTokenLifetime, c.TokenLifetime)
	}
	if c.IssuerCABundle != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(c.IssuerCABundle)) {
			add("issuerCABundle: no PEM certificates found")
		}
	}
	if c.Address != "" {
		if _, _, err := net.SplitHostPort(c.Address); err != nil {
			add("address: %w", err)
		}
	}
	return errors.Join(errs...)
}

// isReservedTenant reports whether id is one of Entra's special tenant
// aliases, which cannot be configured as directories.
func isReservedTenant(id string) bool {
	switch strings.ToLower(id) {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}

func (c Config) tokenLifetime() time.Duration {
	if c.TokenLifetime == 0 {
		return DefaultTokenLifetime
	}
	return c.TokenLifetime
}

func (c Config) issuerMetadataCacheTTL() time.Duration {
	if c.IssuerMetadataCacheTTL == 0 {
		return DefaultIssuerMetadataCacheTTL
	}
	return c.IssuerMetadataCacheTTL
}

func (f FederatedCredential) audience() string {
	if len(f.Audiences) == 0 {
		return DefaultFederatedAudience
	}
	return f.Audiences[0]
}
