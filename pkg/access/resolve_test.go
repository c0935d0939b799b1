package access_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/pkg/access"
)

func envString(env []access.EnvVar) string {
	parts := make([]string, len(env))
	for i, e := range env {
		parts[i] = e.Name + "=" + e.Value
	}
	return strings.Join(parts, " ")
}

func TestPolicyCombinations(t *testing.T) {
	t.Parallel()
	const base = "get-token --login workloadidentity --server-id 6dae42f8-4368-4678-94ff-3960e28e3630"
	// The profile sets one variable the provider has and two new ones,
	// written out of order to show new names are sorted.
	exts := []clientcmdv1.NamedExtension{
		ext(argsExt, `{"args": ["--tenant-id", "tid", "--authority-host", "https://login.microsoftonline.com/"]}`),
		ext(envsExt, `{"Z_NEW": "z", "AZURE_CLIENT_ID": "profile-client", "A_NEW": "a"}`),
	}
	withArgs := base + " --tenant-id tid --authority-host https://login.microsoftonline.com/"
	const (
		providerEnv = "AZURE_CLIENT_ID=provider-client B_SETTING=b"
		appendEnv   = "AZURE_CLIENT_ID=provider-client B_SETTING=b A_NEW=a Z_NEW=z"
		replaceEnv  = "AZURE_CLIENT_ID=profile-client B_SETTING=b A_NEW=a Z_NEW=z"
	)
	tests := []struct {
		args     access.CLIArgsPolicy
		env      access.EnvVarsPolicy
		wantArgs string
		wantEnv  string
	}{
		{"", "", base, providerEnv},
		{"", access.EnvVarsIgnore, base, providerEnv},
		{"", access.EnvVarsAppendIfNotExists, base, appendEnv},
		{"", access.EnvVarsReplace, base, replaceEnv},
		{access.CLIArgsIgnore, "", base, providerEnv},
		{access.CLIArgsIgnore, access.EnvVarsIgnore, base, providerEnv},
		{access.CLIArgsIgnore, access.EnvVarsAppendIfNotExists, base, appendEnv},
		{access.CLIArgsIgnore, access.EnvVarsReplace, base, replaceEnv},
		{access.CLIArgsAppend, "", withArgs, providerEnv},
		{access.CLIArgsAppend, access.EnvVarsIgnore, withArgs, providerEnv},
		{access.CLIArgsAppend, access.EnvVarsAppendIfNotExists, withArgs, appendEnv},
		{access.CLIArgsAppend, access.EnvVarsReplace, withArgs, replaceEnv},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("args=%q/env=%q", tc.args, tc.env), func(t *testing.T) {
			t.Parallel()
			p := mustProviders(t, aksProvider(tc.args, tc.env))
			a := mustResolve(t, p, profile("fleet-system", "bravelion", ap("aks", cluster("https://bravelion.example:443", exts...))))
			if got := strings.Join(a.Exec.Args, " "); got != tc.wantArgs {
				t.Errorf("args = %s\nwant   %s", got, tc.wantArgs)
			}
			if got := envString(a.Exec.Env); got != tc.wantEnv {
				t.Errorf("env = %s\nwant  %s", got, tc.wantEnv)
			}
		})
	}
}

func TestIgnoredExtensionsAreNotParsed(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider(access.CLIArgsIgnore, access.EnvVarsIgnore))
	a := mustResolve(t, p, profile("ns", "c", ap("aks", cluster("https://c.example",
		ext(argsExt, `"not a list"`), ext(envsExt, `[1,2]`)))))
	if len(a.Exec.Args) != 5 || len(a.Exec.Env) != 2 {
		t.Errorf("ignored extensions were applied: %v %v", a.Exec.Args, a.Exec.Env)
	}
}

