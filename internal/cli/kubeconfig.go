package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"

	"github.com/cpaccess/cpaccess/internal/profiles"
	"github.com/cpaccess/cpaccess/pkg/access"
)

type kubeconfigFlags struct {
	providerFile  string
	filenames     []string
	hub           bool
	kubeconfig    string
	context       string
	namespace     string
	allNamespaces bool
	selector      string
	output        string
	merge         bool
}

func newKubeconfigCommand(streams IOStreams) *cobra.Command {
	f := &kubeconfigFlags{}
	cmd := &cobra.Command{
		Use:   "kubeconfig --provider-file FILE (-f PATH ... | --hub [NAME ...]) [-o FILE [--merge]]",
		Short: "Write a kubeconfig for ClusterProfiles",
		Long: `Resolve ClusterProfiles with a provider file and write a kubeconfig with one
cluster, user and context per profile, named <namespace>/<name> (<name> for a
profile without a namespace). current-context is set only when exactly one
profile was given and it resolved; otherwise it is left out, and --merge keeps
the file's own.

Profiles come from files (-f, repeatable; "-" is standard input; YAML or JSON,
several documents, List kinds) or from a hub cluster (--hub), chosen by the
usual kubeconfig rules (--kubeconfig, --context, KUBECONFIG). A profile named
twice is read once. Files are read strictly: a key repeated in one mapping, or
a name that is not a valid Kubernetes name, makes the document an error.

A profile that cannot be read or resolved is reported on standard error with
its reason; the others are still written, and the exit code is 1. Warnings (a
ControlPlaneHealthy condition that is missing or not True, a provider without
allow lists) also go to standard error; text from profiles is escaped there.`,
		Example: `  # From a file, printing the kubeconfig
  cpaccess kubeconfig --provider-file providers.yaml -f clusterprofile.yaml

  # Every profile in namespace fleet-system of the current hub, into a file
  cpaccess kubeconfig --provider-file providers.yaml --hub -n fleet-system -o fleet.kubeconfig

  # One profile, merged into an existing kubeconfig
  cpaccess kubeconfig --provider-file providers.yaml --hub -n fleet-system bravelion -o ~/.kube/config --merge`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKubeconfig(cmd, streams, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.providerFile, "provider-file", "", "provider file (JSON or YAML) saying how to run each credential plugin (required)")
	fl.StringArrayVarP(&f.filenames, "filename", "f", nil, `file holding ClusterProfiles; "-" reads standard input (repeatable)`)
	fl.BoolVar(&f.hub, "hub", false, "read ClusterProfiles from the hub cluster; arguments are profile names")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the hub (default: KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.context, "context", "", "kubeconfig context of the hub")
	fl.StringVarP(&f.namespace, "namespace", "n", "", "hub namespace (default: the context's namespace, else default)")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "read ClusterProfiles of every hub namespace")
	fl.StringVarP(&f.selector, "selector", "l", "", "label selector for hub ClusterProfiles")
	fl.StringVarP(&f.output, "output", "o", "", "write the kubeconfig to this file (atomically, mode 0600) instead of standard output")
	fl.BoolVar(&f.merge, "merge", false, "merge into the existing --output file: same-named entries are replaced, others kept")
	_ = cmd.MarkFlagRequired("provider-file")
	return cmd
}

func (f *kubeconfigFlags) validate(args []string) error {
	switch {
	case f.hub && len(f.filenames) > 0:
		return errors.New("--hub and --filename cannot be used together")
	case !f.hub && len(f.filenames) == 0:
		return errors.New("give ClusterProfiles with --filename or read them from a hub with --hub")
	case !f.hub && len(args) > 0:
		return fmt.Errorf("profile names (%s) are only accepted with --hub", strings.Join(args, ", "))
	case !f.hub && (f.allNamespaces || f.selector != "" || f.namespace != "" || f.context != "" || f.kubeconfig != ""):
		return errors.New("--namespace, --all-namespaces, --selector, --kubeconfig and --context only apply with --hub")
	case len(args) > 0 && (f.selector != "" || f.allNamespaces):
		return errors.New("profile names cannot be combined with --selector or --all-namespaces")
	case f.merge && f.output == "":
		return errors.New("--merge needs --output FILE")
	}
	if f.selector != "" {
		if _, err := labels.Parse(f.selector); err != nil {
			return fmt.Errorf("failed to parse --selector: %w", err)
		}
	}
	return nil
}

