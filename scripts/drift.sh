#!/usr/bin/env bash
# Drift check of a deployed stack: a refresh-preview that expects no changes, listing every object the cluster
# no longer matches (replica counts owned by an autoscaler excepted). Exit 0: none; 1: drift; 2: check failed.
#
#   npm run drift -- --stack prod [--verbose]
#
# Uses the same state backend and passphrase as `npm run deploy` (see scripts/lib.sh use_state_backend).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$EGOV_ROOT"
bash toolchain/install.sh >&2
. scripts/env.sh
use_state_backend
# Only previews: no state is written, so the engine need not serialise it after every step (docs/speed.md).
export PULUMI_SKIP_CHECKPOINTS=true
exec ts-node --swc scripts/drift.ts "$@"
