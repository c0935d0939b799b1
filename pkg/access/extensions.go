package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Reserved extension names on an access provider's cluster.
const (
	// ExtensionAdditionalArgs carries extra plugin arguments: a list of
	// strings, or the object form {"args": [...]}.
	ExtensionAdditionalArgs = "clusterprofiles.multicluster.x-k8s.io/exec/additional-args"
	// ExtensionAdditionalEnvs carries extra plugin environment variables: a
	// map of name to scalar value.
	ExtensionAdditionalEnvs = "clusterprofiles.multicluster.x-k8s.io/exec/additional-envs"
	// ExtensionExec is SIG Auth's key for non-secret, cluster-specific plugin
	// data handed over as ExecCredential.spec.cluster.config.
	ExtensionExec = "client.authentication.k8s.io/exec"
)

// rawExtensionJSON returns an extension's payload as JSON. Payloads built in Go
// may hold YAML (the KEP's wording) or only an Object; both are accepted.
// A null or absent payload gives nil.
func rawExtensionJSON(ext runtime.RawExtension) ([]byte, error) {
	raw := bytes.TrimSpace(ext.Raw)
	if len(raw) == 0 && ext.Object != nil {
		b, err := json.Marshal(ext.Object)
		if err != nil {
			return nil, fmt.Errorf("failed to encode the extension object: %w", err)
		}
		raw = b
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if json.Valid(raw) {
		return raw, nil
	}
	j, err := yaml.YAMLToJSONStrict(raw)
	if err != nil {
		return nil, errors.New("expected JSON or YAML, found unparsable data")
	}
	if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
		return nil, nil
	}
	return j, nil
}

// jsonKind names a JSON value's type for error messages, from its first byte.
func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an unknown value"
}

// scalarText turns a scalar token into its literal text. Numbers keep their
// JSON spelling; booleans become "true" or "false".
func scalarText(tok json.Token) (string, bool) {
	switch v := tok.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func newDecoder(raw []byte) *json.Decoder {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d
}

const argsFormHint = `expected a list of strings or the object form {"args": [...]}`

// parseAdditionalArgs reads the additional-args payload in either form.
func parseAdditionalArgs(raw []byte) ([]string, error) {
	if raw == nil {
		return nil, errors.New(argsFormHint + ", found null")
	}
	d := newDecoder(raw)
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", argsFormHint, err)
	}
	switch tok {
	case json.Delim('['):
		args, err := readStringList(d, "")
		if err != nil {
			return nil, err
		}
		return args, expectEnd(d)
	case json.Delim('{'):
		var args []string
		found := false
		for d.More() {
			keyTok, err := d.Token()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", argsFormHint, err)
			}
			key, _ := keyTok.(string)
			if key != "args" {
				return nil, fmt.Errorf("object form: unknown key %q: %s", key, argsFormHint)
			}
			if found {
				return nil, errors.New(`object form: key "args" appears twice`)
			}
			found = true
			open, err := d.Token()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", argsFormHint, err)
			}
			if open != json.Delim('[') {
				return nil, fmt.Errorf(`object form: "args" must be a list of strings, found %s`, jsonKind(open))
			}
			if args, err = readStringList(d, "args"); err != nil {
				return nil, err
			}
		}
		if _, err := d.Token(); err != nil { // closing brace
			return nil, fmt.Errorf("%s: %w", argsFormHint, err)
		}
		if !found {
			return nil, errors.New(`object form: missing key "args": ` + argsFormHint)
		}
		return args, expectEnd(d)
	default:
		return nil, fmt.Errorf("%s, found %s", argsFormHint, jsonKind(tok))
	}
}

// readStringList reads list items after the opening bracket, up to and
// including the closing one. Scalars become their literal text.
func readStringList(d *json.Decoder, field string) ([]string, error) {
	out := []string{}
	for i := 0; d.More(); i++ {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", argsFormHint, err)
		}
		s, ok := scalarText(tok)
		if !ok {
			where := fmt.Sprintf("item %d", i)
			if field != "" {
				where = fmt.Sprintf("%s[%d]", field, i)
			}
			return nil, fmt.Errorf("%s: expected a string, number or boolean, found %s", where, jsonKind(tok))
		}
		out = append(out, s)
	}
	if _, err := d.Token(); err != nil { // closing bracket
		return nil, fmt.Errorf("%s: %w", argsFormHint, err)
	}
	return out, nil
}

// parseAdditionalEnvs reads the additional-envs payload: a map of name to
// scalar, in document order. Duplicate names are errors.
func parseAdditionalEnvs(raw []byte) ([]EnvVar, error) {
	const hint = "expected a map of variable name to string, number or boolean"
	if raw == nil {
		return nil, errors.New(hint + ", found null")
	}
	d := newDecoder(raw)
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hint, err)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("%s, found %s", hint, jsonKind(tok))
	}
	var out []EnvVar
	seen := map[string]bool{}
	for d.More() {
		keyTok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", hint, err)
		}
		name, _ := keyTok.(string)
		valTok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", hint, err)
		}
		value, ok := scalarText(valTok)
		if !ok {
			return nil, fmt.Errorf("variable %q: expected a string, number or boolean, found %s", name, jsonKind(valTok))
		}
		if seen[name] {
			return nil, fmt.Errorf("variable %q appears twice", name)
		}
		seen[name] = true
		out = append(out, EnvVar{Name: name, Value: value})
	}
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("%s: %w", hint, err)
	}
	return out, expectEnd(d)
}

// parseExecExtension checks the exec extension is a JSON object and returns it
// compacted, so equal content gives equal bytes.
func parseExecExtension(raw []byte) ([]byte, error) {
	if raw == nil {
		return nil, errors.New("expected a JSON object, found null")
	}
	d := newDecoder(raw)
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("expected a JSON object: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("expected a JSON object, found %s", jsonKind(tok))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("expected a JSON object: %w", err)
	}
	return buf.Bytes(), nil
}

func expectEnd(d *json.Decoder) error {
	if _, err := d.Token(); err != io.EOF {
		return errors.New("unexpected data after the value")
	}
	return nil
}
