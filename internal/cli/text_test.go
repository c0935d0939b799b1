package cli

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           string
		keepNewlines bool
		max          int
		want         string
	}{
		{name: "plain", in: "probe result false", want: "probe result false"},
		{name: "printable non-ASCII kept", in: "Zürich ✓", want: "Zürich ✓"},
		{name: "ESC and BEL", in: "a\x1b[2Jb\x07", want: `a\x1b[2Jb\a`},
		{name: "CR LF tab", in: "a\r\nb\tc", want: `a\r\nb\tc`},
		{name: "newline kept when asked", in: "a\nb\rc", keepNewlines: true, want: "a\nb\\rc"},
		{name: "bidi overrides and isolates", in: "x\u202ey\u2066z\u2069\u200f", want: `x\u202ey\u2066z\u2069\u200f`},
		{name: "invalid UTF-8", in: "a\xffb", want: `a\xffb`},
		{name: "C1 control and NBSP", in: "a\u0085b\u00a0c", want: `a\u0085b\u00a0c`},
		{name: "fits exactly", in: "abcde", max: 5, want: "abcde"},
		{name: "cut with an ellipsis", in: "abcdef", max: 5, want: "abcd…"},
		{name: "escape not cut in half", in: "abc\x1bdef", max: 5, want: "abc…"},
		{name: "escape counted by its length", in: "\x1b\x1b", max: 8, want: `\x1b\x1b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := escapeText(tt.in, tt.keepNewlines, tt.max)
			if got != tt.want {
				t.Errorf("escapeText(%q, %v, %d) = %q, want %q", tt.in, tt.keepNewlines, tt.max, got, tt.want)
			}
			if tt.max > 0 && utf8.RuneCountInString(got) > tt.max {
				t.Errorf("result has %d characters, more than %d", utf8.RuneCountInString(got), tt.max)
			}
		})
	}

	t.Run("long input", func(t *testing.T) {
		t.Parallel()
		got := escapeText(strings.Repeat("\u202e", 100), false, maxDetail)
		if n := utf8.RuneCountInString(got); n > maxDetail || !strings.HasSuffix(got, "…") {
			t.Errorf("got %d characters %q", n, got)
		}
	})
}
