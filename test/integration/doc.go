// Package integration holds tests of cpaccess against a real kube-apiserver
// and etcd (built into bin/ by hack/build-tools.sh) running on loopback.
package integration
