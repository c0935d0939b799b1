// Package access turns a ClusterProfile (sigs.k8s.io/cluster-inventory-api,
// multicluster.x-k8s.io/v1alpha1) into a working client for the cluster it
// describes: a client-go [rest.Config] for programs and kubeconfig entries for
// people and tools.
//
// # Inputs
//
// A provider file, owned by the consuming application and trusted, says how to
// run each credential plugin. It is loaded and validated once, at start-up, by
// [LoadProviderFile] or [ParseProviderFile]: unknown or mis-cased fields,
// unknown policies, duplicate names, bad exec API versions and the like fail
// there, not later on the one cluster whose profile happens to trigger them.
//
// A ClusterProfile, owned by the cluster manager and less trusted, names the
// cluster's API server, its CA, and the access providers that reach it. Its
// reserved extensions may add plugin arguments and environment variables,
// under the provider's policies and the guards of [Provider]:
//
//   - clusterprofiles.multicluster.x-k8s.io/exec/additional-args: a list of
//     strings, or the object form {"args": [...]}, which is the only form a
//     real API server stores, because the published CRD types every extension
//     as an object;
//   - clusterprofiles.multicluster.x-k8s.io/exec/additional-envs: a map of
//     variable name to scalar value;
//   - client.authentication.k8s.io/exec: an object handed to the plugin as
//     ExecCredential.spec.cluster.config.
//
// # Resolution
//
// [Providers.Resolve] picks the first provider of the file that the profile
// offers, applies the extensions, validates the cluster fields and returns an
// [Access]: plain values, fresh on every call, with a stable
// [Access.Fingerprint] that changes exactly when how the cluster is reached
// changes. Resolution never mutates its inputs, is deterministic byte for byte,
// and is safe for concurrent use.
//
// # Outputs
//
// [Access.RESTConfig] renders a *rest.Config; [NewKubeconfig] and
// [Access.KubeconfigEntries] render kubeconfig entries that load with
// clientcmd and work with kubectl; [WriteKubeconfig] writes or merges them
// atomically with mode 0600.
//
// # Errors
//
// Every resolution error is a *[ResolveError] naming the profile, the access
// provider and the field or extension at fault; no error ever carries an
// extension's payload in full, a token or any other secret.
package access
