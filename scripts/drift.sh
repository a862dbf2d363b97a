#!/usr/bin/env bash
# Drift check of a deployed stack: a refresh-preview that expects no changes, listing every object the cluster
# no longer matches (replica counts owned by an autoscaler excepted). Exit 0: none; 1: drift; 2: check failed.
#
#   npm run drift -- --stack prod [--verbose]
#
# Uses the same state backend and passphrase as `npm run deploy` (see scripts/lib.sh use_state_backend).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  printf '%s\n' "usage: npm run drift -- --stack NAME [--kubeconfig FILE | --context CTX] [--dir PROJECT_DIR] [--verbose]" \
    "Refresh-preview of a deployed stack that expects no changes; lists every object the cluster no longer matches." \
    "Exit 0: no drift; 1: drift; 2: the check failed." \
    "  --stack NAME          the stack to check (required)" \
    "  --kubeconfig FILE     the cluster for this check, as npm run deploy takes it (the stack file is not changed)" \
    "  --context CTX         a context of the stack's kubeconfig, for this check" \
    "  --dir PROJECT_DIR     the project directory holding Pulumi.NAME.yaml (default: this checkout)" \
    "  --verbose             stream the refresh-preview's own output to stderr" \
    "  -h, --help            this text" \
    "Needs Node.js >= 22 and npm; a Pulumi CLI >= $PULUMI_VERSION on PATH (else it is built: Go >= 1.26)." \
    "Same state backend and passphrase as npm run deploy."
}
# The arguments are checked before anything is installed (scripts/drift.ts reads them again); a wrong one exits 2, as
# any failed check does, never 1 (drift).
bad_usage() { printf '\033[31merror:\033[0m %s (npm run drift -- --help shows the usage)\n' "$1" >&2; exit 2; }
args=()
unset EGOV_KUBECONFIG EGOV_KUBE_CONTEXT
while [[ $# -gt 0 ]]; do
  case $1 in
    --stack|--dir) [[ $# -ge 2 ]] || bad_usage "$1 needs a value"; args+=("$1" "$2"); shift 2 ;;
    # The cluster of this run, for the program (config/index.ts CLUSTER_ENV), as scripts/deploy.sh passes it.
    --kubeconfig) [[ $# -ge 2 && -f $2 ]] || bad_usage "--kubeconfig needs an existing file"
      EGOV_KUBECONFIG=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); export EGOV_KUBECONFIG; shift 2 ;;
    --context) [[ $# -ge 2 ]] || bad_usage "--context needs a name"; export EGOV_KUBE_CONTEXT=$2; shift 2 ;;
    --stack=*|--dir=*|--verbose) args+=("$1"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad_usage "unknown option $1" ;;
  esac
done
cd "$EGOV_ROOT"
bash toolchain/install.sh --for drift >&2
. scripts/env.sh
use_state_backend
# Only previews: no state is written, so the engine need not serialise it after every step (docs/speed.md).
export PULUMI_SKIP_CHECKPOINTS=true
exec ts-node --swc scripts/drift.ts "${args[@]}"
