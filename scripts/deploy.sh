#!/usr/bin/env bash
# Deploys (or destroys, previews, rolls back) one stack of the platform, installing whatever is missing first.
# npm run deploy|destroy|policy|rollback run it; `--help` shows the usage of each.
#
# Consent: every change but the local stack's shows the preview (with the policy pack) and asks first; without a
# terminal it needs --yes. Every stack must state its environment (dev|staging|prod); none is assumed.
# Every preview and up runs the policy pack in policy/ (mandatory: a violation stops the run before
# anything changes).
# State: $PULUMI_BACKEND_URL if you set one (or are logged in with `pulumi login`), else a local file
# backend in $EGOV_CACHE/state. Secrets: $PULUMI_CONFIG_PASSPHRASE(_FILE) if set, else a passphrase
# generated once in $EGOV_CACHE/passphrase. Never Pulumi Cloud unless you chose it.
# Toolchain: a stock Pulumi CLI (at or above toolchain/versions.env's) on PATH is used as it is; without one, the
# pinned CLI is built (Go >= 1.26). The local cluster's binaries are built only for the local stack (localCluster: true
# in its stack file; Pulumi.dev.yaml). --kubeconfig and --context hold for this run only (EGOV_KUBECONFIG,
# EGOV_KUBE_CONTEXT, read by config/index.ts): no stack file is rewritten with an operator's path.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action=${1:-up}
shift || true
case $action in up|destroy|preview|rollback) ;; *) die "unknown action $action: expected up, preview, destroy or rollback" ;; esac
command=$action
case $action in up) command=deploy ;; preview) command=policy ;; esac

target_options='  --stack NAME          the stack (default: dev; Pulumi.NAME.yaml); a name that does not exist is refused
  --new                 create the stack --stack names
  --context CTX         target cluster for this run: that context of your kubeconfig (the stack file is not changed)
  --kubeconfig FILE     target cluster for this run: that kubeconfig file (the stack file is not changed)
                        neither: a stack with localCluster: true (dev) runs on the local test cluster (built and
                        started here: needs Go), any other on the cluster its config names (kubeContext, kubeconfig)
  --yes                 apply without asking (CI); without a terminal nothing is applied without it
  -h, --help            this text'
usage() {
  case $command in
    deploy) printf '%s\n' "usage: npm run deploy [-- OPTIONS]" "Deploys one stack: its preview, checked by the policy pack, then the update." \
      "  --preview             preview only (as npm run policy)" ;;
    destroy) printf '%s\n' "usage: npm run destroy [-- OPTIONS]" \
      "Deletes the stack's objects from its cluster (and stops the local cluster for the local stack)." ;;
    policy) printf '%s\n' "usage: npm run policy [-- OPTIONS]" "Preview only: what would change, checked by the policy pack; changes nothing." ;;
    rollback) printf '%s\n' "usage: npm run rollback -- --stack NAME [--to N | --list] [OPTIONS]" \
      "Re-applies the config of an earlier successful update, by default the newest whose config differs from now." \
      "  --to N                that update (numbers as --list shows them)" "  --list                number the updates and exit" ;;
  esac
  printf '%s\n' "$target_options"
  printf '%s\n' "Needs Node.js >= 22 and npm; a Pulumi CLI >= $PULUMI_VERSION on PATH (else it is built: Go >= 1.26)." \
    "State: \$PULUMI_BACKEND_URL or your \`pulumi login\`, else $EGOV_CACHE/state (docs: README \"Deploying to your own cluster\")."
}

stack=dev kubeconfig="" context="" preview_only=0 yes=0 new=0 to="" list=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --stack) stack=${2:?--stack needs a name}; shift 2 ;;
    --kubeconfig) kubeconfig=${2:?--kubeconfig needs a path}; shift 2
      [[ -f $kubeconfig ]] || die "--kubeconfig $kubeconfig: no such file"
      kubeconfig=$(cd "$(dirname "$kubeconfig")" && pwd)/$(basename "$kubeconfig") ;;
    --context) context=${2:?--context needs a name}; shift 2 ;;
    --preview) preview_only=1; shift ;;
    --yes) yes=1; shift ;;
    --new) new=1; shift ;;
    --list) list=1; shift ;;
    --to) to=${2:?--to needs an update number}; [[ $to =~ ^[0-9]+$ ]] || die "--to expects an update number (npm run rollback -- --stack NAME --list), not $to"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (npm run $command -- --help shows the usage)" ;;
  esac
done
[[ (-z $to && $list == 0) || $action == rollback ]] || die "--to and --list are options of rollback only"
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
# shellcheck source=../toolchain/parts.sh
. toolchain/parts.sh
local_target=0
egov_is_local_target "$stack" "$kubeconfig" "$context" && local_target=1
# Only what this command needs for this target (toolchain/parts.sh): nothing, with a stock Pulumi CLI and a cluster
# of your own.
bash toolchain/install.sh --for "$command" --stack "$stack" ${kubeconfig:+--kubeconfig "$kubeconfig"} ${context:+--context "$context"}
. scripts/env.sh
# A stock CLI runs the pack directory with its own language host; the language host built here cannot, so the built
# CLI is handed policy/analyzer, which starts the launcher built beside it (docs/security.md "Policy pack"). So is a
# distribution that ships such a launcher beside its CLI (ours, copied to a host without Go).
launcher=""
if [[ $EGOV_PULUMI_CLI == stock ]]; then
  stock_dir=$(dirname "$(egov_stock_pulumi)")
  [[ -x $stock_dir/pulumi-analyzer-policy ]] && launcher=$stock_dir/pulumi-analyzer-policy
