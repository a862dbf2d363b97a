#!/usr/bin/env bash
# Builds the local control plane from Go modules: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok (fake nodes), kwokctl (runs them) and metrics-server, and the Gateway API CRDs. Versions come
# from toolchain/versions.env.
#
#   $EGOV_CACHE/toolchain/kubernetes-v<K>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler}
#   $EGOV_CACHE/toolchain/etcd-v<E>/bin/etcd
#   $EGOV_CACHE/toolchain/kwok-v<W>/bin/{kwok,kwokctl}, stages/ (kwok's default stages)
#   $EGOV_CACHE/toolchain/metrics-server-v<M>/bin/metrics-server, manifests/ (its APIService, RBAC)
#   $EGOV_CACHE/toolchain/gateway-api-v<G>/crds/ (the Gateway API's standard-channel CRDs)
#   $EGOV_CACHE/bin/<name> -> the above (what scripts/cluster.sh runs)
#
# Idempotent: a binary already in its versioned directory is kept; a binary of the right version
# already on PATH is linked instead of built. Build logs: $EGOV_CACHE/logs/kube-*.log.
# Runnable on its own: bash toolchain/kube.sh
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"

: "${KUBERNETES_VERSION:?KUBERNETES_VERSION missing from toolchain/versions.env}"
: "${ETCD_VERSION:?ETCD_VERSION missing from toolchain/versions.env}"
: "${KWOK_VERSION:?KWOK_VERSION missing from toolchain/versions.env}"
: "${METRICS_SERVER_VERSION:?METRICS_SERVER_VERSION missing from toolchain/versions.env}"
: "${GATEWAY_API_VERSION:?GATEWAY_API_VERSION missing from toolchain/versions.env}"
: "${GATEWAY_API_SUM:?GATEWAY_API_SUM missing from toolchain/versions.env}"

command -v go >/dev/null || die "go is required (Go >= 1.26) to build the control plane"

K8S_V=v${KUBERNETES_VERSION#v}
ETCD_V=v${ETCD_VERSION#v}
KWOK_V=v${KWOK_VERSION#v}
METRICS_SERVER_V=v${METRICS_SERVER_VERSION#v}
GATEWAY_API_V=v${GATEWAY_API_VERSION#v}
K8S_STAGING_V=v0.${K8S_V#v1.}          # v1.33.13 -> k8s.io/api etc. v0.33.13

TOOLCHAIN_DIR=$EGOV_CACHE/toolchain
BIN_DIR=$EGOV_CACHE/bin
LOG_DIR=$EGOV_CACHE/logs
BUILD_DIR=$EGOV_CACHE/build
mkdir -p "$TOOLCHAIN_DIR" "$BIN_DIR" "$LOG_DIR" "$BUILD_DIR"

export CGO_ENABLED=0
case " ${GOFLAGS:-} " in *" -buildvcs=false "*) ;; *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false" ;; esac

# version_of NAME PATH: prints the version the binary reports (v-prefixed), or nothing.
version_of() {
  local out
  case $1 in
    etcd) out=$("$2" --version 2>/dev/null | sed -n 's/^etcd Version: *//p') ;;
    kwok|kwokctl) out=$("$2" --version 2>/dev/null | sed -n "s/^$1 version \(v\{0,1\}[0-9][^ ]*\).*/\1/p") ;;
    metrics-server) out=$("$2" --version 2>/dev/null | sed -n 's/^\(v[0-9][^ ]*\)$/\1/p') ;;
    kubectl) out=$("$2" version --client 2>/dev/null | sed -n 's/^Client Version: \(v[0-9][^ ]*\).*/\1/p') ;;
    *)    out=$("$2" --version 2>/dev/null | sed -n 's/^Kubernetes \(v[0-9][^ ]*\).*/\1/p') ;;
  esac
  [[ -n $out ]] && printf 'v%s\n' "${out#v}"
}

# have NAME KEYDIR WANT: true when KEYDIR/bin/NAME exists with version WANT. Otherwise, when a
# binary of that version is already installed on PATH, links it into KEYDIR/bin and returns true.
have() {
  local name=$1 keydir=$2 want=$3 found
  if [[ -x $keydir/bin/$name && $(version_of "$name" "$keydir/bin/$name") == "$want" ]]; then
    return 0
  fi
  found=$(command -v "$name" 2>/dev/null || true)
  if [[ -n $found && $(readlink -f "$found") != "$(readlink -f "$BIN_DIR/$name" 2>/dev/null)" \
        && $(version_of "$name" "$found") == "$want" ]]; then
    log "$name: using installed $found ($want)"
    mkdir -p "$keydir/bin"
    ln -sfn "$(readlink -f "$found")" "$keydir/bin/$name"
    return 0
  fi
  return 1
}