func runKubeconfig(cmd *cobra.Command, streams IOStreams, f *kubeconfigFlags, args []string) error {
	if err := f.validate(args); err != nil {
		return err
	}
	providers, err := access.LoadProviderFile(f.providerFile)
	if err != nil {
		return err
	}
	for _, w := range providers.Warnings() {
		fmt.Fprintf(streams.ErrOut, "warning: %s: %s\n", escapeText(providers.Source(), false, 0), escapeText(w, false, 0))
	}

	failed := false
	report := func(err error) {
		failed = true
		// One line per failure: a file with several bad documents reports
		// them joined. Messages quote what came from a file or the hub,
		// and escapeText makes sure nothing in them reaches the terminal
		// raw, nor starts a line of its own.
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				fmt.Fprintf(streams.ErrOut, "error: %s\n", escapeText(e.Error(), false, 0))
			}
			return
		}
		fmt.Fprintf(streams.ErrOut, "error: %s\n", escapeText(err.Error(), false, 0))
	}

	var cps []*v1alpha1.ClusterProfile
	names := uniqueNames(args)
	if f.hub {
		cps, err = readHub(cmd, f, names, report)
	} else {
		cps = readFiles(streams, f.filenames, report)
	}
	if err != nil {
		return err
	}
	readFailed := failed

	var resolved []*access.Access
	seen := map[string]bool{}
	for _, cp := range cps {
		name := profileName(cp)
		if seen[name] {
			report(fmt.Errorf("ClusterProfile %s is given more than once; the first one is used", name))
			continue
		}
		seen[name] = true
		warnUnhealthy(streams, cp)
		a, err := providers.Resolve(cp)
		if err != nil {
			report(err)
			continue
		}
		resolved = append(resolved, a)
	}
	if len(cps) == 0 && !failed {
		return errors.New("no ClusterProfiles found")
	}
	if len(resolved) == 0 {
		return ErrReported
	}

	cfg := access.NewKubeconfig(resolved, nil)
	// current-context names the one profile asked for, never the one left
	// of several after failures: kubectl without --context must not reach a
	// cluster the user did not single out. So it is set only when exactly
	// one distinct profile was read (a --hub name counting even when it
	// was not found) and nothing else failed to be read, such as a file or
	// another document that might have held more profiles.
	if given := max(len(seen), len(names)); given != 1 || readFailed {
		cfg.CurrentContext = ""
	}
	if f.output != "" {
		if err := access.WriteKubeconfig(f.output, cfg, f.merge); err != nil {
			return err
		}
		fmt.Fprintf(streams.ErrOut, "wrote %d context(s) to %s\n", len(resolved), f.output)
	} else {
		data, err := access.EncodeKubeconfig(cfg)
		if err != nil {
			return err
		}
		if _, err := streams.Out.Write(data); err != nil {
			return fmt.Errorf("failed to write the kubeconfig: %w", err)
		}
	}
	if failed {
		return ErrReported
	}
	return nil
}

func readFiles(streams IOStreams, filenames []string, report func(error)) []*v1alpha1.ClusterProfile {
	var out []*v1alpha1.ClusterProfile
	stdinRead := false
	for _, name := range filenames {
		if name == "-" {
			if stdinRead {
				report(errors.New(`standard input ("-") is given more than once`))
				continue
			}
			stdinRead = true
			cps, err := profiles.Decode(streams.In, "standard input")
			out = append(out, cps...)
			if err != nil {
				report(err)
			}
			continue
		}
		file, err := os.Open(name)
		if err != nil {
			report(fmt.Errorf("failed to open ClusterProfile file: %w", err))
			continue
		}
		cps, err := profiles.Decode(file, name)
		_ = file.Close()
		out = append(out, cps...)
		if err != nil {
			report(err)
		}
	}
	return out
}

func readHub(cmd *cobra.Command, f *kubeconfigFlags, names []string, report func(error)) ([]*v1alpha1.ClusterProfile, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("failed to load the hub kubeconfig: %w", err)
	}
	ns := f.namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, fmt.Errorf("failed to read the hub namespace from the kubeconfig: %w", err)
		}
	}
	cps, errs, err := profiles.FromHub(cmd.Context(), cfg, profiles.HubQuery{
		Namespace: ns, AllNamespaces: f.allNamespaces, Selector: f.selector, Names: names,
	})
	for _, e := range errs {
		report(e)
	}
	return cps, err
}

// warnUnhealthy warns when a profile's ControlPlaneHealthy condition is
// missing or not True: the kubeconfig is still written, but the cluster may
// not answer. The condition's status, reason and message come from the hub
// or the file: they are escaped and the detail is cut to maxDetail
// characters.
func warnUnhealthy(streams IOStreams, cp *v1alpha1.ClusterProfile) {
	c := meta.FindStatusCondition(cp.Status.Conditions, v1alpha1.ClusterConditionControlPlaneHealthy)
	name := profileName(cp)
	switch {
	case c == nil:
		fmt.Fprintf(streams.ErrOut, "warning: ClusterProfile %s has no %s condition; the cluster may be unreachable\n", name, v1alpha1.ClusterConditionControlPlaneHealthy)
	case c.Status != metav1.ConditionTrue:
		detail := c.Reason
		if c.Message != "" {
			detail = strings.TrimSpace(detail + ": " + c.Message)
		}
		status := string(c.Status)
		if c.Status != metav1.ConditionFalse && c.Status != metav1.ConditionUnknown {
			status = escapeText(strconv.Quote(status), false, 32) // not a condition status
		}
		fmt.Fprintf(streams.ErrOut, "warning: ClusterProfile %s: condition %s is %s (%s); the cluster may be unreachable\n",
			name, v1alpha1.ClusterConditionControlPlaneHealthy, status, escapeText(detail, false, maxDetail))
	}
}

// uniqueNames returns names without repeats, in their first order.
func uniqueNames(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// profileName is "<namespace>/<name>", or the name alone for a profile
// without a namespace, as in the context names and resolve errors. The
// profiles readers only return valid names; any other is quoted.
func profileName(cp *v1alpha1.ClusterProfile) string {
	return profiles.DisplayName(cp.Namespace, cp.Name)
}
