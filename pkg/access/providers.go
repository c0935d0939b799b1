package access

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// CLIArgsPolicy says whether arguments sourced from a ClusterProfile's
// additional-args extension are passed to the plugin.
type CLIArgsPolicy string

const (
	// CLIArgsAppend appends the profile's arguments after the provider's own.
	CLIArgsAppend CLIArgsPolicy = "Append"
	// CLIArgsIgnore does not read the extension. The empty value means Ignore.
	CLIArgsIgnore CLIArgsPolicy = "Ignore"
)

// EnvVarsPolicy says how environment variables sourced from a ClusterProfile's
// additional-envs extension are merged with the provider's own.
type EnvVarsPolicy string

const (
	// EnvVarsAppendIfNotExists adds the profile's variables; the provider's
	// value wins when both set a name.
	EnvVarsAppendIfNotExists EnvVarsPolicy = "AppendIfNotExists"
	// EnvVarsReplace adds the profile's variables; the profile's value wins
	// when both set a name.
	EnvVarsReplace EnvVarsPolicy = "Replace"
	// EnvVarsIgnore does not read the extension. The empty value means Ignore.
	EnvVarsIgnore EnvVarsPolicy = "Ignore"
)

// Exec credential API versions a provider may use.
const (
	ExecAPIVersionV1      = "client.authentication.k8s.io/v1"
	ExecAPIVersionV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// EnvVar is one environment variable of an exec plugin.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ExecConfig is how to run a credential plugin. Its field names are those of
// client-go's kubeconfig exec section, so an existing provider file keeps
// working.
type ExecConfig struct {
	APIVersion         string                           `json:"apiVersion"`
	Command            string                           `json:"command"`
	Args               []string                         `json:"args,omitempty"`
	Env                []EnvVar                         `json:"env,omitempty"`
	InstallHint        string                           `json:"installHint,omitempty"`
	ProvideClusterInfo bool                             `json:"provideClusterInfo,omitempty"`
	InteractiveMode    clientcmdapi.ExecInteractiveMode `json:"interactiveMode,omitempty"`
}

// Provider is one entry of the provider file.
//
// AllowedProfileArgs and AllowedProfileEnvVars tighten or widen what a
// ClusterProfile may contribute. When AllowedProfileArgs is set, only those
// flags (for example "--tenant-id") may appear in a profile's additional
// arguments; when unset, any flag may appear except the built-in deny list
// and flags the provider sets itself. AllowedProfileEnvVars works the same way
// for variable names. A name listed explicitly is allowed even when the
// built-in deny list names it.
type Provider struct {
	Name                        string        `json:"name"`
	ExecConfig                  *ExecConfig   `json:"execConfig"`
	ProfileSourcedCLIArgsPolicy CLIArgsPolicy `json:"profileSourcedCLIArgsPolicy,omitempty"`
	ProfileSourcedEnvVarsPolicy EnvVarsPolicy `json:"profileSourcedEnvVarsPolicy,omitempty"`
	AllowedProfileArgs          []string      `json:"allowedProfileArgs,omitempty"`
	AllowedProfileEnvVars       []string      `json:"allowedProfileEnvVars,omitempty"`
}

// ProviderFile is the document a provider file holds.
type ProviderFile struct {
	Providers []Provider `json:"providers"`
}

// Providers is a validated provider file. It is immutable and safe for
// concurrent use.
type Providers struct {
	source    string
	providers []provider
}

// provider is a validated Provider with its lookup sets precomputed.
type provider struct {
	Provider
	ownFlags    map[string]bool // flags the provider's own args set
	ownEnv      map[string]int  // provider env name -> index
	allowedArgs map[string]bool
	allowedEnv  map[string]bool
}

// LoadProviderFile reads and validates a provider file (JSON or YAML).
func LoadProviderFile(path string) (*Providers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read provider file: %w", err)
	}
	return ParseProviderFile(data, path)
}

// ParseProviderFile validates a provider file's content; source names it in
// errors.
func ParseProviderFile(data []byte, source string) (*Providers, error) {
	if source == "" {
		source = "<provider file>"
	}
	fail := func(err error) (*Providers, error) {
		return nil, fmt.Errorf("failed to load provider file %q: %w", source, err)
	}
	data, err := singleDocument(data)
	if err != nil {
		return fail(err)
	}
	jsonData, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return fail(fmt.Errorf("not valid JSON or YAML: %w", err))
	}
	var file ProviderFile
	strictErrs, err := sigsjson.UnmarshalStrict(jsonData, &file)
	if err != nil {
		return fail(fmt.Errorf("not a provider file: %w", err))
	}
	if len(strictErrs) > 0 {
		return fail(describeStrictErrors(strictErrs, file))
	}
	return NewProviders(file.Providers, source)
}

