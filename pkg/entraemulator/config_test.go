package entraemulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	// Every testdata file is covered: valid-* must load, invalid-* must
	// fail with the listed message.
	wantErr := map[string]string{
		"invalid-ca-bundle.yaml":         "issuerCABundle: no PEM certificates found",
		"invalid-duplicate-client.yaml":  "clientID: duplicate",
		"invalid-duplicate-field.yaml":   `key "tokenLifetime" already set`,
		"invalid-duration-number.yaml":   "duration must be a string",
		"invalid-missing-object-id.yaml": "objectID: must not be empty",
		"invalid-reserved-tenant.yaml":   `"common" is reserved`,
		"invalid-tenant-characters.yaml": "may contain only letters, digits",
		"invalid-token-lifetime.yaml":    "tokenLifetime: must be at least 5m0s",
		"invalid-two-audiences.yaml":     "Entra accepts exactly one audience",
		"invalid-unknown-field.yaml":     `unknown field "federatedCredential"`,
	}
	files, err := filepath.Glob("testdata/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := LoadConfig(path)
			switch {
			case strings.HasPrefix(name, "valid-"):
				if err != nil {
					t.Fatalf("LoadConfig: %v", err)
				}
				if len(cfg.Tenants) == 0 || len(cfg.ResourceApps) == 0 {
					t.Errorf("config is empty: %+v", cfg)
				}
			case strings.HasPrefix(name, "invalid-"):
				want, ok := wantErr[name]
				if !ok {
					t.Fatalf("no expected error listed for %s", name)
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("LoadConfig error = %v, want it to contain %q", err, want)
				}
			default:
				t.Fatalf("testdata file %s is neither valid-* nor invalid-*", name)
			}
		})
	}
}

func TestLoadConfigAKS(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig("testdata/valid-aks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TokenLifetime != time.Hour || cfg.IssuerMetadataCacheTTL != time.Minute || cfg.Address != "127.0.0.1:0" {
		t.Errorf("settings = %s %s %q", cfg.TokenLifetime, cfg.IssuerMetadataCacheTTL, cfg.Address)
	}
	app := cfg.Tenants[0].Apps[1]
	if app.FederatedCredentials[0].audience() != DefaultFederatedAudience || len(app.Groups) != 1 {
		t.Errorf("second app = %+v", app)
	}
	if cfg.ResourceApps[1].IdentifierURIs[0] != "api://cpaccess-test" {
		t.Errorf("resource apps = %+v", cfg.ResourceApps)
	}

	// JSON round trip keeps durations as strings.
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"tokenLifetime":"1h0m0s"`) {
		t.Errorf("marshalled = %s", data)
	}
	var back Config
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, cfg)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !strings.Contains(err.Error(), "failed to read config") {
		t.Errorf("err = %v", err)
	}
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("tenants: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "failed to parse config") {
		t.Errorf("err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	fic := FederatedCredential{Name: "a", Issuer: "https://issuer.example/", Subject: "system:serviceaccount:a:b"}
	app := App{ClientID: testClientID, ObjectID: testObjectID, FederatedCredentials: []FederatedCredential{fic}}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{name: "ok"},
		{name: "empty tenant id", mutate: func(c *Config) { c.Tenants[0].ID = "" }, wantErr: "tenants[0].id: must not be empty"},
		{name: "duplicate tenant", mutate: func(c *Config) {
			c.Tenants = append(c.Tenants, Tenant{ID: strings.ToUpper(testTenant)})
		}, wantErr: "tenants[1].id: duplicate"},
		{name: "empty client id", mutate: func(c *Config) { c.Tenants[0].Apps[0].ClientID = "" }, wantErr: "clientID: must not be empty"},
		{name: "issuer with space", mutate: func(c *Config) {
			c.Tenants[0].Apps[0].FederatedCredentials[0].Issuer = "https://issuer.example/ "
		}, wantErr: "issuer: must not contain whitespace"},
		{name: "issuer too long", mutate: func(c *Config) {
			c.Tenants[0].Apps[0].FederatedCredentials[0].Issuer = "https://" + strings.Repeat("a", 600)
		}, wantErr: "longer than 600"},
		{name: "empty subject", mutate: func(c *Config) { c.Tenants[0].Apps[0].FederatedCredentials[0].Subject = "" }, wantErr: "subject: must not be empty"},
		{name: "duplicate issuer and subject", mutate: func(c *Config) {
			f := fic
			f.Name = "b"
			c.Tenants[0].Apps[0].FederatedCredentials = append(c.Tenants[0].Apps[0].FederatedCredentials, f)
		}, wantErr: "issuer and subject duplicate"},
		{name: "21 credentials", mutate: func(c *Config) {
			var fics []FederatedCredential
			for i := range 21 {
				f := fic
				f.Name = string(rune('a' + i))
				f.Subject = "s" + f.Name
				fics = append(fics, f)
			}
			c.Tenants[0].Apps[0].FederatedCredentials = fics
		}, wantErr: "at most 20"},
		{name: "duplicate resource", mutate: func(c *Config) {
			c.ResourceApps = append(c.ResourceApps, ResourceApp{AppID: strings.ToUpper(aksServerApp)})
		}, wantErr: "resourceApps[1].appID: duplicate"},
		{name: "negative lifetime", mutate: func(c *Config) { c.TokenLifetime = -time.Hour }, wantErr: "tokenLifetime"},
		{name: "bad address", mutate: func(c *Config) { c.Address = "127.0.0.1" }, wantErr: "address:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := app
			a.FederatedCredentials = append([]FederatedCredential(nil), app.FederatedCredentials...)
			cfg := Config{
				Tenants:      []Tenant{{ID: testTenant, Apps: []App{a}}},
				ResourceApps: []ResourceApp{{AppID: aksServerApp}},
			}
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			err := cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
