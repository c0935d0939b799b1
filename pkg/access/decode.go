package access

import (
	"io"

	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/profiles"
)

// DecodeClusterProfiles reads every ClusterProfile from r, as the cpaccess
// CLI does for -f: YAML or JSON, several documents or a JSON stream,
// ClusterProfileList and v1 List documents. Decoding is case-sensitive and
// duplicate keys are errors, as on an API server; unknown fields are
// ignored. source names r in errors. A bad document is reported and reading
// goes on with the next one; the profiles read are returned together with
// the joined errors. Only a JSON syntax error or a read error stops reading.
func DecodeClusterProfiles(r io.Reader, source string) ([]*v1alpha1.ClusterProfile, error) {
	return profiles.Decode(r, source)
}
