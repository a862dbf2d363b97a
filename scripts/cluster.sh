#!/usr/bin/env bash
# The local Kubernetes cluster (loopback only) for deploying and testing the stack: upstream kwokctl
# (binary runtime) runs the toolchain's etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok (fake nodes: pods become Running/Ready without containers) and metrics-server from
# cluster/kwokctl.yaml. This script adds only what kwokctl does not do.
#
#   bash scripts/cluster.sh up       start (builds the binaries first if missing); prints KUBECONFIG=<path>
#   bash scripts/cluster.sh down     stop every process (data kept); --purge also deletes the cluster
#   bash scripts/cluster.sh status   show components, health and nodes; exit 0 only when fully up
#   bash scripts/cluster.sh env      print KUBECONFIG=<path>
#
# What is ours, not kwokctl's: ports from EGOV_*_PORT and a check that they are free (kwokctl exits 0
# when a port is taken); readiness checked here (kwokctl exits 0 when --wait fails); a graceful stop
# (kwokctl sends SIGKILL); logs kept across restarts in $EGOV_CLUSTER_DIR/logs (kwokctl truncates
# them on every start and deletes them with the cluster); the default stages plus ours (custom stages
# replace kwokctl's defaults); $EGOV_KWOK_NODES labelled nodes in alternating zones.
#
# State: $EGOV_CLUSTER_DIR (default $EGOV_CACHE/cluster): kubeconfig, logs/, kwokctl/ (kwokctl's work
# directory: clusters/egov/{etcd,pki,pids,logs,kwok.yaml}). Host-path volumes: /tmp/hostpath_pv/<uid>.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