else
  launcher=$EGOV_CACHE/bin/pulumi-analyzer-policy
fi
if [[ -n $launcher ]]; then
  export EGOV_POLICY_LAUNCHER=$launcher
  policy=(--policy-pack "$EGOV_ROOT/policy/analyzer")
else
  policy=(--policy-pack "$EGOV_ROOT/policy")
fi

use_state_backend

# The local stack is made on first use; any other must exist, or be asked for with --new,
# so a misspelt --stack never becomes a new empty stack.
if ! pulumi stack select "$stack" >/dev/null 2>&1; then
  if [[ $new == 1 || $local_target == 1 ]]; then
    pulumi stack init --secrets-provider passphrase "$stack" >/dev/null
    log "created stack $stack"
  else
    known=$(pulumi stack ls --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).map(x=>x.name).join(", "))}catch{}})' || true)
    die "no stack named $stack in the state backend ($(state_backend_shown)); known stacks: ${known:-none}. A new stack is created only when asked: add --new"
  fi
fi
if [[ -z $(pulumi config get environment 2>/dev/null || true) ]]; then
  die "stack $stack does not state its environment (nothing is assumed): set it in Pulumi.$stack.yaml or with \`pulumi config set environment dev|staging|prod --stack $stack\`"
fi

# The target cluster is always explicit: an option (this run only), the stack's config, or the local cluster for a
# localCluster stack. The program reads the options from the environment (config/index.ts CLUSTER_ENV).
unset EGOV_KUBECONFIG EGOV_KUBE_CONTEXT
[[ -n $kubeconfig ]] && export EGOV_KUBECONFIG=$kubeconfig
[[ -n $context ]] && export EGOV_KUBE_CONTEXT=$context
local_cluster=0
if [[ $local_target == 1 ]]; then
  local_cluster=1
  if [[ $action == destroy ]] && ! bash scripts/cluster.sh status >/dev/null 2>&1; then
    log "the local cluster is not running: starting it so the stack's objects can be deleted"
  fi
  cluster_kubeconfig=$(bash scripts/cluster.sh up | sed -n 's/^KUBECONFIG=//p' | tail -n1)
  [[ -n $cluster_kubeconfig ]] || die "the local cluster did not report its kubeconfig"
  export EGOV_KUBECONFIG=$cluster_kubeconfig
fi

# A preview writes no state, but the engine still serialises the whole state after each of its steps unless
# checkpoints are off: off for previews, where they give up nothing (an up keeps them).
preview() { PULUMI_SKIP_CHECKPOINTS=true pulumi preview --diff --parallel "$parallel" "${policy[@]}"; }

# Consent: the local stack changes at once; any other stack shows its preview first and applies it only after a
# "yes" at Pulumi's own prompt (a terminal) or --yes (CI). Without either, the preview is shown and nothing changes.
consent=(--yes --skip-preview)
if [[ $local_cluster == 0 ]]; then
  if [[ $yes == 1 ]]; then
    consent=(--yes --diff)
  elif [[ -t 0 && -t 1 ]]; then
    consent=(--diff)
  else
    consent=()
  fi
fi
refuse_without_consent() {
  die "not applied: stack $stack is not a local stack, and there is no terminal to ask for consent; review the preview above and re-run with --yes to apply it"
}
apply() {
  if [[ ${#consent[@]} == 0 ]]; then preview; refuse_without_consent; fi
  pulumi up "${consent[@]}" --suppress-outputs --parallel "$parallel" "${policy[@]}"
  log "stack outputs (secrets hidden; \`pulumi stack output --show-secrets\` reveals them):"
  pulumi stack output
}

case $action in
  up)
    if [[ $preview_only == 1 ]]; then preview; else apply; fi
    ;;
  preview) preview ;;
  rollback)
    if [[ $list == 1 ]]; then ts-node --swc scripts/rollback.ts --stack "$stack" --list; exit 0; fi
    # The stack file is put back as it was unless the rollback is applied.
    config_file=Pulumi.$stack.yaml saved=$(mktemp)
    had_file=0
    [[ -f $config_file ]] && { cp "$config_file" "$saved"; had_file=1; }
    restore() { if [[ $had_file == 1 ]]; then cp "$saved" "$config_file"; else rm -f "$config_file"; fi; rm -f "$saved"; }
    trap 'restore; log "rollback not applied: $config_file is as it was"' EXIT
    version=$(ts-node --swc scripts/rollback.ts --stack "$stack" ${to:+--to "$to"})
    apply
    trap - EXIT
    rm -f "$saved"
    log "stack $stack runs the configuration of update $version again; $config_file holds it (commit it so the next deploy keeps it)"
    ;;
  destroy)
    if [[ $local_cluster == 1 ]]; then
      pulumi destroy --yes --skip-preview --parallel "$parallel"
    elif [[ ${#consent[@]} == 0 ]]; then
      pulumi destroy --preview-only --parallel "$parallel"
      refuse_without_consent
    else
      destroy_consent=(); [[ $yes == 1 ]] && destroy_consent=(--yes)
      pulumi destroy "${destroy_consent[@]}" --parallel "$parallel"
    fi
    if [[ $local_cluster == 1 ]]; then bash scripts/cluster.sh down; fi
    ;;
esac
