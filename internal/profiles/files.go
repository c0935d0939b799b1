package profiles

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Kind and group version of ClusterProfile objects.
const (
	Kind       = "ClusterProfile"
	APIVersion = "multicluster.x-k8s.io/v1alpha1"
)

type typeMeta struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// Decode reads every ClusterProfile from r: YAML or JSON, several documents,
// ClusterProfileList or v1 List documents. source names r in errors. Objects
// of other kinds are errors. Decoding is case-sensitive: a mis-cased field is
// dropped, as the API server would. Unknown fields are ignored (a newer API
// version may add some).
//
// Input whose first non-space byte is '{' or '[' is a JSON stream: JSON
// values one after the other. Anything else is YAML, documents separated by
// "---" lines.
//
// A key that appears twice in one mapping, at any depth, makes its whole
// document an error: which value wins would be up to the parser, and a
// reviewer may have read the other one. In YAML this includes keys that only
// collide once converted to JSON (1 and "1") and keys a merge ("<<")
// overrides.
//
// Every decoded ClusterProfile must have a metadata.name that is a DNS-1123
// subdomain and, when set, a metadata.namespace that is a DNS-1123 label, as
// the API server requires.
//
// A document or list item that is not a valid ClusterProfile is reported in
// the returned error and the others are still returned. Reading stops at a
// JSON syntax error, after which the stream cannot be trusted, and at a read
// error; a YAML document with a syntax error is reported and the documents
// after it are still read.
func Decode(r io.Reader, source string) ([]*v1alpha1.ClusterProfile, error) {
	br := bufio.NewReaderSize(r, 4096)
	lead, isJSON, err := sniffJSON(br)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s (document 1): %w", source, err)
	}
	var next func() ([]byte, bool, error)
	if isJSON {
		next = jsonDocuments(br)
	} else {
		next = yamlDocuments(io.MultiReader(bytes.NewReader(lead), br))
	}

	var out []*v1alpha1.ClusterProfile
	var errs []error
	for doc := 1; ; doc++ {
		raw, fatal, err := next()
		if errors.Is(err, io.EOF) {
			return out, errors.Join(errs...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to read %s (document %d): %w", source, doc, err))
			if fatal {
				return out, errors.Join(errs...)
			}
			continue
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		cps, objErrs := decodeObject(raw, "")
		out = append(out, cps...)
		for _, err := range objErrs {
			errs = append(errs, fmt.Errorf("failed to read %s (document %d): %w", source, doc, err))
		}
	}
}

// sniffJSON skips leading white space and reports whether the next byte
// opens a JSON object or array, as utilyaml.NewYAMLOrJSONDecoder decides.
// The white space it consumed is returned, for a YAML reader that must see
// the first line's indentation.
func sniffJSON(br *bufio.Reader) (lead []byte, isJSON bool, err error) {
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return lead, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		switch b {
		case ' ', '\t', '\r', '\n', '\v', '\f':
			lead = append(lead, b)
			continue
		}
		if err := br.UnreadByte(); err != nil {
			return nil, false, err
		}
		return lead, b == '{' || b == '[', nil
	}
}

// jsonDocuments returns a function yielding the JSON values of r one by one,
// each checked for duplicate keys. A syntax or read error is fatal: the
// stream cannot be resynchronised.
func jsonDocuments(r io.Reader) func() ([]byte, bool, error) {
	dec := json.NewDecoder(r)
	first := true
	return func() ([]byte, bool, error) {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		wasFirst := first
		first = false
		if errors.Is(err, io.EOF) {
			return nil, true, io.EOF
		}
		if err != nil {
			var syntax *json.SyntaxError
			if wasFirst && errors.As(err, &syntax) {
				err = fmt.Errorf("%w (input starting with '{' or '[' is read as JSON)", err)
			}
			return nil, true, err
		}
		if err := checkJSONDuplicates(raw); err != nil {
			return nil, false, err
		}
		return raw, false, nil
	}
}

