package kubecluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

const (
	clusterInventoryModule = "sigs.k8s.io/cluster-inventory-api"
	clusterProfileCRDPath  = "config/crd/bases/multicluster.x-k8s.io_clusterprofiles.yaml"
	clusterProfileGroupVer = "multicluster.x-k8s.io/v1alpha1"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ClusterProfileCRD returns the ClusterProfile CRD manifest shipped with the
// sigs.k8s.io/cluster-inventory-api module this module requires.
func ClusterProfileCRD() ([]byte, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", clusterInventoryModule)
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		// Not downloaded yet: fetch it at the version go.mod pins.
		dl := exec.Command("go", "mod", "download", "-json", clusterInventoryModule)
		dl.Dir = root
		dlOut, dlErr := dl.Output()
		if dlErr != nil {
			return nil, fmt.Errorf("failed to locate module %s (go list: %v: %s): %w", clusterInventoryModule, err, stderr.String(), dlErr)
		}
		var info struct{ Dir string }
		if jerr := json.Unmarshal(dlOut, &info); jerr != nil || info.Dir == "" {
			return nil, fmt.Errorf("failed to locate module %s: go mod download gave no directory", clusterInventoryModule)
		}
		dir = info.Dir
	}
	data, err := os.ReadFile(filepath.Join(dir, clusterProfileCRDPath))
	if err != nil {
		return nil, fmt.Errorf("failed to read the ClusterProfile CRD: %w", err)
	}
	return data, nil
}

// InstallClusterProfileCRD creates the ClusterProfile CRD (if absent) and
// waits until it is Established and clusterprofiles are served.
func InstallClusterProfileCRD(ctx context.Context, cfg *rest.Config) error {
	manifest, err := ClusterProfileCRD()
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(manifest, &obj.Object); err != nil {
		return fmt.Errorf("failed to parse the ClusterProfile CRD: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a dynamic client: %w", err)
	}
	crds := dyn.Resource(crdGVR)
	if _, err := crds.Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create the ClusterProfile CRD: %w", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a discovery client: %w", err)
	}
	profiles := dyn.Resource(schema.GroupVersionResource{Group: "multicluster.x-k8s.io", Version: "v1alpha1", Resource: "clusterprofiles"})
	listProfiles := func(ctx context.Context) (*unstructured.UnstructuredList, error) {
		return profiles.List(ctx, metav1.ListOptions{Limit: 1})
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		last = crdReady(ctx, crds.Get, obj.GetName(), disco, listProfiles)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("failed to wait for the ClusterProfile CRD to be served: %w (last check: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type getFunc func(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error)

func crdReady(ctx context.Context, get getFunc, name string, disco discovery.DiscoveryInterface, listProfiles func(context.Context) (*unstructured.UnstructuredList, error)) error {
	crd, err := get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	established := false
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			established = true
		}
	}
	if !established {
		return errors.New("CRD not Established yet")
	}
	list, err := disco.ServerResourcesForGroupVersion(clusterProfileGroupVer)
	if err != nil {
		return err
	}
	served := false
	for _, r := range list.APIResources {
		if r.Name == "clusterprofiles" {
			served = true
		}
	}
	if !served {
		return errors.New("clusterprofiles not in discovery yet")
	}
	_, err = listProfiles(ctx)
	return err
}
