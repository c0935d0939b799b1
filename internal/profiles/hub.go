package profiles

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	"sigs.k8s.io/cluster-inventory-api/client/clientset/versioned"
)

// HubQuery selects ClusterProfiles on a hub.
type HubQuery struct {
	// Namespace to read from; ignored with AllNamespaces.
	Namespace     string
	AllNamespaces bool
	// Selector is a label selector; only without Names.
	Selector string
	// Names are profile names in Namespace; empty means all.
	Names []string
}

// NamedError is a failure to read one named profile.
type NamedError struct {
	Namespace, Name string
	Err             error
}

func (e *NamedError) Error() string {
	return fmt.Sprintf("failed to get ClusterProfile %s: %v", DisplayName(e.Namespace, e.Name), e.Err)
}

func (e *NamedError) Unwrap() error { return e.Err }

// FromHub reads the selected profiles from the hub that cfg reaches. A named
// profile is read once however often it is named. A named profile that
// cannot be read is reported in errs, and the others are still returned; so
// is a profile the hub returns with an invalid name (see ValidateName) or,
// for a named profile, with another name or namespace than asked for. err is
// set when the query as a whole fails, including when a given name or the
// namespace is not a valid name.
func FromHub(ctx context.Context, cfg *rest.Config, q HubQuery) (cps []*v1alpha1.ClusterProfile, errs []error, err error) {
	if len(q.Names) > 0 && (q.Selector != "" || q.AllNamespaces) {
		return nil, nil, fmt.Errorf("failed to query the hub: profile names cannot be combined with --selector or --all-namespaces")
	}
	if !q.AllNamespaces {
		if msgs := validation.IsDNS1123Label(q.Namespace); len(msgs) > 0 {
			return nil, nil, fmt.Errorf("failed to query the hub: namespace %q is invalid: %s", q.Namespace, strings.Join(msgs, "; "))
		}
	}
	names := make([]string, 0, len(q.Names))
	for _, name := range q.Names {
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			return nil, nil, fmt.Errorf("failed to query the hub: profile name %q is invalid: %s", name, strings.Join(msgs, "; "))
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	cs, err := versioned.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create a hub client: %w", err)
	}
	profiles := func(ns string) interface {
		Get(context.Context, string, metav1.GetOptions) (*v1alpha1.ClusterProfile, error)
		List(context.Context, metav1.ListOptions) (*v1alpha1.ClusterProfileList, error)
	} {
		return cs.ApisV1alpha1().ClusterProfiles(ns)
	}
	if len(names) > 0 {
		for _, name := range names {
			cp, err := profiles(q.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err == nil && (cp.Name != name || cp.Namespace != q.Namespace) {
				err = fmt.Errorf("the hub returned ClusterProfile %s instead", DisplayName(cp.Namespace, cp.Name))
			}
			if err == nil {
				err = ValidateName(cp)
			}
			if err != nil {
				if apierrors.IsNotFound(err) {
					err = fmt.Errorf("not found on the hub")
				}
				errs = append(errs, &NamedError{Namespace: q.Namespace, Name: name, Err: err})
				continue
			}
			cps = append(cps, cp)
		}
		return cps, errs, nil
	}
	ns := q.Namespace
	if q.AllNamespaces {
		ns = metav1.NamespaceAll
	}
	list, err := profiles(ns).List(ctx, metav1.ListOptions{LabelSelector: q.Selector})
	if err != nil {
		where := "namespace " + ns
		if q.AllNamespaces {
			where = "all namespaces"
		}
		return nil, nil, fmt.Errorf("failed to list ClusterProfiles in %s: %w", where, err)
	}
	for i := range list.Items {
		cp := &list.Items[i]
		err := ValidateName(cp)
		if err == nil && !q.AllNamespaces && cp.Namespace != ns {
			err = fmt.Errorf("the hub listed it for namespace %s", ns)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to list ClusterProfile %s: %w", DisplayName(cp.Namespace, cp.Name), err))
			continue
		}
		cps = append(cps, cp)
	}
	return cps, errs, nil
}
