// Package safetext holds the rules that keep text from a ClusterProfile or a
// hub from hiding or forging what a terminal, a log or a kubeconfig shows.
package safetext

import (
	"fmt"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Hidden reports characters that change how the text around them is shown:
// control characters, and the Unicode bidi embedding, override, isolate and
// mark characters.
func Hidden(r rune) bool {
	return unicode.IsControl(r) ||
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

// CheckObjectName checks a namespace and name the way the API server does:
// the name a DNS-1123 subdomain, the namespace (when set) a DNS-1123 label.
// It returns the field at fault and an error quoting the value (not naming
// the field, which callers place), so neither
// can carry control characters or a "/" into messages or kubeconfig names.
func CheckObjectName(namespace, name string) (field string, err error) {
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return "metadata.name", fmt.Errorf("%q is invalid: %s", name, strings.Join(msgs, "; "))
	}
	if namespace != "" {
		if msgs := validation.IsDNS1123Label(namespace); len(msgs) > 0 {
			return "metadata.namespace", fmt.Errorf("%q is invalid: %s", namespace, strings.Join(msgs, "; "))
		}
	}
	return "", nil
}
