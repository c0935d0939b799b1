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
// under the provider's policies and the guards described below:
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
// # Guards
//
// Whoever can write a ClusterProfile's status must not be able to take over
// the plugin, which runs with the consuming process's identity. Even under
// the Append and Replace policies, a profile may not:
//
//   - pass a flag the provider sets itself, under any spelling (--tenant-id,
//     --tenant-id=x, -t, Go-style -flag, bundled shorthands), nor "--";
//   - pass flags that change how the plugin authenticates, reads local files
//     or secrets, moves caches or raises log verbosity (--login,
//     --federated-token-file, --client-secret, --kubeconfig, -v, ...);
//   - set variables that change which code runs, what it trusts, where it
//     sends traffic or reads credentials (PATH, LD_*, SSL_CERT_FILE, proxy
//     variables, KUBECONFIG, AZURE_FEDERATED_TOKEN_FILE, cloud SDK
//     credential and endpoint variables, ...), or that kubelogin would let
//     override a flag the provider sets (AZURE_AUTHORITY_HOST over
//     --authority-host, AZURE_TENANT_ID over --tenant-id, ...);
//   - carry control or bidirectional-override characters.
//
// Provider.AllowedProfileArgs and Provider.AllowedProfileEnvVars turn this
// into an allow list; [Providers.Warnings] reports providers that take
// profile arguments or variables without one.
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
// provider and the field or extension at fault. Errors quote what they
// print, never dump an extension's payload, and redact the credentials,
// queries and fragments a server or proxy URL may carry.
package access