CLUSTER_DIR=${EGOV_CLUSTER_DIR:-$EGOV_CACHE/cluster}
ETCD_PORT=${EGOV_ETCD_PORT:-23790}
ETCD_PEER_PORT=${EGOV_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${EGOV_APISERVER_PORT:-16443}
KCM_PORT=${EGOV_KCM_PORT:-20257}
SCHEDULER_PORT=${EGOV_SCHEDULER_PORT:-20259}
KWOK_PORT=${EGOV_KWOK_PORT:-20247}
METRICS_SERVER_PORT=${EGOV_METRICS_SERVER_PORT:-0}             # 0: kwokctl picks a free one
NODES=${EGOV_KWOK_NODES:-2}
NODE_CPU=${EGOV_KWOK_NODE_CPU:-32}
NODE_MEMORY=${EGOV_KWOK_NODE_MEMORY:-128Gi}
NODE_PODS=${EGOV_KWOK_NODE_PODS:-110}
read -ra ZONES <<<"${EGOV_KWOK_ZONES:-zone-a zone-b}"                  # topology.kubernetes.io/zone, alternating
FAKE_LB=${EGOV_CLUSTER_FAKE_LOADBALANCER:-1}
HPA_DOWNSCALE_STABILIZATION=${EGOV_HPA_DOWNSCALE_STABILIZATION:-30s}
TIMEOUT=${EGOV_CLUSTER_TIMEOUT:-120}                            # seconds per wait

NAME=egov
export KWOK_WORKDIR=$CLUSTER_DIR/kwokctl
WORK=$KWOK_WORKDIR/clusters/$NAME
LOGS=$CLUSTER_DIR/logs
KUBECONFIG_PATH=$CLUSTER_DIR/kubeconfig
SERVER=https://127.0.0.1:$APISERVER_PORT

K8S_V=v${KUBERNETES_VERSION#v}
ETCD_V=v${ETCD_VERSION#v}
KWOK_V=v${KWOK_VERSION#v}
MS_V=v${METRICS_SERVER_VERSION#v}
K8S_BIN=$EGOV_CACHE/toolchain/kubernetes-$K8S_V/bin
ETCD_BIN=$EGOV_CACHE/toolchain/etcd-$ETCD_V/bin
KWOK_HOME=$EGOV_CACHE/toolchain/kwok-$KWOK_V
MS_HOME=$EGOV_CACHE/toolchain/metrics-server-$MS_V
GW_CRDS=$EGOV_CACHE/toolchain/gateway-api-v${GATEWAY_API_VERSION#v}/crds
KWOKCTL=$KWOK_HOME/bin/kwokctl

# kwokctl's component names, in start order, and the ports each listens on.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller metrics-server)
declare -A PORTS=([etcd]="$ETCD_PORT $ETCD_PEER_PORT" [kube-apiserver]=$APISERVER_PORT
  [kube-controller-manager]=$KCM_PORT [kube-scheduler]=$SCHEDULER_PORT [kwok-controller]=$KWOK_PORT
  [metrics-server]=$METRICS_SERVER_PORT)

# kwokctl merges a context into $KUBECONFIG: keep it away from the user's kubeconfig.
kwokctl() { KUBECONFIG=$CLUSTER_DIR/kwokctl.kubeconfig "$KWOKCTL" --name "$NAME" "$@"; }
kc() { kubectl --kubeconfig="$KUBECONFIG_PATH" --request-timeout=10s "$@"; }

# --- processes ---------------------------------------------------------------------------------------

# pid_of COMPONENT: the pid of the running component (its command line names our work directory,
# which guards against a recycled pid), or fails.
pid_of() {
  local pid
  pid=$(cat "$WORK/pids/$1.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK/" || return 1
  echo "$pid"
}

# alive PID: the process exists and is not a zombie.
alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# save_log COMPONENT: appends kwokctl's log of a component that is not running to $LOGS (kwokctl
# truncates it when the component starts again), then empties it.
save_log() {
  local src=$WORK/logs/$1.log dst=$LOGS/$1.log
  [[ -s $src ]] || return 0
  mkdir -p "$LOGS"
  # Keep one previous archive once it passes 20 MB.
  if [[ -f $dst && $(stat -c %s "$dst") -gt 20000000 ]]; then mv -f "$dst" "$dst.1"; fi
  { printf '\n=== %s: log of the run that ended before %s\n' "$1" "$(date -u +%FT%TZ)"; cat "$src"; } >>"$dst"
  : >"$src"
}

save_stopped_logs() { local c; for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || save_log "$c"; done; }

# stop_all: SIGTERM in reverse start order (etcd last, so it can sync), SIGKILL after 20 s; then
# kwokctl marks the cluster stopped.
stop_all() {
  local i c pid n
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c=${COMPONENTS[i]}
    pid=$(pid_of "$c") || continue
    kill -TERM "$pid" 2>/dev/null || true
    for n in $(seq 200); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then warn "$c (pid $pid) ignored SIGTERM; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped $c (pid $pid)"
  done
  [[ -d $WORK ]] && kwokctl stop cluster >/dev/null 2>&1 || true
  save_stopped_logs
}

port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# --- files -------------------------------------------------------------------------------------------

ensure_binaries() {
  local f
  for f in "$K8S_BIN/kube-apiserver" "$K8S_BIN/kube-controller-manager" "$K8S_BIN/kube-scheduler" \
           "$ETCD_BIN/etcd" "$KWOK_HOME/bin/kwok" "$KWOKCTL" "$KWOK_HOME/stages/pod-ready.yaml" \
           "$MS_HOME/bin/metrics-server" "$MS_HOME/manifests/kustomization.yaml" "$GW_CRDS/gateway.networking.k8s.io_httproutes.yaml"; do
    if [[ ! -e $f ]]; then
      log "control plane binaries missing ($f); building them"
      bash "$EGOV_ROOT/toolchain/kube.sh"
      return
    fi
  done
}

# render FILE VAR...: FILE with each ${VAR} replaced by that shell variable's value.
render() {
  local file=$1 v text; shift
  text=$(<"$file")
  for v in "$@"; do text=${text//"\${$v}"/${!v}}; done
  printf '%s\n' "$text"
}

# The kwokctl configuration: cluster/kwokctl.yaml, then kwok's default stages (copied from the kwok
# module by kube.sh) and ours; a Stage in the file replaces all of kwokctl's defaults.
write_config() {
  local KUBE_VERSION=$K8S_V ETCD_VERSION=${ETCD_V#v} CACHE_DIR=$CLUSTER_DIR/kwokctl-cache \
    ETCD_BIN=$ETCD_BIN/etcd KUBE_APISERVER_BIN=$K8S_BIN/kube-apiserver \
    KUBE_CONTROLLER_MANAGER_BIN=$K8S_BIN/kube-controller-manager KUBE_SCHEDULER_BIN=$K8S_BIN/kube-scheduler \
    KWOK_BIN=$KWOK_HOME/bin/kwok METRICS_SERVER_BIN=$MS_HOME/bin/metrics-server \
    METRICS_SERVER_MANIFESTS=$MS_HOME/manifests KUBECTL_BIN f
  KUBECTL_BIN=$(readlink -f "$(command -v kubectl)")
  {
    render "$EGOV_ROOT/cluster/kwokctl.yaml" KUBE_VERSION ETCD_VERSION APISERVER_PORT ETCD_PORT ETCD_PEER_PORT \
      KCM_PORT SCHEDULER_PORT KWOK_PORT METRICS_SERVER_PORT ETCD_BIN KUBE_APISERVER_BIN KUBE_CONTROLLER_MANAGER_BIN \
      KUBE_SCHEDULER_BIN KWOK_BIN KUBECTL_BIN METRICS_SERVER_BIN METRICS_SERVER_MANIFESTS CACHE_DIR HPA_DOWNSCALE_STABILIZATION
    for f in node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete; do
      printf -- '---\n'; cat "$KWOK_HOME/stages/$f.yaml"
    done
    if [[ $FAKE_LB == 1 ]]; then printf -- '---\n'; cat "$EGOV_ROOT/cluster/stages/load-balancer.yaml"; fi
  } >"$CLUSTER_DIR/kwokctl.yaml"
}

nodes_manifest() {
  local I ZONE
  for ((I = 0; I < NODES; I++)); do
    ZONE=${ZONES[I % ${#ZONES[@]}]}
    printf -- '---\n'
    render "$EGOV_ROOT/cluster/nodes.yaml" I ZONE NODE_CPU NODE_MEMORY NODE_PODS
  done
}

# --- health ------------------------------------------------------------------------------------------

apiserver_ready() { [[ -s $KUBECONFIG_PATH ]] && kc get --raw /readyz 2>/dev/null | grep -qx ok; }

nodes_ready() {
  local out
  out=$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status},{.spec.taints}{"\n"}{end}') || return 1
  [[ $(grep -c '=True,$' <<<"$out") -ge $NODES ]]
}
default_sa() { kc -n default get serviceaccount default; }
# metrics-server answers for metrics.k8s.io (its first scrape of kwok follows within 15 s).
metrics_ready() {
  [[ $(kc get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}') == True ]]
}
all_running() { local c; for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || return 1; done; }

# wait_for WHAT CMD...: retries CMD; on timeout shows the component logs' tails and fails.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + TIMEOUT)) c
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      for c in "${COMPONENTS[@]}"; do
        pid_of "$c" >/dev/null || { warn "$c is not running; its log:"; tail -n 15 "$WORK/logs/$c.log" >&2 2>/dev/null || true; }
      done
      die "timed out after ${TIMEOUT}s waiting for $what (logs: $WORK/logs, earlier runs: $LOGS)"
    fi
    sleep 0.5
  done
}

# --- commands ----------------------------------------------------------------------------------------

cmd_up() {
  local start_time=$SECONDS c p busy=()
  mkdir -p "$CLUSTER_DIR" "$LOGS"
  if all_running && apiserver_ready; then
    log "cluster already up ($CLUSTER_DIR)"
    echo "KUBECONFIG=$KUBECONFIG_PATH"
    return 0
  fi
  command -v kubectl >/dev/null || die "kubectl is required (Debian: apt-get install kubernetes-client)"
  ensure_binaries
  # A partly running cluster (one component died, e.g. the API server) is stopped whole first: kwokctl's
  # start, run while the others still run, restarts nothing (seen when called right after the API server died).
  if [[ -f $WORK/kwok.yaml ]]; then
    for c in "${COMPONENTS[@]}"; do
      if pid_of "$c" >/dev/null; then
        warn "the cluster is partly running: stopping it before starting it again (data kept)"
        stop_all
        break
      fi
    done
  fi
  # Ports of the components about to start must be free: kwokctl would exit 0 and leave them dead.
  for c in "${COMPONENTS[@]}"; do
    pid_of "$c" >/dev/null && continue
    for p in ${PORTS[$c]}; do
      [[ $p == 0 ]] || port_free "$p" || busy+=("$p ($c)")
    done
  done
  ((${#busy[@]} == 0)) || die "port(s) in use: ${busy[*]}; stop what holds them or choose others with EGOV_*_PORT (top of $0)"
  # kwokctl keeps the ports a cluster was created with.
  if [[ -f $WORK/kwok.yaml ]] && ! grep -q "^ *kubeApiserverPort: $APISERVER_PORT\$" "$WORK/kwok.yaml"; then
    die "the cluster in $CLUSTER_DIR was created with other ports (see $WORK/kwok.yaml); run '$0 down --purge' first, or use its ports"
  fi
  save_stopped_logs
  write_config
  # A new cluster is created; an existing one is started, which starts only the components that are
  # not running (create would too, but then fails re-creating its CRDs). Exit status 0 says nothing
  # about readiness: checked below.
  local verb=create
  [[ -f $WORK/kwok.yaml ]] && verb=start
  printf '\n=== %s kwokctl %s cluster\n' "$(date -u +%FT%TZ)" "$verb" >>"$LOGS/kwokctl.log"
  if ! kwokctl --config "$CLUSTER_DIR/kwokctl.yaml" "$verb" cluster >>"$LOGS/kwokctl.log" 2>&1; then
    tail -n 30 "$LOGS/kwokctl.log" >&2
    die "kwokctl $verb cluster failed; log: $LOGS/kwokctl.log"
  fi
  # Our kubeconfig path stays what stacks point at (Pulumi.dev.yaml); kwokctl's names absolute cert paths.
  install -m 600 "$WORK/kubeconfig.yaml" "$KUBECONFIG_PATH"
  wait_for "kube-apiserver /readyz" apiserver_ready
  # kwokctl starts everything at once and does not restart what exits: a component that gave up
  # before the API server was ready (metrics-server does) is started again now.
  local attempt
  for attempt in 1 2 3; do
    all_running && break
    sleep 2
    all_running && break
    warn "restarting components that exited during start-up (attempt $attempt)"
    save_stopped_logs
    kwokctl start cluster >>"$LOGS/kwokctl.log" 2>&1 || true
  done
  nodes_manifest | kc apply -f - >/dev/null || die "could not create the kwok nodes"
  # Created once: a restart keeps whatever usage was set since.
  kc get clusterresourceusage egov-usage >/dev/null 2>&1 ||
    kc create -f "$EGOV_ROOT/cluster/resource-usage.yaml" >/dev/null || die "could not create the simulated resource usage"
  # The Gateway API (standard channel, pinned) and a Gateway for stacks with ingress.kind HTTPRoute; no controller
  # runs here, so routes are validated by the API server and never accepted or served (docs/gateway-api.md).
  kc apply --server-side --force-conflicts -f "$GW_CRDS" >/dev/null || die "could not install the Gateway API CRDs from $GW_CRDS"
  kc wait --for=condition=Established --timeout="${TIMEOUT}s" crd/httproutes.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
    crd/gatewayclasses.gateway.networking.k8s.io crd/referencegrants.gateway.networking.k8s.io >/dev/null ||
    die "the Gateway API CRDs did not become established"
  kc apply -f "$EGOV_ROOT/cluster/gateway.yaml" >/dev/null || die "could not create the local Gateway (cluster/gateway.yaml)"
  wait_for "$NODES Ready untainted nodes" nodes_ready
  wait_for "the default ServiceAccount" default_sa
  wait_for "the metrics API (metrics-server)" metrics_ready
  for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || die "$c is not running; log: $WORK/logs/$c.log"; done
  log "cluster up in $((SECONDS - start_time))s: $NODES kwok nodes, apiserver $SERVER, logs $WORK/logs (earlier runs: $LOGS)"
  echo "KUBECONFIG=$KUBECONFIG_PATH"
}

cmd_down() {
  local purge=0
  case ${1:-} in --purge) purge=1 ;; "") ;; *) die "unknown option $1 (npm run cluster:down -- --help shows the usage)" ;; esac
  stop_all
  if ((purge)); then
    [[ -d $WORK ]] && { kwokctl delete cluster >>"$LOGS/kwokctl.log" 2>&1 || warn "kwokctl delete cluster failed; removing $WORK"; }
    rm -rf "$KWOK_WORKDIR" "$CLUSTER_DIR/kwokctl-cache" "$CLUSTER_DIR/kwokctl.yaml" "$CLUSTER_DIR/kwokctl.kubeconfig" "$KUBECONFIG_PATH"
    log "cluster deleted (etcd data, PKI, kubeconfig; logs kept in $LOGS)"
  fi
  log "cluster down"
}

cmd_status() {
  local c pid ok=0
  for c in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$c"); then
      printf '%-24s running (pid %s)\n' "$c" "$pid"
    else
      printf '%-24s stopped\n' "$c"; ok=1
    fi
  done
  if apiserver_ready; then
    printf '%-24s %s\n' apiserver "$SERVER ready"
    kc get nodes -L topology.kubernetes.io/zone || ok=1
    metrics_ready || { printf '%-24s %s\n' metrics "metrics.k8s.io not available"; ok=1; }
    echo "KUBECONFIG=$KUBECONFIG_PATH"
  else
    printf '%-24s %s\n' apiserver "$SERVER not ready"; ok=1
  fi
  return $ok
}

usage() {
  printf '%s\n' "usage: npm run cluster:up | npm run cluster:down [-- --purge]   (or: bash scripts/cluster.sh up|down|status|env)" \
    "The local test cluster (loopback only, fake nodes): what npm run deploy uses for a localCluster stack (dev) without --kubeconfig" \
    "or --context. Not needed for a cluster of your own." \
    "  up          start it (its binaries are built first when missing: needs Go >= 1.26); prints KUBECONFIG=<path>" \
    "  down        stop every process (data kept); --purge also deletes the cluster" \
    "  status      components, health and nodes; exit 0 only when fully up" \
    "  env         print KUBECONFIG=<path>" \
    "  -h, --help  this text" \
    "State: $CLUSTER_DIR; ports from EGOV_*_PORT (top of scripts/cluster.sh)."
}
# --help anywhere is answered before anything starts, stops or is built.
for a in "$@"; do [[ $a == -h || $a == --help ]] && { usage; exit 0; }; done
[[ ${1:-} != up || $# == 1 ]] || die "up takes no option: $2 (npm run cluster:up -- --help shows the usage)"
[[ ${1:-} != down || $# -le 2 ]] || die "unexpected $3 (npm run cluster:down -- --help shows the usage)"

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) echo "KUBECONFIG=$KUBECONFIG_PATH" ;;
  *) usage >&2; exit 2 ;;
esac
