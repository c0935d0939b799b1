package profiles

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	return fmt.Sprintf("failed to get ClusterProfile %s/%s: %v", e.Namespace, e.Name, e.Err)
}

func (e *NamedError) Unwrap() error { return e.Err }

// FromHub reads the selected profiles from the hub that cfg reaches. A named
// profile that cannot be read is reported in errs, and the others are still
// returned; err is set when the query as a whole fails.
func FromHub(ctx context.Context, cfg *rest.Config, q HubQuery) (cps []*v1alpha1.ClusterProfile, errs []error, err error) {
	if len(q.Names) > 0 && (q.Selector != "" || q.AllNamespaces) {
		return nil, nil, fmt.Errorf("failed to query the hub: profile names cannot be combined with --selector or --all-namespaces")
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
	if len(q.Names) > 0 {
		for _, name := range q.Names {
			cp, err := profiles(q.Namespace).Get(ctx, name, metav1.GetOptions{})
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
		cps = append(cps, &list.Items[i])
	}
	return cps, nil, nil
}
