package access

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

// referenceArgs decodes an additional-args payload with encoding/json, the
// slow and obviously right way, for comparison with the scanner.
func referenceArgs(raw []byte) ([]string, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if obj, ok := v.(map[string]any); ok {
		if len(obj) != 1 || bytes.Count(raw, []byte(`"args"`)) != 1 {
			return nil, false
		}
		v = obj["args"]
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, item := range list {
		switch x := item.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			if x {
				out = append(out, "true")
			} else {
				out = append(out, "false")
			}
		default:
			return nil, false
		}
	}
	return out, true
}

func FuzzAdditionalArgs(f *testing.F) {
	for _, seed := range []string{
		`["--tenant-id", "t"]`, `{"args": ["a", 1, true, 1.50e3]}`, `[]`, `{"args": []}`,
		`["a\"b", "\u00e9\ud83d\ude00", "\\"]`, `[null]`, `[["a"]]`, `{"args": "x"}`, `{"x": []}`,
		`{"args": [1], "args": [2]}`, `"str"`, `3`, `false`, ` [ "a" , "b" ] `, `- a\n- b`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := rawExtensionJSON(runtimeRaw(data))
		if err != nil || raw == nil {
			return
		}
		got, err := parseAdditionalArgs(raw)
		want, ok := referenceArgs(raw)
		if err != nil {
			if ok {
				t.Fatalf("scanner rejected %q (%v); encoding/json reads %q", raw, err, want)
			}
			return
		}
		if !ok {
			t.Fatalf("scanner accepted %q as %q; encoding/json does not", raw, got)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: scanner %q, encoding/json %q", raw, got, want)
		}
	})
}

func FuzzAdditionalEnvs(f *testing.F) {
	for _, seed := range []string{`{"A": "1", "B": 2, "C": true}`, `{"A": null}`, `{"A": {}}`, `{"A": "1", "A": "2"}`, `[]`, `{"\u0041": "x"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := rawExtensionJSON(runtimeRaw(data))
		if err != nil || raw == nil {
			return
		}
		got, err := parseAdditionalEnvs(raw)
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var ref map[string]any
		refErr := d.Decode(&ref)
		if err != nil {
			return // shapes the reference may accept (duplicates) are ours to refuse
		}
		if refErr != nil || len(ref) != len(got) {
			t.Fatalf("%q: scanner %v, encoding/json %v (%v)", raw, got, ref, refErr)
		}
		for _, e := range got {
			v, ok := ref[e.Name]
			if !ok {
				t.Fatalf("%q: scanner invented %q", raw, e.Name)
			}
			text, _ := scalarText(v)
			if text != e.Value {
				t.Fatalf("%q: %s = %q, encoding/json %q", raw, e.Name, e.Value, text)
			}
		}
	})
}

func runtimeRaw(data []byte) runtime.RawExtension { return runtime.RawExtension{Raw: data} }

// scalarText is the reference spelling of a decoded scalar.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
