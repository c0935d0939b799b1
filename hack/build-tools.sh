#!/usr/bin/env bash
# Builds the real components the integration and e2e tests run against
# (kube-apiserver, etcd, kubelogin) from the Go module proxy into bin/.
# A tool already built at the pinned version is skipped.
#
# Usage: hack/build-tools.sh [kube-apiserver] [etcd] [kubelogin] [kubectl]
#   (default: kube-apiserver, etcd, kubelogin; kubectl is only built on request,
#   for machines without a system kubectl)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${ROOT}/bin"
mkdir -p "${BIN}"

KUBE_VERSION="v1.37.2"
ETCD_VERSION="v3.6.16"
KUBELOGIN_VERSION="v0.2.21"

# stamp NAME VERSION: true when bin/NAME exists and was built at VERSION.
stamp_ok() {
  [[ -x "${BIN}/$1" && -f "${BIN}/.$1.version" && "$(cat "${BIN}/.$1.version")" == "$2" ]]
}

build() {
  local name="$1" version="$2"
  shift 2
  if stamp_ok "${name}" "${version}"; then
    echo "${name} ${version}: up to date in bin/" >&2
    return
  fi
  echo "${name} ${version}: building into bin/ ..." >&2
  local start=${SECONDS}
  local tmp="${BIN}/.${name}.tmp"
  "$@" "${tmp}"
  mv -f "${tmp}" "${BIN}/${name}"
  echo "${version}" > "${BIN}/.${name}.version"
  echo "${name} ${version}: built in $((SECONDS - start))s" >&2
}

build_kube_apiserver() {
  (cd "${ROOT}/hack/tools/kube-apiserver" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION} \
      -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=37" \
      -o "$1" k8s.io/kubernetes/cmd/kube-apiserver)
}

build_kubectl() {
  (cd "${ROOT}/hack/tools/kube-apiserver" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION} \
      -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=37" \
      -o "$1" k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  (cd "${ROOT}/hack/tools/etcd" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$1" go.etcd.io/etcd/server/v3)
}

build_kubelogin() {
  local gobin
  gobin="$(mktemp -d)"
  # kubelogin is its own main module: go install resolves it with its own go.sum.
  GOBIN="${gobin}" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X main.version=${KUBELOGIN_VERSION}" \
    "github.com/Azure/kubelogin@${KUBELOGIN_VERSION}"
  mv -f "${gobin}/kubelogin" "$1"
  rm -rf "${gobin}"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(etcd kubelogin kube-apiserver)
for t in "${targets[@]}"; do
  case "${t}" in
    kube-apiserver) build kube-apiserver "${KUBE_VERSION}" build_kube_apiserver ;;
    etcd) build etcd "${ETCD_VERSION}" build_etcd ;;
    kubelogin) build kubelogin "${KUBELOGIN_VERSION}" build_kubelogin ;;
    kubectl) build kubectl "${KUBE_VERSION}" build_kubectl ;;
    *) echo "unknown tool ${t}: want kube-apiserver, etcd, kubelogin or kubectl" >&2; exit 2 ;;
  esac
done