// NewProviders validates providers given in Go. The slice is copied; later
// changes to it do not affect the result.
func NewProviders(list []Provider, source string) (*Providers, error) {
	if source == "" {
		source = "<providers>"
	}
	p := &Providers{source: source, providers: make([]provider, 0, len(list))}
	seen := map[string]int{}
	var errs []error
	for i := range list {
		pv, err := validateProvider(list[i], i)
		if err == nil {
			if j, dup := seen[pv.Name]; dup {
				err = fmt.Errorf("providers[%d]: name %q is already used by providers[%d]", i, pv.Name, j)
			}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen[pv.Name] = i
		p.providers = append(p.providers, pv)
	}
	if len(list) == 0 {
		errs = append(errs, errors.New("defines no providers: expected a list under \"providers\""))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("failed to load provider file %q: %w", source, errors.Join(errs...))
	}
	return p, nil
}

// Warnings describes what the providers leave open to ClusterProfiles: a
// policy that takes profile arguments or variables without an allow list.
// They are not errors (upstream provider files look like this); show them
// at start-up.
func (p *Providers) Warnings() []string {
	if p == nil {
		return nil
	}
	var out []string
	for i := range p.providers {
		out = append(out, p.providers[i].warnings()...)
	}
	return out
}

// Names returns the provider names in file order.
func (p *Providers) Names() []string {
	names := make([]string, len(p.providers))
	for i := range p.providers {
		names[i] = p.providers[i].Name
	}
	return names
}

// Source returns the name the provider file was loaded under.
func (p *Providers) Source() string { return p.source }

// Provider returns a copy of the named provider.
func (p *Providers) Provider(name string) (Provider, bool) {
	for i := range p.providers {
		if p.providers[i].Name == name {
			return copyProvider(p.providers[i].Provider), true
		}
	}
	return Provider{}, false
}

func validateProvider(in Provider, i int) (provider, error) {
	pv := provider{Provider: copyProvider(in)}
	where := fmt.Sprintf("providers[%d]", i)
	if pv.Name != "" {
		where = fmt.Sprintf("provider %q (providers[%d])", pv.Name, i)
	}
	fieldErr := func(field, format string, args ...any) (provider, error) {
		return provider{}, fmt.Errorf("%s: field %s: %s", where, field, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(pv.Name) == "" {
		return fieldErr("name", "must not be empty")
	}
	if strings.TrimSpace(pv.Name) != pv.Name || checkText(pv.Name) != nil {
		return fieldErr("name", "must not have surrounding spaces or control characters, found %q", pv.Name)
	}
	switch pv.ProfileSourcedCLIArgsPolicy {
	case "", CLIArgsAppend, CLIArgsIgnore:
	default:
		return fieldErr("profileSourcedCLIArgsPolicy", "expected one of Append, Ignore (or empty for Ignore), found %q", pv.ProfileSourcedCLIArgsPolicy)
	}
	switch pv.ProfileSourcedEnvVarsPolicy {
	case "", EnvVarsAppendIfNotExists, EnvVarsReplace, EnvVarsIgnore:
	default:
		return fieldErr("profileSourcedEnvVarsPolicy", "expected one of AppendIfNotExists, Replace, Ignore (or empty for Ignore), found %q", pv.ProfileSourcedEnvVarsPolicy)
	}
	ec := pv.ExecConfig
	if ec == nil {
		return fieldErr("execConfig", "is required")
	}
	if strings.TrimSpace(ec.Command) == "" {
		return fieldErr("execConfig.command", "must not be empty")
	}
	switch ec.APIVersion {
	case ExecAPIVersionV1, ExecAPIVersionV1beta1:
	default:
		return fieldErr("execConfig.apiVersion", "expected %s or %s, found %q", ExecAPIVersionV1, ExecAPIVersionV1beta1, ec.APIVersion)
	}
	switch ec.InteractiveMode {
	case "":
		ec.InteractiveMode = clientcmdapi.NeverExecInteractiveMode
	case clientcmdapi.NeverExecInteractiveMode, clientcmdapi.IfAvailableExecInteractiveMode, clientcmdapi.AlwaysExecInteractiveMode:
	default:
		return fieldErr("execConfig.interactiveMode", "expected one of Never, IfAvailable, Always (or empty for Never), found %q", ec.InteractiveMode)
	}
	pv.ownEnv = make(map[string]int, len(ec.Env))
	for j, e := range ec.Env {
		if !validEnvName(e.Name) {
			return fieldErr(fmt.Sprintf("execConfig.env[%d].name", j), "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), found %q", e.Name)
		}
		if _, dup := pv.ownEnv[e.Name]; dup {
			return fieldErr(fmt.Sprintf("execConfig.env[%d].name", j), "%q is set twice", e.Name)
		}
		pv.ownEnv[e.Name] = j
	}
	pv.ownFlags = map[string]bool{}
	for _, a := range ec.Args {
		for _, n := range ownFlagNames(a) {
			pv.ownFlags[n] = true
		}
	}
	pv.allowedArgs = map[string]bool{}
	for j, a := range pv.AllowedProfileArgs {
		name, ok := flagName(a)
		if !ok || name == "" {
			return fieldErr(fmt.Sprintf("allowedProfileArgs[%d]", j), "expected a flag such as --tenant-id, found %q", a)
		}
		pv.allowedArgs[canonical(name)] = true
	}
	pv.allowedEnv = map[string]bool{}
	for j, n := range pv.AllowedProfileEnvVars {
		if !validEnvName(n) {
			return fieldErr(fmt.Sprintf("allowedProfileEnvVars[%d]", j), "expected an environment variable name, found %q", n)
		}
		pv.allowedEnv[n] = true
	}
	return pv, nil
}

func copyProvider(in Provider) Provider {
	out := in
	if in.ExecConfig != nil {
		ec := *in.ExecConfig
		ec.Args = slices.Clone(in.ExecConfig.Args)
		ec.Env = slices.Clone(in.ExecConfig.Env)
		out.ExecConfig = &ec
	}
	out.AllowedProfileArgs = slices.Clone(in.AllowedProfileArgs)
	out.AllowedProfileEnvVars = slices.Clone(in.AllowedProfileEnvVars)
	return out
}

// describeStrictErrors rewrites sigs.k8s.io/json's strict errors (unknown,
// mis-cased and duplicate fields) so they name the provider at fault.
func describeStrictErrors(strictErrs []error, file ProviderFile) error {
	errs := make([]error, 0, len(strictErrs))
	for _, e := range strictErrs {
		msg := e.Error()
		var idx int
		if _, err := fmt.Sscanf(fieldPathOf(msg), "providers[%d]", &idx); err == nil && idx >= 0 && idx < len(file.Providers) && file.Providers[idx].Name != "" {
			msg = fmt.Sprintf("provider %q: %s", file.Providers[idx].Name, msg)
		}
		errs = append(errs, fmt.Errorf("%s (field names are case-sensitive; see the provider file reference)", msg))
	}
	return errors.Join(errs...)
}

// fieldPathOf extracts the quoted field path from a strict decoding error such
// as `unknown field "providers[0].execConfig.ARGS"`.
func fieldPathOf(msg string) string {
	start := strings.IndexByte(msg, '"')
	if start < 0 {
		return ""
	}
	end := strings.IndexByte(msg[start+1:], '"')
	if end < 0 {
		return ""
	}
	return msg[start+1 : start+1+end]
}

// singleDocument returns the one YAML document or JSON value data holds. More
// than one is an error: everything after the first would otherwise be
// ignored silently.
func singleDocument(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		d := json.NewDecoder(bytes.NewReader(trimmed))
		var first json.RawMessage
		if err := d.Decode(&first); err != nil {
			return data, nil // not JSON after all: YAML parsing reports it
		}
		if _, err := d.Token(); err != io.EOF {
			return nil, errors.New("found data after the first JSON value; a provider file holds one document")
		}
		return data, nil
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var found []byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		if found != nil {
			return nil, errors.New("holds more than one YAML document; a provider file holds one")
		}
		found = doc
	}
	if found == nil {
		return data, nil
	}
	return found, nil
}

// stripComments drops comment-only lines and document markers, so that an
// empty document is recognised as such.
func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) || bytes.Equal(t, []byte("...")) {
			continue
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}
