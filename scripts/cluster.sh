#!/usr/bin/env bash
# A local Kubernetes control plane on loopback, for deploying and testing the stack.
#
#   bash scripts/cluster.sh up       start (builds the binaries first if missing); prints KUBECONFIG=<path>
#   bash scripts/cluster.sh down     stop every process (data kept); --purge also wipes etcd data and PKI
#   bash scripts/cluster.sh status   show processes, health and nodes; exit 0 only when fully up
#   bash scripts/cluster.sh env      print KUBECONFIG=<path>
#
# Components (all bound to 127.0.0.1): etcd, kube-apiserver (client-certificate auth, Node,RBAC),
# kube-controller-manager (all default controllers, service-account credentials, hostPath dynamic
# provisioner for StorageClass provisioner "kubernetes.io/host-path"), kube-scheduler, and kwok, which
# plays the kubelet for $EGOV_KWOK_NODES fake nodes (pods become Running/Ready without containers).
#
# State, PKI, kubeconfigs, pids and logs: $EGOV_CLUSTER_DIR (default $EGOV_CACHE/cluster), logs in
# $EGOV_CLUSTER_DIR/logs. Dynamically provisioned hostPath volumes: /tmp/hostpath_pv/<uid>
# (fixed by kube-controller-manager).
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
NODES=${EGOV_KWOK_NODES:-2}
NODE_CPU=${EGOV_KWOK_NODE_CPU:-32}
NODE_MEMORY=${EGOV_KWOK_NODE_MEMORY:-128Gi}
NODE_PODS=${EGOV_KWOK_NODE_PODS:-110}
# kwok also plays the ingress controller / cloud load balancer: it sets status.loadBalancer on
# Ingresses and type=LoadBalancer Services (to 127.0.0.1), so tools that wait for it can proceed.
FAKE_LB=${EGOV_CLUSTER_FAKE_LOADBALANCER:-1}
SERVICE_CIDR=${EGOV_SERVICE_CIDR:-10.96.0.0/16}
SERVICE_APISERVER_IP=${EGOV_SERVICE_APISERVER_IP:-10.96.0.1}   # first IP of SERVICE_CIDR
TIMEOUT=${EGOV_CLUSTER_TIMEOUT:-120}                          # seconds per wait

PKI=$CLUSTER_DIR/pki
RUN=$CLUSTER_DIR/run
LOGS=$CLUSTER_DIR/logs
ETCD_DATA=$CLUSTER_DIR/etcd
KUBECONFIG_PATH=$CLUSTER_DIR/kubeconfig
SERVER=https://127.0.0.1:$APISERVER_PORT

