package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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

// The payloads are small JSON documents already checked to be valid JSON by
// rawExtensionJSON, so a forward scanner over them only has to tell the
// shapes apart; it allocates little more than the strings it returns.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// kind names the value starting at the next byte, for error messages.
func (s *scanner) kind() string {
	switch s.peek() {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// scalar reads a string, number or boolean and returns its text: strings
// unquoted, numbers in their JSON spelling, booleans as "true" or "false".
// ok is false, and nothing is consumed, for null, lists and objects.
func (s *scanner) scalar() (text string, ok bool, err error) {
	switch c := s.peek(); c {
	case '"':
		return s.str()
	case 't':
		s.pos += len("true")
		return "true", true, nil
	case 'f':
		s.pos += len("false")
		return "false", true, nil
	case 'n', '[', '{':
		return "", false, nil
	default:
		start := s.pos
		for s.pos < len(s.data) && strings.IndexByte("+-.eE0123456789", s.data[s.pos]) >= 0 {
			s.pos++
		}
		return string(s.data[start:s.pos]), true, nil
	}
}

// str reads a JSON string at the next byte. Strings with escapes or invalid
// UTF-8 are decoded by encoding/json, so the text is the same as its.
func (s *scanner) str() (string, bool, error) {
	start := s.pos
	escaped := false
	for i := start + 1; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			s.pos = i + 1
			if !escaped && utf8.Valid(s.data[start+1:i]) {
				return string(s.data[start+1 : i]), true, nil
			}
			var out string
			if err := json.Unmarshal(s.data[start:i+1], &out); err != nil {
				return "", false, fmt.Errorf("failed to decode a string: %w", err)
			}
			return out, true, nil
		}
	}
	return "", false, errors.New("unterminated string")
}

// expect consumes c, which valid JSON guarantees at this point.
func (s *scanner) expect(c byte) bool {
	if s.peek() == c {
		s.pos++
		return true
	}
	return false
}

// checkDuplicates walks the value at the next byte and reports the first
// key repeated within one object, naming its path.
func (s *scanner) checkDuplicates(path string) error {
	switch s.peek() {
	case '{':
		s.pos++
		var seen []string           // small objects: a slice is cheaper
		var seenMap map[string]bool // large ones: stay linear
		for s.peek() != '}' {
			key, _, err := s.str()
			if err != nil {
				return err
			}
			keyPath := key
			if path != "" {
				keyPath = path + "." + key
			}
			dup := false
			if seenMap != nil {
				dup = seenMap[key]
				seenMap[key] = true
			} else {
				dup = slices.Contains(seen, key)
				if seen = append(seen, key); len(seen) > 16 {
					seenMap = make(map[string]bool, 2*len(seen))
					for _, k := range seen {
						seenMap[k] = true
					}
				}
			}
			if dup {
				return fmt.Errorf("duplicate field %q: each key may appear once", keyPath)
			}
			s.expect(':')
			if err := s.checkDuplicates(keyPath); err != nil {
				return err
			}
			s.expect(',')
		}
		s.pos++
	case '[':
		s.pos++
		for i := 0; s.peek() != ']'; i++ {
			if err := s.checkDuplicates(fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
			s.expect(',')
		}
		s.pos++
	case 'n':
		s.pos += len("null")
	default:
		if _, _, err := s.scalar(); err != nil {
			return err
		}
	}
	return nil
}

const argsFormHint = `expected a list of strings or the object form {"args": [...]}`

// parseAdditionalArgs reads the additional-args payload in either form.
func parseAdditionalArgs(raw []byte) ([]string, error) {
	if raw == nil {
		return nil, errors.New(argsFormHint + ", found null")
	}
	s := &scanner{data: raw}
	switch s.peek() {
	case '[':
		return s.stringList("")
	case '{':
		s.pos++
		var args []string
		found := false
		for s.peek() != '}' {
			key, _, err := s.str()
			if err != nil {
				return nil, err
			}
			if key != "args" {
				return nil, fmt.Errorf("object form: unknown key %q: %s", key, argsFormHint)
			}
			if found {
				return nil, errors.New(`object form: key "args" appears twice`)
			}
			found = true
			s.expect(':')
			if s.peek() != '[' {
				return nil, fmt.Errorf(`object form: "args" must be a list of strings, found %s`, s.kind())
			}
			if args, err = s.stringList("args"); err != nil {
				return nil, err
			}
			s.expect(',')
		}
		if !found {
			return nil, errors.New(`object form: missing key "args": ` + argsFormHint)
		}
		return args, nil
	default:
		return nil, fmt.Errorf("%s, found %s", argsFormHint, s.kind())
	}
}

// stringList reads a list of scalars at the next byte, as their text.
func (s *scanner) stringList(field string) ([]string, error) {
	s.expect('[')
	out := make([]string, 0, 4)
	for i := 0; s.peek() != ']'; i++ {
		text, ok, err := s.scalar()
		if err != nil {
			return nil, err
		}
		if !ok {
			where := fmt.Sprintf("item %d", i)
			if field != "" {
				where = fmt.Sprintf("%s[%d]", field, i)
			}
			return nil, fmt.Errorf("%s: expected a string, number or boolean, found %s", where, s.kind())
		}
		out = append(out, text)
		s.expect(',')
	}
	s.pos++
	return out, nil
}

// parseAdditionalEnvs reads the additional-envs payload: a map of name to
// scalar, in document order. Duplicate names are errors.
func parseAdditionalEnvs(raw []byte) ([]EnvVar, error) {
	const hint = "expected a map of variable name to string, number or boolean"
	if raw == nil {
		return nil, errors.New(hint + ", found null")
	}
	s := &scanner{data: raw}
	if s.peek() != '{' {
		return nil, fmt.Errorf("%s, found %s", hint, s.kind())
	}
	s.pos++
	var out []EnvVar
	seen := map[string]bool{}
	for s.peek() != '}' {
		name, _, err := s.str()
		if err != nil {
			return nil, err
		}
		s.expect(':')
		value, ok, err := s.scalar()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("variable %q: expected a string, number or boolean, found %s", name, s.kind())
		}
		if seen[name] {
			return nil, fmt.Errorf("variable %q appears twice", name)
		}
		seen[name] = true
		out = append(out, EnvVar{Name: name, Value: value})
		s.expect(',')
	}
	return out, nil
}

// parseExecExtension checks the exec extension is a JSON object and returns it
// compacted, so equal content gives equal bytes.
func parseExecExtension(raw []byte) ([]byte, error) {
	if raw == nil {
		return nil, errors.New("expected a JSON object, found null")
	}
	if s := (&scanner{data: raw}); s.peek() != '{' {
		return nil, fmt.Errorf("expected a JSON object, found %s", s.kind())
	}
	if err := (&scanner{data: raw}).checkDuplicates(""); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("expected a JSON object: %w", err)
	}
	return buf.Bytes(), nil
}
