#!/usr/bin/env bash
# Benchmark: the same objects through kubectl and through Pulumi, side by side, on fresh local clusters.
#
#   npm run bench                          3 runs, the dev stack and 10x its backend services
#   npm run bench -- --runs 1 --no-scale   one quick run of the dev stack only
#   npm run bench -- --help                every option
#
# Prints min and median per step, the ratio to kubectl and the target; writes JSON
# ($EGOV_CACHE/logs/bench.json unless --out). Uses the clusters of e2e slots 5 (and its own state and
# passphrase in a temp dir), so a dev stack or an e2e run on other slots is left alone.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$EGOV_ROOT"

# --help, or a wrong option, is answered before anything is installed.
EGOV_BENCH_CHECK_ARGS=1 node_modules/.bin/ts-node --swc scripts/bench.ts "$@" || exit
for a in "$@"; do [[ $a == -h || $a == --help ]] && exit 0; done
bash toolchain/install.sh --for bench
. scripts/env.sh
exec ts-node --swc scripts/bench.ts "$@"