# link NAME KEYDIR: $EGOV_CACHE/bin/NAME -> KEYDIR/bin/NAME
link() { ln -sfn "$2/bin/$1" "$BIN_DIR/$1"; }

# new_wrapper DIR: an empty main module to build third-party commands in.
new_wrapper() {
  rm -rf "$1" && mkdir -p "$1" && (cd "$1" && go mod init egov.local/toolchain-build >/dev/null 2>&1)
}

# --- kube-apiserver, kube-controller-manager, kube-scheduler --------------------------------------
build_kubernetes() {
  local keydir=$1 wrap=$BUILD_DIR/kubernetes-$K8S_V
  new_wrapper "$wrap"
  cd "$wrap"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_V" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || { echo "cannot download k8s.io/kubernetes@$K8S_V"; return 1; }
  # Same language version and GODEBUG defaults as upstream.
  local gover godebug
  gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
  godebug=$(sed -n 's/^godebug \(.*\)$/\1/p' "$gomod")
  go mod edit -go="$gover"
  [[ -z $godebug ]] || go mod edit -godebug="$godebug"
  # Staging modules (k8s.io/X => ./staging/src/k8s.io/X) are published as k8s.io/X v0.<minor>.<patch>.
  local mod
  sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod" | while read -r mod; do
    go mod edit -replace="$mod=$mod@$K8S_STAGING_V"
  done
  echo "go.mod:"; cat go.mod
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_V" \
         "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_V" \
         "k8s.io/kubernetes/cmd/kube-scheduler@$K8S_V" \
         "k8s.io/kubernetes/cmd/kubectl@$K8S_V"
}

