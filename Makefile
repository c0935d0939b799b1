GO ?= go

.PHONY: test bench bench-fleet tools demo example

# Build the real components the tests need (cached in bin/), then run every
# test with the race detector: unit, integration (real kube-apiserver + etcd)
# and end-to-end (plus the Entra ID emulator, kubelogin and kubectl).
test: tools
	$(GO) vet ./...
	$(GO) test -race -timeout 30m ./...

# Benchmarks that print their figures against the upstream library.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...

# Bring up a fleet of 100 clusters (one member, one identity) against the
# sandbox, with cpaccess and with upstream pkg/access, and print the wall time,
# Entra token requests and kubelogin runs of each (for another size:
# go test -run '^$' -bench Fleet -benchtime 1x ./test/e2e/ -args -fleet.size=N).
bench-fleet: tools
	$(GO) test -run '^$$' -bench Fleet -benchtime 1x ./test/e2e/

# Resolve the bundled AKS example and print its kubeconfig.
example:
	$(GO) run ./cmd/cpaccess kubeconfig \
		--provider-file examples/aks-workload-identity/providers.yaml \
		-f examples/aks-workload-identity/clusterprofile.yaml

# Build the real components tests and the demo run against into bin/
# (kube-apiserver, etcd, kubelogin); tools already built are skipped.
tools:
	bash hack/build-tools.sh

# Run the end-to-end demo on loopback: hub + member clusters, the Entra ID
# emulator, the real kubelogin and kubectl, and cpaccess built from source.
demo: tools
	$(GO) run ./cmd/cpaccess-sandbox demo
