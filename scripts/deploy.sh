#!/usr/bin/env bash
# Deploys (or destroys) one stack of the platform, installing whatever is missing first.
#
#   npm run deploy                              dev stack on the local cluster (started if needed)
#   npm run deploy -- --stack prod              prod stack on the cluster its config names (kubeContext)
#   npm run deploy -- --context my-ctx          dev stack on your own cluster, through that kubeconfig context
#   npm run deploy -- --kubeconfig ~/.kube/x    ... or through that kubeconfig file
#   npm run destroy [-- same options]           removes the stack's objects (and stops the local cluster)
#   npm run policy [-- same options]            preview only: what would change, checked by the policy pack
#
# Every preview and up runs the policy pack in policy/ (mandatory: a violation stops the run before
# anything changes).
# State: $PULUMI_BACKEND_URL if you set one (or are logged in with `pulumi login`), else a local file
# backend in $EGOV_CACHE/state. Secrets: $PULUMI_CONFIG_PASSPHRASE(_FILE) if set, else a passphrase
# generated once in $EGOV_CACHE/passphrase. Never Pulumi Cloud unless you chose it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action=${1:-up}
shift || true
stack=dev kubeconfig="" context="" preview_only=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --stack) stack=$2; shift 2 ;;
    --kubeconfig) kubeconfig=$2; shift 2 ;;
    --context) context=$2; shift 2 ;;
    --preview) preview_only=1; shift ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case $action in up|destroy|preview) ;; *) die "unknown action $action: expected up, preview or destroy" ;; esac
[[ $action == preview ]] && preview_only=1

cd "$EGOV_ROOT"
# How the program runs (swc, no type check, Node's compile cache) is tsconfig.json's and config/process.ts's, the
# same for a plain `pulumi up` (docs/speed.md). The engine runs up to $EGOV_PULUMI_PARALLEL steps at once (its
# default, 4 x cores, leaves steps queued behind workloads that are only waiting for pods to become ready; a plain
# `pulumi` reads PULUMI_PARALLEL for the same).
parallel=${EGOV_PULUMI_PARALLEL:-64}
[[ -x node_modules/.bin/node ]] || step "npm ci" "$EGOV_CACHE/logs/npm-ci.log" npm ci --no-audit --no-fund
[[ -d policy/node_modules/@pulumi/policy ]] ||
  step "npm ci (policy pack)" "$EGOV_CACHE/logs/npm-ci-policy.log" npm ci --prefix policy --no-audit --no-fund
# The pack is started through its launcher (policy/analyzer explains why not its directory).
policy=(--policy-pack "$EGOV_ROOT/policy/analyzer")
bash scripts/toolchain.sh
. scripts/env.sh

use_state_backend

pulumi stack select --create --secrets-provider passphrase "$stack" >/dev/null

# The target cluster is always explicit: an option, the stack's config, or the local cluster for dev.
if [[ -n $kubeconfig ]]; then
  pulumi config set kubeconfig "$(cd "$(dirname "$kubeconfig")" && pwd)/$(basename "$kubeconfig")"
  pulumi config rm kubeContext >/dev/null 2>&1 || true
fi
[[ -n $context ]] && pulumi config set kubeContext "$context"
local_cluster=0
if [[ -z $kubeconfig && -z $context && $stack == dev ]]; then
  local_cluster=1
  if [[ $action == destroy ]] && ! bash scripts/cluster.sh status >/dev/null 2>&1; then
    log "the local cluster is not running: starting it so the stack's objects can be deleted"
  fi
  cluster_kubeconfig=$(bash scripts/cluster.sh up | sed -n 's/^KUBECONFIG=//p' | tail -n1)
  [[ -n $cluster_kubeconfig ]] || die "the local cluster did not report its kubeconfig"
  configured=$(pulumi config get kubeconfig 2>/dev/null || true)
  if [[ ${configured/#\~/$HOME} != "$cluster_kubeconfig" ]]; then
    pulumi config set kubeconfig "$cluster_kubeconfig"
  fi
fi

# A preview writes no state, but the engine still serialises the whole state after each of its steps unless
# checkpoints are off: off for previews, where they give up nothing (an up keeps them).
preview() { PULUMI_SKIP_CHECKPOINTS=true pulumi preview --diff --parallel "$parallel" "${policy[@]}"; }

case $action in
  up)
    if [[ $preview_only == 1 ]]; then
      preview
    else
      pulumi up --yes --skip-preview --suppress-outputs --parallel "$parallel" "${policy[@]}"
      log "stack outputs (secrets hidden; \`pulumi stack output --show-secrets\` reveals them):"
      pulumi stack output
    fi
    ;;
  preview) preview ;;
  destroy)
    pulumi destroy --yes --skip-preview --parallel "$parallel"
    [[ $local_cluster == 1 ]] && bash scripts/cluster.sh down
    ;;
esac