kubernetes_ldflags() {
  local ver=$1 date major minor pkg flags="-s -w"
  # Build date = the release's publication time, so rebuilds are reproducible.
  local info
  info=$(go mod download -json "k8s.io/kubernetes@$ver" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p')
  date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info" 2>/dev/null || true)
  major=${ver#v}; major=${major%%.*}
  minor=${ver#v*.}; minor=${minor%%.*}
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$ver -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=archive -X $pkg.buildDate=${date:-1970-01-01T00:00:00Z}"
  done
  printf '%s\n' "$flags"
}

build_kube_cmd() {   # NAME KEYDIR
  local name=$1 keydir=$2 wrap=$BUILD_DIR/kubernetes-$K8S_V
  cd "$wrap"
  mkdir -p "$keydir/bin"
  go build -trimpath -ldflags "$(kubernetes_ldflags "$K8S_V")" -o "$keydir/bin/$name.tmp" "k8s.io/kubernetes/cmd/$name"
  mv -f "$keydir/bin/$name.tmp" "$keydir/bin/$name"
  version_of "$name" "$keydir/bin/$name"
}

# build_from_module NAME KEYDIR MODULE@VERSION PACKAGE LDFLAGS: a one-binary build in its own wrapper module.
build_from_module() {
  local name=$1 keydir=$2 module=$3 pkg=$4 ldflags=$5 wrap=$BUILD_DIR/$1-${3##*@}
  new_wrapper "$wrap"
  cd "$wrap"
  go get "$module"
  mkdir -p "$keydir/bin"
  go build -trimpath -ldflags "$ldflags" -o "$keydir/bin/$name.tmp" "$pkg"
  mv -f "$keydir/bin/$name.tmp" "$keydir/bin/$name"
  "$keydir/bin/$name" --version
}

# --- etcd ------------------------------------------------------------------------------------------
# Upstream stamps the commit; a module build has the release tag instead.
build_etcd() {
  build_from_module etcd "$1" "go.etcd.io/etcd/server/v3@$ETCD_V" go.etcd.io/etcd/server/v3 \
    "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_V"
}

# --- kwok ------------------------------------------------------------------------------------------
KWOK_LDFLAGS="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_V -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_V"
build_kwok() {
  build_from_module kwok "$1" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_V" sigs.k8s.io/kwok/cmd/kwok "$KWOK_LDFLAGS"
}
# kwokctl (same module) runs the local cluster from cluster/kwokctl.yaml with the binaries above.
build_kwokctl() {
  build_from_module kwokctl "$1" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_V" sigs.k8s.io/kwok/cmd/kwokctl "$KWOK_LDFLAGS"
}

# --- metrics-server ----------------------------------------------------------------------------------
# Serves metrics.k8s.io from kwok's simulated usage, so HorizontalPodAutoscalers read CPU.
build_metrics_server() {
  build_from_module metrics-server "$1" "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_V" \
    sigs.k8s.io/metrics-server/cmd/metrics-server \
    "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_V -X k8s.io/client-go/pkg/version.gitTreeState=archive"
}

# kwokctl applies these (APIService v1beta1.metrics.k8s.io, Service, RBAC; it drops the Deployment).
copy_metrics_server_manifests() {
  local keydir=$1 dir
  dir=$(cd "$BUILD_DIR" && go mod download -json "sigs.k8s.io/metrics-server@$METRICS_SERVER_V" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -d $dir ]] || { echo "cannot download sigs.k8s.io/metrics-server@$METRICS_SERVER_V"; return 1; }
  rm -rf "$keydir/manifests" && mkdir -p "$keydir/manifests"
  install -m 644 "$dir"/manifests/base/{apiservice,rbac,service}.yaml "$keydir/manifests/"
  # Our own kustomization: upstream's uses deprecated commonLabels, whose warning kwokctl would read
  # into the manifest (it captures kubectl's stderr too); the Deployment is not needed (the binary runs).
  cat >"$keydir/manifests/kustomization.yaml" <<'EOF'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
- pairs:
    k8s-app: metrics-server
  includeSelectors: true
resources:
- apiservice.yaml
- rbac.yaml
- service.yaml
EOF
  ls -l "$keydir/manifests"
}

# --- Gateway API CRDs --------------------------------------------------------------------------------
# The standard channel's CRDs (and its safe-upgrades ValidatingAdmissionPolicy), from the module zip the Go module
# proxy serves, verified by the go command against go.sum's hash pinned in versions.env. No controller comes with them.
copy_gateway_api_crds() {
  local keydir=$1 out zip sum
  # The go command refuses to unpack a module asking for a newer Go ("Error" in its answer) but has fetched and
  # verified the zip by then.
  out=$(cd "$BUILD_DIR" && go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_V" || true)
  zip=$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",\{0,1\}$/\1/p' <<<"$out")
  sum=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"$out")
  [[ -s $zip ]] || { echo "cannot download sigs.k8s.io/gateway-api@$GATEWAY_API_V: $out"; return 1; }
  [[ $sum == "$GATEWAY_API_SUM" ]] || { echo "sigs.k8s.io/gateway-api@$GATEWAY_API_V: hash $sum, expected $GATEWAY_API_SUM (versions.env)"; return 1; }
  rm -rf "$keydir/crds" "$keydir/unpack" && mkdir -p "$keydir/crds" "$keydir/unpack"
  unzip -q "$zip" "sigs.k8s.io/gateway-api@$GATEWAY_API_V/config/crd/standard/*.yaml" -d "$keydir/unpack"
  install -m 644 "$keydir/unpack/sigs.k8s.io/gateway-api@$GATEWAY_API_V"/config/crd/standard/*.yaml "$keydir/crds/"
  rm -rf "$keydir/unpack"
  grep -q "bundle-version: $GATEWAY_API_V\$" "$keydir/crds/gateway.networking.k8s.io_httproutes.yaml" \
    || { echo "the HTTPRoute CRD is not of bundle $GATEWAY_API_V"; return 1; }
  ls -l "$keydir/crds"
}

# run FN ARGS...: FN in a fresh bash process, so `set -e` holds inside it (step runs its command
# in an `if`, where errexit would otherwise be ignored).
run() { step "$1" "$2" "$BASH" "${BASH_SOURCE[0]}" --run "${@:3}"; }

# kwok has no built-in behaviour; scripts/cluster.sh configures it with the stages the kwok module
# ships (what kwokctl uses by default), copied here so they match the binary's version.
KWOK_STAGES=(node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease
             pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete)
copy_kwok_stages() {
  local keydir=$1 dir s
  dir=$(cd "$BUILD_DIR" && go mod download -json "sigs.k8s.io/kwok@$KWOK_V" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -d $dir ]] || { echo "cannot download sigs.k8s.io/kwok@$KWOK_V"; return 1; }
  mkdir -p "$keydir/stages"
  for s in "${KWOK_STAGES[@]}"; do
    install -m 644 "$dir/kustomize/stage/$s.yaml" "$keydir/stages/${s##*/}.yaml"
  done
  ls -l "$keydir/stages"
}

main() {
  local kdir=$TOOLCHAIN_DIR/kubernetes-$K8S_V
  local edir=$TOOLCHAIN_DIR/etcd-$ETCD_V
  local wdir=$TOOLCHAIN_DIR/kwok-$KWOK_V
  local name missing=() names=(kube-apiserver kube-controller-manager kube-scheduler)
  # kubectl: any on PATH will do (the scripts and tests call it); only a machine without one gets ours.
  local system_kubectl
  system_kubectl=$(command -v kubectl 2>/dev/null || true)
  if [[ -z $system_kubectl || $(readlink -f "$system_kubectl") == "$(readlink -f "$kdir/bin/kubectl" 2>/dev/null)" ]]; then
    names+=(kubectl)
  fi

  for name in "${names[@]}"; do
    have "$name" "$kdir" "$K8S_V" || missing+=("$name")
  done
  if ((${#missing[@]})); then
    run "kubernetes $K8S_V: resolve modules" "$LOG_DIR/kube-kubernetes-modules.log" build_kubernetes "$kdir"
    for name in "${missing[@]}"; do
      run "build $name $K8S_V" "$LOG_DIR/kube-$name.log" build_kube_cmd "$name" "$kdir"
    done
  fi
  for name in "${names[@]}"; do link "$name" "$kdir"; done

  if ! have etcd "$edir" "$ETCD_V"; then
    run "build etcd $ETCD_V" "$LOG_DIR/kube-etcd.log" build_etcd "$edir"
  fi
  link etcd "$edir"

  if ! have kwok "$wdir" "$KWOK_V"; then
    run "build kwok $KWOK_V" "$LOG_DIR/kube-kwok.log" build_kwok "$wdir"
  fi
  link kwok "$wdir"
  if ! have kwokctl "$wdir" "$KWOK_V"; then
    run "build kwokctl $KWOK_V" "$LOG_DIR/kube-kwokctl.log" build_kwokctl "$wdir"
  fi
  link kwokctl "$wdir"

  local mdir=$TOOLCHAIN_DIR/metrics-server-$METRICS_SERVER_V
  if ! have metrics-server "$mdir" "$METRICS_SERVER_V"; then
    run "build metrics-server $METRICS_SERVER_V" "$LOG_DIR/kube-metrics-server.log" build_metrics_server "$mdir"
  fi
  link metrics-server "$mdir"
  if [[ ! -s $mdir/manifests/kustomization.yaml ]]; then
    run "metrics-server $METRICS_SERVER_V manifests" "$LOG_DIR/kube-metrics-server-manifests.log" copy_metrics_server_manifests "$mdir"
  fi
  local s
  for s in "${KWOK_STAGES[@]}"; do
    if [[ ! -s $wdir/stages/${s##*/}.yaml ]]; then
      run "kwok $KWOK_V stages" "$LOG_DIR/kube-kwok-stages.log" copy_kwok_stages "$wdir"
      break
    fi
  done

  local gdir=$TOOLCHAIN_DIR/gateway-api-$GATEWAY_API_V
  if [[ ! -s $gdir/crds/gateway.networking.k8s.io_httproutes.yaml ]]; then
    run "gateway-api $GATEWAY_API_V CRDs" "$LOG_DIR/kube-gateway-api.log" copy_gateway_api_crds "$gdir"
  fi

  # Final check: every linked binary runs and reports the pinned version.
  local want
  for name in "${names[@]}" etcd kwok kwokctl metrics-server; do
    case $name in etcd) want=$ETCD_V ;; kwok|kwokctl) want=$KWOK_V ;; metrics-server) want=$METRICS_SERVER_V ;; *) want=$K8S_V ;; esac
    [[ $(version_of "$name" "$BIN_DIR/$name") == "$want" ]] \
      || die "$BIN_DIR/$name does not report version $want"
  done
  log "control plane binaries ready in $BIN_DIR (kubernetes $K8S_V, etcd $ETCD_V, kwok $KWOK_V, metrics-server $METRICS_SERVER_V; gateway-api $GATEWAY_API_V CRDs)"
}

if [[ ${1:-} == --run ]]; then
  shift
  "$@"
else
  main "$@"
fi
