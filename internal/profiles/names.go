package profiles

import (
	"errors"
	"fmt"

	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/safetext"
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
	if field, err := safetext.CheckObjectName(cp.Namespace, cp.Name); err != nil {
		return fmt.Errorf("ClusterProfile %s %w", field, err)
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
	_, err := safetext.CheckObjectName(namespace, name)
	valid := err == nil
	if !valid {
		return fmt.Sprintf("%q", s)
	}
	return s
}