// checkJSONDuplicates fails when a JSON object in raw has a key twice.
// Unknown fields are no concern here: raw is decoded into a generic value.
func checkJSONDuplicates(raw []byte) error {
	var v any
	strict, err := sigsjson.UnmarshalStrict(raw, &v, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return err
	}
	var paths []string
	for _, e := range strict {
		var fe sigsjson.FieldError
		if !errors.As(e, &fe) || !strings.HasPrefix(e.Error(), "duplicate field") {
			continue
		}
		paths = append(paths, fe.FieldPath())
	}
	return duplicateError(paths)
}

func duplicateError(paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = fmt.Sprintf("%q", p)
	}
	return fmt.Errorf("duplicate field %s: each key may appear only once in a mapping", strings.Join(quoted, ", "))
}

// yamlDocuments returns a function yielding the YAML documents of r one by
// one, converted to JSON and checked for duplicate keys. A syntax error in a
// document is not fatal: documents are split at "---" lines first. A read
// error or a malformed separator is.
func yamlDocuments(r io.Reader) func() ([]byte, bool, error) {
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	return func() ([]byte, bool, error) {
		doc, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return nil, true, io.EOF
		}
		if err != nil {
			return nil, true, err
		}
		raw, err := yamlToJSON(doc)
		return raw, false, err
	}
}

// yamlToJSON converts one YAML document to JSON, failing on duplicate keys,
// including keys that collide only once made JSON strings.
func yamlToJSON(doc []byte) ([]byte, error) {
	raw, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		if _, lenientErr := yaml.YAMLToJSON(doc); lenientErr != nil {
			return nil, err // a syntax error, not only a strictness one
		}
		// Only strictness failed: a key is set twice. Find its path; keys
		// that a merge key ("<<") overrides are only found by line.
		if dupErr := yamlDuplicates(doc); dupErr != nil {
			return nil, dupErr
		}
		msg := strings.TrimPrefix(oneLine(err.Error()), "yaml: unmarshal errors:; ")
		return nil, fmt.Errorf("duplicate key (line numbers count from the document's start): %s", msg)
	}
	if err := yamlDuplicates(doc); err != nil {
		return nil, err
	}
	return raw, nil
}

// yamlDuplicates reports the paths of keys whose JSON form repeats in a
// mapping of doc. It first walks the document with every mapping kept as a
// MapSlice, which keeps repeated keys in their order; then, since a
// MapSlice drops what merge keys ("<<") bring in, as plain maps, where keys
// such as 1 and "1" are still distinct until made JSON. A document that is
// no mapping has nothing to report here (decodeObject rejects it).
func yamlDuplicates(doc []byte) error {
	var ms yamlv2.MapSlice
	if err := yamlv2.Unmarshal(doc, &ms); err != nil {
		return nil //nolint:nilerr // not a mapping: decodeObject rejects it.
	}
	var paths []string
	walkYAML(ms, "", &paths)
	if len(paths) == 0 {
		var v any
		if err := yamlv2.Unmarshal(doc, &v); err == nil {
			walkYAMLMaps(v, "", &paths)
			slices.Sort(paths)
		}
	}
	return duplicateError(paths)
}

