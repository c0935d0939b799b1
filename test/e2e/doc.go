// Package e2e holds the end-to-end tests of cpaccess: the cpaccess binary and
// library against a real hub and member cluster, the Entra ID emulator, and
// the real kubelogin and kubectl, all on loopback (see internal/sandbox).
//
// The tests skip when the real binaries are missing (build them with
// `make tools`) unless the CI environment variable is set, in which case
// they fail.
package e2e