func TestExtensionForms(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider(access.CLIArgsAppend, access.EnvVarsReplace))
	tests := []struct {
		name, raw string
		want      []string
	}{
		{"list form", `["--tenant-id", "t"]`, []string{"--tenant-id", "t"}},
		{"object form", `{"args": ["--tenant-id", "t"]}`, []string{"--tenant-id", "t"}},
		{"empty list", `[]`, nil},
		{"empty object form", `{"args": []}`, nil},
		{"YAML list built in Go", "- --tenant-id\n- t\n", []string{"--tenant-id", "t"}},
		{"YAML object built in Go", "args:\n- --tenant-id\n- t\n", []string{"--tenant-id", "t"}},
		{"scalar coercion", `[1, true, false, "x", 1.50, -2, 1e3, ""]`, []string{"1", "true", "false", "x", "1.50", "-2", "1e3", ""}},
		{"scalar coercion in object form", `{"args": [7, true]}`, []string{"7", "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := mustResolve(t, p, profile("ns", "c", ap("aks", cluster("https://c.example", ext(argsExt, tc.raw)))))
			got := a.Exec.Args[5:]
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("profile args = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("both forms from testdata resolve alike", func(t *testing.T) {
		t.Parallel()
		p := mustProviders(t, func() access.Provider {
			pv := aksProvider(access.CLIArgsAppend, access.EnvVarsReplace)
			pv.Name = "aks-workload-identity"
			return pv
		}())
		obj := mustResolve(t, p, loadProfile(t, "object-form.yaml"))
		list := mustResolve(t, p, loadProfile(t, "list-form.yaml"))
		if !reflect.DeepEqual(obj.Exec, list.Exec) || obj.Fingerprint() != list.Fingerprint() {
			t.Errorf("forms differ:\nobject %+v\nlist   %+v", obj.Exec, list.Exec)
		}
		if got := strings.Join(obj.Exec.Args[5:], " "); got != "--tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 --authority-host https://login.microsoftonline.com/" {
			t.Errorf("args = %s", got)
		}
	})

	t.Run("env scalar coercion", func(t *testing.T) {
		t.Parallel()
		a := mustResolve(t, p, profile("ns", "c", ap("aks", cluster("https://c.example",
			ext(envsExt, `{"N": 42, "F": 1.5, "B": true, "S": "s", "E": ""}`)))))
		if got := envString(a.Exec.Env[2:]); got != "B=true E= F=1.5 N=42 S=s" {
			t.Errorf("env = %s", got)
		}
	})
}

func TestMalformedExtensions(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider(access.CLIArgsAppend, access.EnvVarsReplace))
	tests := []struct {
		name, ext, raw, want string
	}{
		{"args string", argsExt, `"--tenant-id t"`, "expected a list of strings or the object form {\"args\": [...]}, found a string"},
		{"args number", argsExt, `3`, "found a number"},
		{"args bool", argsExt, `true`, "found a boolean"},
		{"args nested list", argsExt, `[["a"]]`, "item 0: expected a string, number or boolean, found a list"},
		{"args map item", argsExt, `["a", {"b": 1}]`, "item 1: expected a string, number or boolean, found an object"},
		{"args null item", argsExt, `["a", null]`, "item 1: expected a string, number or boolean, found null"},
		{"args object without args", argsExt, `{}`, `object form: missing key "args"`},
		{"args object other key", argsExt, `{"argv": ["a"]}`, `object form: unknown key "argv"`},
		{"args object extra key", argsExt, `{"args": ["a"], "more": 1}`, `object form: unknown key "more"`},
		{"args object args twice", argsExt, `{"args": ["a"], "args": ["b"]}`, `key "args" appears twice`},
		{"args object args not list", argsExt, `{"args": "a"}`, `"args" must be a list of strings, found a string`},
		{"args object nested", argsExt, `{"args": [["a"]]}`, "args[0]: expected a string, number or boolean, found a list"},
		{"args unparsable", argsExt, "[a, b", "expected JSON or YAML, found unparsable data"},
		{"envs list", envsExt, `["A=1"]`, "expected a map of variable name to string, number or boolean, found a list"},
		{"envs string", envsExt, `"A=1"`, "found a string"},
		{"envs nested map", envsExt, `{"A": {"b": 1}}`, `variable "A": expected a string, number or boolean, found an object`},
		{"envs list value", envsExt, `{"A": [1]}`, `variable "A": expected a string, number or boolean, found a list`},
		{"envs null value", envsExt, `{"A": null}`, `variable "A": expected a string, number or boolean, found null`},
		{"envs duplicate name", envsExt, `{"A": "1", "A": "2"}`, `variable "A" appears twice`},
		{"envs empty name", envsExt, `{"": "x"}`, `variable name "" is not valid`},
		{"envs bad name", envsExt, `{"1ABC": "x"}`, `variable name "1ABC" is not valid`},
		{"envs name with =", envsExt, `{"A=B": "x"}`, `variable name "A=B" is not valid`},
		{"exec list", execExt, `["a"]`, "expected a JSON object, found a list"},
		{"exec string", execExt, `"cluster-a"`, "expected a JSON object, found a string"},
		{"exec number", execExt, `1`, "expected a JSON object, found a number"},
		{"exec duplicate key", execExt, `{"a": 1, "a": 2}`, `duplicate field "a": each key may appear once`},
		{"exec nested duplicate key", execExt, `{"x": {"a": 1, "a": 2}}`, `duplicate field "x.a"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Resolve(profile("fleet-system", "bravelion", ap("aks", cluster("https://c.example", ext(tc.ext, tc.raw)))))
			if err == nil {
				t.Fatalf("Resolve succeeded, want error containing %q", tc.want)
			}
			msg := err.Error()
			for _, want := range []string{tc.want, "fleet-system/bravelion", `access provider "aks"`, fmt.Sprintf("extension %q", tc.ext)} {
				if !strings.Contains(msg, want) {
					t.Errorf("error = %s\nwant it to contain %s", msg, want)
				}
			}
			var re *access.ResolveError
			if !errors.As(err, &re) || re.Profile != "fleet-system/bravelion" || re.Provider != "aks" {
				t.Errorf("error is not a ResolveError naming profile and provider: %#v", err)
			}
		})
	}
}

func TestNullExtensions(t *testing.T) {
	t.Parallel()
	// The provider has env vars, as in the upstream nil-map panic.
	p := mustProviders(t, aksProvider(access.CLIArgsAppend, access.EnvVarsAppendIfNotExists))
	for _, name := range []string{argsExt, envsExt, execExt} {
		for _, form := range []struct {
			label string
			ext   runtime.RawExtension
		}{
			{"absent", runtime.RawExtension{}},
			{"JSON null", runtime.RawExtension{Raw: []byte("null")}},
			{"whitespace", runtime.RawExtension{Raw: []byte("  ")}},
			{"YAML null", runtime.RawExtension{Raw: []byte("~\n")}},
		} {
			t.Run(name+"/"+form.label, func(t *testing.T) {
				t.Parallel()
				cp := profile("ns", "c", ap("aks", cluster("https://c.example", clientcmdv1.NamedExtension{Name: name, Extension: form.ext})))
				_, err := p.Resolve(cp)
				if err == nil || !strings.Contains(err.Error(), "found null") {
					t.Fatalf("err = %v, want a 'found null' error", err)
				}
			})
		}
	}
	t.Run("from a JSON profile", func(t *testing.T) {
		t.Parallel()
		cp := &v1alpha1.ClusterProfile{}
		raw := `{"metadata":{"name":"c","namespace":"ns"},"status":{"accessProviders":[{"name":"aks","cluster":{"server":"https://c.example","extensions":[{"name":"` + envsExt + `","extension":null}]}}]}}`
		if err := json.Unmarshal([]byte(raw), cp); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Resolve(cp); err == nil || !strings.Contains(err.Error(), "found null") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestExtensionObjectBuiltInGo(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider(access.CLIArgsAppend, access.EnvVarsReplace))
	cp := profile("ns", "c", ap("aks", cluster("https://c.example", clientcmdv1.NamedExtension{
		Name:      execExt,
		Extension: runtime.RawExtension{Object: &runtime.Unknown{Raw: []byte(`{"clusterName": "c"}`)}},
	})))
	a := mustResolve(t, p, cp)
	if string(a.Exec.Config) != `{"clusterName":"c"}` {
		t.Errorf("exec config = %s", a.Exec.Config)
	}
}

func TestDuplicateExtensions(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider(access.CLIArgsAppend, access.EnvVarsReplace))
	const secretish = "opaque-payload-that-must-not-be-dumped"
	for _, name := range []string{argsExt, envsExt, execExt, "example.com/other"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cp := profile("ns", "c", ap("aks", cluster("https://c.example",
				ext(name, `{"v": "`+secretish+`"}`), ext(name, `{"v": "`+secretish+`2"}`))))
			_, err := p.Resolve(cp)
			if err == nil {
				t.Fatal("Resolve accepted a duplicate extension")
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) || !strings.Contains(err.Error(), "more than once") {
				t.Errorf("error does not name the extension: %v", err)
			}
			if strings.Contains(err.Error(), secretish) {
				t.Errorf("error dumps the payload: %v", err)
			}
		})
	}
}

func TestProfileAThenB(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider(access.CLIArgsAppend, access.EnvVarsReplace))
	profileA := profile("ns", "a", ap("aks", cluster("https://a.example",
		ext(argsExt, `{"args": ["--tenant-id", "tenant-a"]}`),
		ext(envsExt, `{"AZURE_CLIENT_ID": "client-a", "ONLY_A": "1"}`),
		ext(execExt, `{"cluster": "a"}`))))
	// B fails after A's args would have been appended (upstream B3).
	profileBBad := profile("ns", "b-bad", ap("aks", cluster("https://b.example",
		ext(argsExt, `{"args": ["--tenant-id", "tenant-bad"]}`), ext(envsExt, `[]`))))
	profileB := profile("ns", "b", ap("aks", cluster("https://b.example")))

	for i := 0; i < 3; i++ {
		a := mustResolve(t, p, profileA)
		if got := strings.Join(a.Exec.Args, " "); strings.Count(got, "--tenant-id") != 1 {
			t.Fatalf("round %d: args grew: %s", i, got)
		}
		// Callers may edit what they get (upstream B14).
		a.Exec.Args[0] = "tampered"
		a.Exec.Env[0].Value = "tampered"
		if _, err := p.Resolve(profileBBad); err == nil {
			t.Fatal("bad profile resolved")
		}
		b := mustResolve(t, p, profileB)
		want := "get-token --login workloadidentity --server-id 6dae42f8-4368-4678-94ff-3960e28e3630"
		if got := strings.Join(b.Exec.Args, " "); got != want {
			t.Fatalf("round %d: B args = %s, want %s", i, got, want)
		}
		if got := envString(b.Exec.Env); got != "AZURE_CLIENT_ID=provider-client B_SETTING=b" {
			t.Fatalf("round %d: B env = %s", i, got)
		}
		if b.Exec.Config != nil || b.Cluster.Server != "https://b.example" {
			t.Fatalf("round %d: B carries A's settings: %+v", i, b)
		}
	}
	// The profiles themselves are untouched.
	if len(profileA.Status.AccessProviders[0].Cluster.Extensions) != 3 || profileB.Status.AccessProviders[0].Cluster.Extensions != nil {
		t.Error("Resolve modified a profile")
	}
}

func TestSelection(t *testing.T) {
	t.Parallel()
	mk := func(name string) access.Provider {
		return access.Provider{Name: name, ExecConfig: &access.ExecConfig{APIVersion: v1, Command: name + "-plugin"}}
	}
	p := mustProviders(t, mk("first"), mk("second"), mk("third"))
	tests := []struct {
		name      string
		access    []string // names in status.accessProviders, in profile order
		cred      []string // names in status.credentialProviders
		want      string   // selected provider
		wantSrv   string   // server of the selected entry
		wantError string
	}{
		{name: "file order wins over profile order", access: []string{"third", "second"}, want: "second", wantSrv: "https://access-second"},
		{name: "only one offered", access: []string{"third"}, want: "third", wantSrv: "https://access-third"},
		{name: "credentialProviders fallback", cred: []string{"second"}, want: "second", wantSrv: "https://cred-second"},
		{name: "accessProviders precedence on same name", access: []string{"second"}, cred: []string{"second"}, want: "second", wantSrv: "https://access-second"},
		{name: "file order across both lists", access: []string{"third"}, cred: []string{"first"}, want: "first", wantSrv: "https://cred-first"},
		{name: "no match", access: []string{"x"}, cred: []string{"y"}, wantError: `the profile offers "x", "y (credentialProviders)"; the provider file "test" configures "first", "second", "third"`},
		{name: "no providers offered", wantError: "the profile offers none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cp := profile("ns", "c")
			for _, n := range tc.access {
				cp.Status.AccessProviders = append(cp.Status.AccessProviders, ap(n, cluster("https://access-"+n)))
			}
			for _, n := range tc.cred {
				cp.Status.CredentialProviders = append(cp.Status.CredentialProviders, ap(n, cluster("https://cred-"+n)))
			}
			a, err := p.Resolve(cp)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) || !errors.Is(err, access.ErrNoMatchingProvider) {
					t.Fatalf("err = %v, want %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Provider != tc.want || a.Exec.Command != tc.want+"-plugin" || a.Cluster.Server != tc.wantSrv {
				t.Errorf("selected %s (%s, %s), want %s (%s)", a.Provider, a.Exec.Command, a.Cluster.Server, tc.want, tc.wantSrv)
			}
		})
	}
}

func TestResolveNil(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider("", ""))
	if _, err := p.Resolve(nil); err == nil {
		t.Fatal("Resolve(nil) succeeded")
	}
	var none *access.Providers
	if _, err := none.Resolve(profile("ns", "c", ap("aks", cluster("https://c.example")))); err == nil || !strings.Contains(err.Error(), "no providers") {
		t.Fatalf("nil Providers: %v", err)
	}
	if none.Warnings() != nil {
		t.Error("nil Providers has warnings")
	}
}

func TestProfileIdentity(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider("", ""))
	tests := []struct {
		ns, name, field, want string
	}{
		{"ns", "bad\nname\x1b[8m", "metadata.name", `metadata.name: "bad\nname\x1b[8m" is invalid: a lowercase RFC 1123 subdomain`},
		{"ns", " ", "metadata.name", `metadata.name: " " is invalid: a lowercase RFC 1123 subdomain`},
		{"", "a/b", "metadata.name", `metadata.name: "a/b" is invalid`},
		{"Bad_NS", "c", "metadata.namespace", `metadata.namespace: "Bad_NS" is invalid: a lowercase RFC 1123 label`},
		{"", "", "metadata.name", `metadata.name: "" is invalid`},
	}
	for _, tc := range tests {
		_, err := p.Resolve(profile(tc.ns, tc.name, ap("aks", cluster("https://c.example"))))
		var re *access.ResolveError
		if !errors.As(err, &re) || re.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q/%q: err = %v", tc.ns, tc.name, err)
			continue
		}
		if strings.ContainsAny(err.Error(), "\n\x1b") {
			t.Errorf("%q/%q: raw control characters in %q", tc.ns, tc.name, err)
		}
	}
}

func TestDuplicateAccessProviders(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider("", ""))
	cp := profile("ns", "c", ap("aks", cluster("https://a.example")), ap("aks", cluster("https://b.example")))
	if _, err := p.Resolve(cp); err == nil || !strings.Contains(err.Error(), `status.accessProviders: access provider "aks" appears more than once`) {
		t.Errorf("err = %v", err)
	}
	cp = profile("ns", "c")
	cp.Status.CredentialProviders = []v1alpha1.AccessProvider{ap("x", cluster("https://a.example")), ap("x", cluster("https://b.example"))}
	if _, err := p.Resolve(cp); err == nil || !strings.Contains(err.Error(), `status.credentialProviders: access provider "x" appears more than once`) {
		t.Errorf("err = %v", err)
	}
}

func TestClusterFieldRules(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider("", ""))
	otherCA := newCA("other")
	tests := []struct {
		name   string
		mutate func(c *clientcmdv1.Cluster)
		field  string // expected field in the error, "" for success
		want   string
		check  func(t *testing.T, cs access.ClusterSettings)
	}{
		{name: "server required", mutate: func(c *clientcmdv1.Cluster) { c.Server = "" }, field: "cluster.server", want: "is required"},
		{name: "server relative", mutate: func(c *clientcmdv1.Cluster) { c.Server = "bravelion.example:443" }, field: "cluster.server", want: "expected"},
		{name: "server http", mutate: func(c *clientcmdv1.Cluster) { c.Server = "http://bravelion.example" }, field: "cluster.server", want: `found scheme "http"`},
		{name: "server no host", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https://" }, field: "cluster.server", want: "absolute https:// URL"},
		{name: "server scheme-less credentials redacted", mutate: func(c *clientcmdv1.Cluster) { c.Server = "user:hunter2@host.example.com" }, field: "cluster.server", want: "<redacted>@host.example.com"},
		{name: "server unparsable with token redacted", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https://host.example.com/%zz?token=hunter2" }, field: "cluster.server", want: "<unparsable URL>"},
		{name: "server protocol-relative credentials redacted", mutate: func(c *clientcmdv1.Cluster) { c.Server = "//user:hunter2@host.example.com" }, field: "cluster.server", want: "expected an absolute https:// URL"},
		{name: "server with query", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https:///?access_token=SECRET123" }, field: "cluster.server", want: "expected an absolute https:// URL"},
		{name: "server with query and host", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https://h.example/?access_token=SECRET123" }, field: "cluster.server", want: `must not carry a query or fragment, found "https://h.example/?<redacted>"`},
		{name: "server with fragment", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https://h.example/#frag" }, field: "cluster.server", want: "must not carry a query or fragment"},
		{name: "server with bad port", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https://h.example:99999" }, field: "cluster.server", want: `expected a port from 1 to 65535, found "99999"`},
		{name: "server with user info", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https://u:p@x.example" }, field: "cluster.server", want: "user information"},
		{name: "server with path kept", mutate: func(c *clientcmdv1.Cluster) { c.Server = "https://proxy.example:9092/bravelion" }, check: func(t *testing.T, cs access.ClusterSettings) {
			if cs.Server != "https://proxy.example:9092/bravelion" {
				t.Errorf("server = %s", cs.Server)
			}
		}},
		{name: "CA garbage", mutate: func(c *clientcmdv1.Cluster) { c.CertificateAuthorityData = []byte("not a pem") }, field: "cluster.certificate-authority-data", want: "expected at least one PEM certificate, found none"},
		{name: "CA private key block", mutate: func(c *clientcmdv1.Cluster) {
			c.CertificateAuthorityData = []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		}, field: "cluster.certificate-authority-data", want: `found a "PRIVATE KEY" block`},
		{name: "CA bad certificate", mutate: func(c *clientcmdv1.Cluster) {
			c.CertificateAuthorityData = []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
		}, field: "cluster.certificate-authority-data", want: "certificate 1 does not parse"},
		{name: "CA trailing junk", mutate: func(c *clientcmdv1.Cluster) { c.CertificateAuthorityData = append(testCA(), "junk"...) }, field: "cluster.certificate-authority-data", want: "after the last PEM certificate"},
		{name: "CA bundle of two", mutate: func(c *clientcmdv1.Cluster) {
			c.CertificateAuthorityData = append(append([]byte{}, testCA()...), otherCA...)
		}, check: func(t *testing.T, cs access.ClusterSettings) {
			if len(cs.CertificateAuthorityData) != len(testCA())+len(otherCA) {
				t.Error("bundle not carried whole")
			}
		}},
		{name: "no CA uses system roots", mutate: func(c *clientcmdv1.Cluster) { c.CertificateAuthorityData = nil }, check: func(t *testing.T, cs access.ClusterSettings) {
			if cs.CertificateAuthorityData != nil {
				t.Error("CA data invented")
			}
		}},
		{name: "CA file path rejected", mutate: func(c *clientcmdv1.Cluster) { c.CertificateAuthority = "/etc/ca.pem" }, field: "cluster.certificate-authority", want: "names a file on the profile author's machine"},
		{name: "insecure with CA data", mutate: func(c *clientcmdv1.Cluster) { c.InsecureSkipTLSVerify = true }, field: "cluster.insecure-skip-tls-verify", want: "together with certificate-authority-data"},
		{name: "insecure without CA carried", mutate: func(c *clientcmdv1.Cluster) { c.InsecureSkipTLSVerify = true; c.CertificateAuthorityData = nil }, check: func(t *testing.T, cs access.ClusterSettings) {
			if !cs.InsecureSkipTLSVerify {
				t.Error("insecure-skip-tls-verify dropped")
			}
		}},
		{name: "tls-server-name and disable-compression carried", mutate: func(c *clientcmdv1.Cluster) { c.TLSServerName = "kubernetes.default"; c.DisableCompression = true }, check: func(t *testing.T, cs access.ClusterSettings) {
			if cs.TLSServerName != "kubernetes.default" || !cs.DisableCompression {
				t.Errorf("settings = %+v", cs)
			}
		}},
		{name: "proxy http", mutate: func(c *clientcmdv1.Cluster) { c.ProxyURL = "http://proxy.example:3128" }, check: func(t *testing.T, cs access.ClusterSettings) {
			if cs.ProxyURL != "http://proxy.example:3128" {
				t.Errorf("proxy = %s", cs.ProxyURL)
			}
		}},
		{name: "proxy https", mutate: func(c *clientcmdv1.Cluster) { c.ProxyURL = "https://proxy.example" }},
		{name: "proxy socks5", mutate: func(c *clientcmdv1.Cluster) { c.ProxyURL = "socks5://proxy.example:1080" }},
		{name: "proxy ftp", mutate: func(c *clientcmdv1.Cluster) { c.ProxyURL = "ftp://proxy.example" }, field: "cluster.proxy-url", want: `expected scheme http, https or socks5, found "ftp"`},
		{name: "proxy no host", mutate: func(c *clientcmdv1.Cluster) { c.ProxyURL = "proxy.example:3128" }, field: "cluster.proxy-url", want: "expected an http://, https:// or socks5:// URL"},
		{name: "proxy credentials redacted", mutate: func(c *clientcmdv1.Cluster) { c.ProxyURL = "gopher://user:hunter2@proxy.example" }, field: "cluster.proxy-url", want: "gopher"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := cluster("https://bravelion.example:443")
			tc.mutate(&c)
			a, err := p.Resolve(profile("fleet-system", "bravelion", ap("aks", c)))
			if tc.field != "" {
				if err == nil {
					t.Fatalf("Resolve succeeded, want %s error", tc.field)
				}
				var re *access.ResolveError
				if !errors.As(err, &re) || re.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v\nwant field %s and %q", err, tc.field, tc.want)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "SECRET123") {
					t.Errorf("error leaks a proxy password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, a.Cluster)
			}
		})
	}
}

func TestConditionsDoNotMatter(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider("", ""))
	cp := profile("ns", "c", ap("aks", cluster("https://c.example")))
	cp.Status.Conditions[0].Status = metav1.ConditionFalse
	if _, err := p.Resolve(cp); err != nil {
		t.Fatalf("an unhealthy profile must still resolve (the CLI warns): %v", err)
	}
}

func TestLargeExecExtension(t *testing.T) {
	t.Parallel()
	p := mustProviders(t, aksProvider("", ""))
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 50000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d": %d`, i, i)
	}
	unique := b.String() + "}"
	if _, err := p.Resolve(profile("ns", "c", ap("aks", cluster("https://c.example", ext(execExt, unique))))); err != nil {
		t.Fatalf("50,000 distinct keys: %v", err)
	}
	dup := b.String() + `, "k49999": 0}`
	if _, err := p.Resolve(profile("ns", "c", ap("aks", cluster("https://c.example", ext(execExt, dup))))); err == nil || !strings.Contains(err.Error(), `duplicate field "k49999"`) {
		t.Fatalf("late duplicate: %v", err)
	}
}