// walkYAMLMaps finds keys of one map that collide once made JSON strings.
func walkYAMLMaps(v any, path string, dups *[]string) {
	switch v := v.(type) {
	case map[any]any:
		seen := map[string]bool{}
		for k, e := range v {
			key := jsonKey(k)
			p := joinPath(path, key)
			if seen[key] {
				*dups = append(*dups, p)
			}
			seen[key] = true
			walkYAMLMaps(e, p, dups)
		}
	case []any:
		for i, e := range v {
			walkYAMLMaps(e, fmt.Sprintf("%s[%d]", path, i), dups)
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func walkYAML(v any, path string, dups *[]string) {
	switch v := v.(type) {
	case yamlv2.MapSlice:
		seen := map[string]bool{}
		for _, item := range v {
			key := jsonKey(item.Key)
			p := joinPath(path, key)
			if seen[key] {
				*dups = append(*dups, p)
			}
			seen[key] = true
			walkYAML(item.Value, p, dups)
		}
	case []any:
		for i, e := range v {
			walkYAML(e, fmt.Sprintf("%s[%d]", path, i), dups)
		}
	}
}

// jsonKey is the JSON object key sigs.k8s.io/yaml makes of a YAML key (see
// its convertToJSONableObject). Other key types fail that conversion.
func jsonKey(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case int:
		return strconv.Itoa(k)
	case int64:
		return strconv.FormatInt(k, 10)
	case float64:
		s := strconv.FormatFloat(k, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return s
	case bool:
		return strconv.FormatBool(k)
	}
	return fmt.Sprint(k)
}

// oneLine joins a multi-line parser message into one line.
func oneLine(s string) string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}

// decodeObject decodes one document or list item. For a list, the valid items
// are returned together with one error per invalid item.
func decodeObject(raw json.RawMessage, listKind string) ([]*v1alpha1.ClusterProfile, []error) {
	cps, err := decodeOne(raw, listKind)
	var items listErrors
	switch {
	case errors.As(err, &items):
		return cps, items
	case err != nil:
		return cps, []error{err}
	}
	return cps, nil
}

func decodeOne(raw json.RawMessage, listKind string) ([]*v1alpha1.ClusterProfile, error) {
	var tm typeMeta
	// Case-sensitive like the API server: "Kind" is not "kind".
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &tm); err != nil {
		return nil, fmt.Errorf("expected an object: %w", err)
	}
	kind := tm.Kind
	if kind == "" && listKind == Kind+"List" {
		kind = Kind
	}
	switch {
	case kind == "List" || kind == Kind+"List":
		if listKind != "" {
			return nil, errors.New("nested lists are not supported")
		}
		wantVersion := "v1"
		if kind == Kind+"List" {
			wantVersion = APIVersion
		}
		if tm.APIVersion != "" && tm.APIVersion != wantVersion {
			return nil, fmt.Errorf("expected apiVersion %s for kind %s, found %q", wantVersion, kind, tm.APIVersion)
		}
		var out []*v1alpha1.ClusterProfile
		var errs []error
		for i, item := range tm.Items {
			cps, err := decodeOne(item, kind)
			out = append(out, cps...)
			if err != nil {
				errs = append(errs, fmt.Errorf("items[%d]: %w", i, err))
			}
		}
		if len(errs) > 0 {
			return out, listErrors(errs)
		}
		return out, nil
	case kind == Kind:
		if tm.APIVersion != "" && tm.APIVersion != APIVersion {
			return nil, fmt.Errorf("expected apiVersion %s for kind %s, found %q", APIVersion, Kind, tm.APIVersion)
		}
		cp := &v1alpha1.ClusterProfile{}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, cp); err != nil {
			return nil, fmt.Errorf("failed to decode ClusterProfile%s: %w", nameOf(raw), err)
		}
		if err := ValidateName(cp); err != nil {
			return nil, err
		}
		return []*v1alpha1.ClusterProfile{cp}, nil
	case kind == "":
		return nil, fmt.Errorf("expected kind %s, found an object without kind", Kind)
	default:
		return nil, fmt.Errorf("expected kind %s (or a List of them), found %s", Kind, typeText(tm.APIVersion, kind))
	}
}

// listErrors carries the errors of a list's items out of decodeOne, one
// per item, for decodeObject to unpack.
type listErrors []error

func (e listErrors) Error() string { return errors.Join(e...).Error() }

// typeText is "apiVersion kind" for messages, quoted when either holds
// anything but the characters of real API versions and kinds.
func typeText(apiVersion, kind string) string {
	s := strings.TrimSpace(apiVersion + " " + kind)
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("./-_ ", r)) {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// nameOf returns " <namespace>/<name>" of an object that failed to decode as a
// whole, or "" when its metadata cannot be read either. Names that are not
// valid Kubernetes names are quoted.
func nameOf(raw json.RawMessage) string {
	var obj struct {
		Metadata struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &obj); err != nil || obj.Metadata.Name == "" {
		return ""
	}
	return " " + DisplayName(obj.Metadata.Namespace, obj.Metadata.Name)
}
