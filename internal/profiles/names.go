package profiles

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
)

// ValidateName checks a ClusterProfile's name the way the API server does:
// metadata.name must be a DNS-1123 subdomain and metadata.namespace, when
// set, a DNS-1123 label. A profile from a file or a hub that fails cannot
// carry control characters or a "/" into messages and kubeconfig names.
// The offending value is quoted in the error.
func ValidateName(cp *v1alpha1.ClusterProfile) error {
	if cp.Name == "" {
		return errors.New("ClusterProfile has no metadata.name")
	}
	if msgs := validation.IsDNS1123Subdomain(cp.Name); len(msgs) > 0 {
		return fmt.Errorf("ClusterProfile metadata.name %q is invalid: %s", cp.Name, strings.Join(msgs, "; "))
	}
	if cp.Namespace != "" {
		if msgs := validation.IsDNS1123Label(cp.Namespace); len(msgs) > 0 {
			return fmt.Errorf("ClusterProfile %s: metadata.namespace %q is invalid: %s", cp.Name, cp.Namespace, strings.Join(msgs, "; "))
		}
	}
	return nil
}

// DisplayName is "<namespace>/<name>", or the name alone without a
// namespace, for messages: quoted (%q) unless both parts are valid names.
func DisplayName(namespace, name string) string {
	s := name
	if namespace != "" {
		s = namespace + "/" + name
	}
	valid := len(validation.IsDNS1123Subdomain(name)) == 0 &&
		(namespace == "" || len(validation.IsDNS1123Label(namespace)) == 0)
	if !valid {
		return fmt.Sprintf("%q", s)
	}
	return s
}
