package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	sigsjson "sigs.k8s.io/json"
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
// dropped, as the API server would.
//
// A document or list item that is not a valid ClusterProfile is reported in
// the returned error and the others are still returned. Reading stops at the
// first syntax error, after which the stream cannot be trusted.
func Decode(r io.Reader, source string) ([]*v1alpha1.ClusterProfile, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*v1alpha1.ClusterProfile
	var errs []error
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, errors.Join(errs...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to read %s (document %d): %w", source, doc, err))
			return out, errors.Join(errs...)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		cps, err := decodeObject(raw, "")
		out = append(out, cps...)
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to read %s (document %d): %w", source, doc, err))
		}
	}
}

// decodeObject decodes one document or list item. For a list, the valid items
// are returned together with an error joining the invalid ones.
func decodeObject(raw json.RawMessage, listKind string) ([]*v1alpha1.ClusterProfile, error) {
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
			cps, err := decodeObject(item, kind)
			out = append(out, cps...)
			if err != nil {
				errs = append(errs, fmt.Errorf("items[%d]: %w", i, err))
			}
		}
		return out, errors.Join(errs...)
	case kind == Kind:
		if tm.APIVersion != "" && tm.APIVersion != APIVersion {
			return nil, fmt.Errorf("expected apiVersion %s for kind %s, found %q", APIVersion, Kind, tm.APIVersion)
		}
		cp := &v1alpha1.ClusterProfile{}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, cp); err != nil {
			return nil, fmt.Errorf("failed to decode ClusterProfile%s: %w", nameOf(raw), err)
		}
		if cp.Name == "" {
			return nil, errors.New("ClusterProfile has no metadata.name")
		}
		return []*v1alpha1.ClusterProfile{cp}, nil
	case kind == "":
		return nil, fmt.Errorf("expected kind %s, found an object without kind", Kind)
	default:
		return nil, fmt.Errorf("expected kind %s (or a List of them), found %s", Kind, strings.TrimSpace(tm.APIVersion+" "+kind))
	}
}

// nameOf returns " <namespace>/<name>" of an object that failed to decode as a
// whole, or "" when its metadata cannot be read either.
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
	if obj.Metadata.Namespace == "" {
		return " " + obj.Metadata.Name
	}
	return " " + obj.Metadata.Namespace + "/" + obj.Metadata.Name
}
