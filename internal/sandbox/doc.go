// Package sandbox runs the whole cpaccess workload-identity chain on
// loopback with real components: a hub cluster holding ClusterProfiles and
// issuing the app's federated service-account token, the Entra ID emulator
// that trusts the hub's issuer, and a member cluster that accepts the
// emulator's access tokens, plus the real kubelogin and kubectl binaries and
// the environment to run them in.
//
// It backs the end-to-end tests (test/e2e), `cpaccess-sandbox up` and
// `make demo`.
package sandbox