K8S_V=v${KUBERNETES_VERSION#v}
ETCD_V=v${ETCD_VERSION#v}
KWOK_V=v${KWOK_VERSION#v}
K8S_BIN=$EGOV_CACHE/toolchain/kubernetes-$K8S_V/bin
ETCD_BIN=$EGOV_CACHE/toolchain/etcd-$ETCD_V/bin
KWOK_HOME=$EGOV_CACHE/toolchain/kwok-$KWOK_V

COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

kc() { kubectl --kubeconfig="$KUBECONFIG_PATH" --request-timeout=10s "$@"; }

# --- processes ---------------------------------------------------------------------------------------

# pid_of NAME: prints the pid of the running component (its command line names $CLUSTER_DIR, which
# guards against a recycled pid), or fails.
pid_of() {
  local pid
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CLUSTER_DIR" || return 1
  echo "$pid"
}

# start NAME CMD...: runs CMD detached (own session), output appended to $LOGS/NAME.log.
start() {
  local name=$1; shift
  rm -f "$RUN/$name.pid"
  # Keep one previous log once it passes 20 MB.
  if [[ -f $LOGS/$name.log && $(stat -c %s "$LOGS/$name.log") -gt 20000000 ]]; then
    mv -f "$LOGS/$name.log" "$LOGS/$name.log.1"
  fi
  printf '\n=== %s start %s\n' "$(date -u +%FT%TZ)" "$name" >>"$LOGS/$name.log"
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  local i
  for i in $(seq 50); do [[ -s $RUN/$name.pid ]] && return 0; sleep 0.1; done
  die "$name did not start; see $LOGS/$name.log"
}

# alive PID: the process exists and is not a zombie (an exited child waits for init to reap it).
alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# stop NAME: SIGTERM, then SIGKILL after 20s.
stop() {
  local name=$1 pid i
  pid=$(pid_of "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 200); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    warn "$name (pid $pid) ignored SIGTERM; killing"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$RUN/$name.pid"
  log "stopped $name (pid $pid)"
}

# leftovers: pids of control-plane processes (etcd, kube-*, kwok) whose arguments name $CLUSTER_DIR,
# whichever build they run (a pid file may be lost, or the pinned versions changed while running).
leftovers() {
  local dir_re
  dir_re=$(printf '%s' "$CLUSTER_DIR/" | sed 's/[][\.*^$+?(){}|]/\\&/g')
  pgrep -f -- "^[^ ]*/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok) .*$dir_re" || true
}

stop_all() {
  local i name pids
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop "${COMPONENTS[i]}"; done
  pids=$(leftovers)
  if [[ -n $pids ]]; then
    warn "stray cluster processes: $(echo "$pids" | tr '\n' ' ')- killing them"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  fi
  pids=$(leftovers)
  [[ -z $pids ]] || die "processes still running: $pids"
  for name in "${COMPONENTS[@]}"; do rm -f "$RUN/$name.pid"; done
}

# wait_for WHAT NAME CMD...: retries CMD until it succeeds; on timeout shows NAME's log and fails.
wait_for() {
  local what=$1 name=$2; shift 2
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! pid_of "$name" >/dev/null; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      fail "$name exited while waiting for $what; log: $LOGS/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      fail "timed out after ${TIMEOUT}s waiting for $what; log: $LOGS/$name.log"
    fi
    sleep 0.3
  done
}

fail() {
  if [[ ${EGOV_CLUSTER_KEEP_ON_FAILURE:-0} != 1 ]]; then
    warn "$1"
    warn "stopping the partly started cluster (EGOV_CLUSTER_KEEP_ON_FAILURE=1 keeps it)"
    stop_all
  fi
  die "$1"
}

port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# --- files -------------------------------------------------------------------------------------------

ensure_binaries() {
  local f
  for f in "$K8S_BIN/kube-apiserver" "$K8S_BIN/kube-controller-manager" "$K8S_BIN/kube-scheduler" \
           "$ETCD_BIN/etcd" "$KWOK_HOME/bin/kwok" "$KWOK_HOME/stages/pod-ready.yaml"; do
    if [[ ! -e $f ]]; then
      log "control plane binaries missing ($f); building them"
      bash "$EGOV_ROOT/scripts/toolchain/kube.sh"
      return
    fi
  done
}

# ca NAME CN: a self-signed CA.
ca() {
  [[ -s $PKI/$1.crt && -s $PKI/$1.key ]] && return 0
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/$1.key" -out "$PKI/$1.crt" -days 3650 -sha256 -subj "/CN=$2" \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature' 2>/dev/null
}

# cert NAME SUBJECT EXTENSIONS [CA]: a key and a certificate signed by CA (default: the cluster CA).
cert() {
  local name=$1 subj=$2 ext=$3 ca=${4:-ca}
  [[ -s $PKI/$name.crt && -s $PKI/$name.key ]] && return 0
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
    -CAserial "$PKI/$ca.srl" -CAcreateserial -days 3650 -sha256 -out "$PKI/$name.crt" \
    -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$ext") 2>/dev/null
  rm -f "$PKI/$name.csr"
}

ensure_pki() {
  mkdir -p "$PKI" && chmod 700 "$PKI"
  if [[ ! -s $PKI/ca.crt || ! -s $PKI/ca.key ]]; then
    log "generating cluster PKI in $PKI"
    rm -f "$PKI"/*
    ca ca egov-local-ca
  fi
  # Request-header (front proxy) CA: lets kube-controller-manager/-scheduler (and any aggregated
  # API server) authenticate requests the apiserver proxies to them.
  ca front-proxy-ca egov-local-front-proxy-ca
  cert front-proxy-client "/CN=front-proxy-client" "extendedKeyUsage=clientAuth" front-proxy-ca
  if [[ ! -s $PKI/sa.key ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
    openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  cert apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$SERVICE_APISERVER_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert admin "/O=system:masters/CN=kubernetes-admin" "extendedKeyUsage=clientAuth"
  cert kube-controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  cert kube-scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
  # kwok acts for every fake node (status, leases, pod status): give it cluster-admin.
  cert kwok "/O=system:masters/CN=system:kwok-controller" "extendedKeyUsage=clientAuth"
  chmod 600 "$PKI"/*.key
}

# kubeconfig FILE USER: a kubeconfig for SERVER with USER's client certificate embedded.
kubeconfig() {
  local file=$1 user=$2 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: egov-local
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$user.crt")
    client-key-data: $(base64 -w0 <"$PKI/$user.key")
contexts:
- name: egov-local
  context:
    cluster: egov-local
    user: $user
current-context: egov-local
EOF
  chmod 600 "$tmp"
  mv -f "$tmp" "$file"
}

ensure_kubeconfigs() {
  kubeconfig "$KUBECONFIG_PATH" admin
  kubeconfig "$RUN/kube-controller-manager.kubeconfig" kube-controller-manager
  kubeconfig "$RUN/kube-scheduler.kubeconfig" kube-scheduler
  kubeconfig "$RUN/kwok.kubeconfig" kwok
}

# kwok has no built-in behaviour: its stages (copied from the kwok module by kube.sh) are the config.
write_kwok_config() {
  local f
  {
    # No KwokConfiguration document: with one, kwok skips its defaults (e.g. lease parallelism).
    for f in node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete; do
      printf -- '---\n'; cat "$KWOK_HOME/stages/$f.yaml"
    done
    if [[ $FAKE_LB == 1 ]]; then
      cat <<'EOF'
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: egov-ingress-load-balancer
spec:
  resourceRef:
    apiGroup: networking.k8s.io/v1
    kind: Ingress
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.loadBalancer.ingress'
      operator: 'DoesNotExist'
  next:
    statusTemplate: |
      loadBalancer:
        ingress:
        - ip: 127.0.0.1
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: egov-service-load-balancer
spec:
  resourceRef:
    apiGroup: v1
    kind: Service
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.spec.type'
      operator: 'In'
      values:
      - 'LoadBalancer'
    - key: '.status.loadBalancer.ingress'
      operator: 'DoesNotExist'
  next:
    statusTemplate: |
      loadBalancer:
        ingress:
        - ip: 127.0.0.1
          ipMode: VIP
EOF
    fi
  } >"$RUN/kwok.yaml"
}

nodes_manifest() {
  local i
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    node-role.kubernetes.io/agent: ""
spec:
  podCIDR: 10.244.$i.0/24
  podCIDRs: [10.244.$i.0/24]
status:
  allocatable: {cpu: "$NODE_CPU", memory: $NODE_MEMORY, pods: "$NODE_PODS", ephemeral-storage: 1Ti}
  capacity: {cpu: "$NODE_CPU", memory: $NODE_MEMORY, pods: "$NODE_PODS", ephemeral-storage: 1Ti}
EOF
  done
}

# --- health ------------------------------------------------------------------------------------------

etcd_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
apiserver_ready() { curl -sf --max-time 3 --cacert "$PKI/ca.crt" "$SERVER/readyz" | grep -qx ok; }
healthz() { curl -skf --max-time 2 "https://127.0.0.1:$1/healthz" | grep -qx ok; }
kwok_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null; }

nodes_ready() {
  local out
  out=$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status},{.spec.taints}{"\n"}{end}') || return 1
  [[ $(grep -c '=True,$' <<<"$out") -ge $NODES ]]
}

default_sa() { kc -n default get serviceaccount default; }

all_running() { local c; for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || return 1; done; }

# --- commands ----------------------------------------------------------------------------------------

cmd_up() {
  local start_time=$SECONDS c
  mkdir -p "$CLUSTER_DIR" "$RUN" "$LOGS"
  if all_running && apiserver_ready; then
    log "cluster already up ($CLUSTER_DIR)"
    echo "KUBECONFIG=$KUBECONFIG_PATH"
    return 0
  fi
  for c in "${COMPONENTS[@]}"; do
    if pid_of "$c" >/dev/null; then
      warn "cluster only partly running; restarting it"
      stop_all
      break
    fi
  done
  [[ -z $(leftovers) ]] || { warn "stray processes use $CLUSTER_DIR; stopping them"; stop_all; }

  command -v kubectl >/dev/null || die "kubectl is required (Debian: apt-get install kubernetes-client)"
  command -v openssl >/dev/null || die "openssl is required"
  ensure_binaries
  local p
  for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"; do
    port_free "$p" || die "port $p is in use (override with EGOV_*_PORT; see the top of $0)"
  done
  ensure_pki
  ensure_kubeconfigs
  write_kwok_config
  start_time=$SECONDS

  start etcd "$ETCD_BIN/etcd" \
    --name=egov --data-dir="$ETCD_DATA" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="egov=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true --log-level=warn
  wait_for "etcd" etcd etcd_healthy

  start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-signing-key-file="$PKI/sa.key" --service-account-key-file="$PKI/sa.pub" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false \
    --endpoint-reconciler-type=none
  wait_for "kube-apiserver /readyz" kube-apiserver apiserver_ready

  start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$RUN/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$RUN/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$RUN/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --controllers='*' --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --cluster-name=egov-local \
    --enable-hostpath-provisioner=true --pvclaimbinder-sync-period=5s \
    --kube-api-qps=200 --kube-api-burst=400 --profiling=false
  start kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$RUN/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$RUN/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$RUN/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false \
    --kube-api-qps=200 --kube-api-burst=400 --profiling=false
  start kwok "$KWOK_HOME/bin/kwok" \
    --kubeconfig="$RUN/kwok.kubeconfig" --config="$RUN/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" \
    --cidr=10.244.255.0/24 --node-lease-duration-seconds=40

  nodes_manifest | kc apply -f - >/dev/null || fail "could not create the kwok nodes"
  wait_for "kube-controller-manager /healthz" kube-controller-manager healthz "$KCM_PORT"
  wait_for "kube-scheduler /healthz" kube-scheduler healthz "$SCHEDULER_PORT"
  wait_for "kwok /healthz" kwok kwok_healthy
  wait_for "$NODES Ready untainted nodes" kwok nodes_ready
  wait_for "the default ServiceAccount" kube-controller-manager default_sa

  log "cluster up in $((SECONDS - start_time))s: $NODES kwok nodes, apiserver $SERVER, logs $LOGS"
  echo "KUBECONFIG=$KUBECONFIG_PATH"
}

cmd_down() {
  local purge=0
  case ${1:-} in --purge) purge=1 ;; "") ;; *) die "usage: $0 down [--purge]" ;; esac
  stop_all
  if ((purge)); then
    rm -rf "$ETCD_DATA" "$PKI" "$RUN" "$KUBECONFIG_PATH"
    log "cluster data wiped (etcd, PKI, kubeconfigs; logs kept in $LOGS)"
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
    kc get nodes -o wide || ok=1
    echo "KUBECONFIG=$KUBECONFIG_PATH"
  else
    printf '%-24s %s\n' apiserver "$SERVER not ready"; ok=1
  fi
  return $ok
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) echo "KUBECONFIG=$KUBECONFIG_PATH" ;;
  *) echo "usage: $0 up | down [--purge] | status | env" >&2; exit 2 ;;
esac
