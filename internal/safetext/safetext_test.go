package safetext

import (
	"strings"
	"testing"
)

func TestHidden(t *testing.T) {
	t.Parallel()
	for _, r := range []rune{0, '\n', '\r', '\t', 0x1b, 0x7f, 0x85, 0x202a, 0x202e, 0x2066, 0x2069, 0x200e, 0x200f, 0x061c} {
		if !Hidden(r) {
			t.Errorf("Hidden(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', ' ', '/', 'é', 0x2060, 0x202f} {
		if Hidden(r) {
			t.Errorf("Hidden(%U) = true", r)
		}
	}
}

func TestCheckObjectName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ns, name, field, want string
	}{
		{"fleet-system", "bravelion", "", ""},
		{"", "bravelion.example", "", ""},
		{"fleet-system", "", "metadata.name", `"" is invalid`},
		{"", "a/b", "metadata.name", `"a/b" is invalid`},
		{"", "evil\x1b[2J", "metadata.name", `"evil\x1b[2J" is invalid`},
		{"Team_A", "c", "metadata.namespace", `"Team_A" is invalid`},
	}
	for _, tc := range tests {
		field, err := CheckObjectName(tc.ns, tc.name)
		if field != tc.field || (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckObjectName(%q, %q) = %q, %v; want %q, %q", tc.ns, tc.name, field, err, tc.field, tc.want)
		}
	}
}
