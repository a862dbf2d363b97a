#!/usr/bin/env bash
# End-to-end tests: the real Pulumi engine against a live local cluster of their own, so a dev stack you
# deployed with `npm run deploy` is left alone. The cluster is stopped and wiped afterwards.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$EGOV_ROOT"

bash toolchain/install.sh
. scripts/env.sh

# EGOV_E2E_SLOT (0-9) gives parallel e2e runs (e.g. from several work trees) their own ports and cluster.
slot=${EGOV_E2E_SLOT:-0}
[[ $slot =~ ^[0-9]$ ]] || die "EGOV_E2E_SLOT must be a digit 0-9, not '$slot'"
suffix=${slot/#0/}
o=$((slot * 1000))
export EGOV_CLUSTER_DIR="$EGOV_CACHE/e2e-cluster${suffix:+-$suffix}"
export EGOV_ETCD_PORT=$((23890 + o)) EGOV_ETCD_PEER_PORT=$((23900 + o)) EGOV_APISERVER_PORT=$((16543 + o)) \
  EGOV_KCM_PORT=$((20357 + o)) EGOV_SCHEDULER_PORT=$((20359 + o)) EGOV_KWOK_PORT=$((20347 + o)) \
  EGOV_METRICS_SERVER_PORT=$((20361 + o))   # fixed per slot: two clusters starting at once were given the same free port
cleanup() { bash scripts/cluster.sh down --purge >/dev/null 2>&1 || warn "could not stop the e2e cluster (logs: $EGOV_CLUSTER_DIR/logs)"; }
trap cleanup EXIT
bash scripts/cluster.sh down --purge >/dev/null 2>&1 || true
start=$SECONDS
kubeconfig=$(bash scripts/cluster.sh up | sed -n 's/^KUBECONFIG=//p' | tail -n1)
[[ -n $kubeconfig ]] || die "the e2e cluster did not report its kubeconfig"
log "e2e cluster up in $((SECONDS - start))s"

export EGOV_E2E_KUBECONFIG=$kubeconfig
export EGOV_E2E_TIMINGS=${EGOV_E2E_TIMINGS:-$EGOV_CACHE/logs/e2e-timings.json}
# Files named on the command line are the whole run (mocha would add them to the config's spec, running every file).
files=0 noconfig=0
for a in "$@"; do
  [[ $a == --no-config ]] && noconfig=1
  [[ $a != -* && -f $a ]] && files=1
done
if ((files && !noconfig)); then
  mocha --no-config -r tests/support/ts-node-swc.js --extension ts --timeout 1200000 "$@"
else
  mocha --config .mocharc.e2e.json "$@"
fi
