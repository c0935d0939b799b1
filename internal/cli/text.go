package cli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cpaccess/cpaccess/internal/safetext"
)

// maxDetail is how many characters of a hub- or file-controlled detail, such
// as a condition's message, a warning prints.
const maxDetail = 200

// escapeText makes s safe to print on a terminal: every rune that is not
// printable (control characters such as ESC, CR and LF, invalid UTF-8, and
// format characters such as the bidi overrides U+202A-U+202E and
// U+2066-U+2069) is written as strconv.Quote writes it ("\x1b", "\n",
// "\u202e"); the rest is kept as is. With keepNewlines, "\n" is kept. With
// max > 0 a longer result is cut to max characters, the last being "…"; an
// escape is never cut in half.
func escapeText(s string, keepNewlines bool, max int) string {
	var pieces []string
	total := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\n' && keepNewlines:
			piece = "\n"
		case unicode.IsPrint(r) && !safetext.Hidden(r):
			piece = s[i : i+size]
		default:
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
		}
		pieces = append(pieces, piece)
		total += utf8.RuneCountInString(piece)
		i += size
	}
	if max <= 0 || total <= max {
		return strings.Join(pieces, "")
	}
	var b strings.Builder
	n := 0
	for _, p := range pieces {
		l := utf8.RuneCountInString(p)
		if n+l > max-1 {
			break
		}
		b.WriteString(p)
		n += l
	}
	b.WriteString("…")
	return b.String()
}
