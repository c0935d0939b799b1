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
func Decode(r io.Reader, source string) ([]*v1alpha1.ClusterProfile, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*v1alpha1.ClusterProfile
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("failed to read %s (document %d): %w", source, doc, err)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		cps, err := decodeObject(raw, "")
		if err != nil {
			return out, fmt.Errorf("failed to read %s (document %d): %w", source, doc, err)
		}
		out = append(out, cps...)
	}
}

func decodeObject(raw json.RawMessage, listKind string) ([]*v1alpha1.ClusterProfile, error) {
	var tm typeMeta
	if err := json.Unmarshal(raw, &tm); err != nil {
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
		var out []*v1alpha1.ClusterProfile
		for i, item := range tm.Items {
			cps, err := decodeObject(item, kind)
			if err != nil {
				return nil, fmt.Errorf("items[%d]: %w", i, err)
			}
			out = append(out, cps...)
		}
		return out, nil
	case kind == Kind:
		if tm.APIVersion != "" && tm.APIVersion != APIVersion {
			return nil, fmt.Errorf("expected apiVersion %s for kind %s, found %q", APIVersion, Kind, tm.APIVersion)
		}
		cp := &v1alpha1.ClusterProfile{}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, cp); err != nil {
			return nil, fmt.Errorf("failed to decode ClusterProfile: %w", err)
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
