#!/usr/bin/env bash
# npm test: the suites side by side, each e2e lane on a local cluster of its own (EGOV_E2E_SLOT), then every
# lane's output in turn. Exits non-zero when any lane failed.
#   lane unit:  npm run test:unit
#   lane e2e:   every tests/e2e/*.e2e.ts but the two below (slot 0)
#   lane hosts: the no-Go and namespace-scoped deploys, then the scale-fault suite (slot 1)
#   lane apps-build: the services' jars built from the application checkout (npm run apps:build; cached by content)
#   lane apps:  once the unit lane and the jars are done: the dev stack run here from its source and the users' flows
#               in a browser (docs/browser-flows.md), every service Ready within its rendered budget; then the
#               regressions put back that must stop a named service from starting (budgets x3, docs/apps-run.md)
# The e2e, hosts and build lanes run at a lower priority (nice 10, inherited by the clusters they start): the
# browser lane's verdict is the rendered start budgets, unscaled, so the CPU goes to it first when both want it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$EGOV_ROOT"

# What every lane needs, installed once before they start (two installs at once would race).
bash tests/support/test-deps.sh
bash toolchain/install.sh

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
own=(tests/e2e/nogo.e2e.ts tests/e2e/namespace-scoped.e2e.ts)
mapfile -t shared < <(printf '%s\n' tests/e2e/*.e2e.ts | grep -vxF -f <(printf '%s\n' "${own[@]}"))

lane() { # name command...
  local name=$1; shift
  local t=$SECONDS
  if "$@" >"$logs/$name.log" 2>&1; then echo ok >"$logs/$name.status"; else echo "failed ($?)" >"$logs/$name.status"; fi
  log "lane $name: $(cat "$logs/$name.status") in $((SECONDS - t))s"
}
start=$SECONDS
lane unit npm run test:unit &
unit=$!
lane e2e nice -n 10 env EGOV_E2E_SLOT=0 EGOV_E2E_TIMINGS="$EGOV_CACHE/logs/e2e-timings.json" bash tests/support/e2e.sh "${shared[@]}" &
lane hosts nice -n 10 bash -c 'EGOV_E2E_SLOT=1 EGOV_E2E_TIMINGS=/dev/null bash tests/support/e2e.sh "$@" && EGOV_E2E_SLOT=1 npm run test:e2e:scale' _ "${own[@]}" &
lane apps-build nice -n 10 npm run apps:build &
build=$!
# The browser lane builds nothing itself meanwhile (the same jars twice) and shares no CPU with the unit suite's
# 2-minute test timeouts.
wait "$unit" "$build" || true
lane apps bash -c 'npm run test:apps:browser; flows=$?; EGOV_APPS_BUDGET_SCALE=3 npm run test:apps -- -g "regressions put back"; exit $((flows || $?))'
wait
status=0
for name in unit e2e hosts apps-build apps; do
  printf '\n===== lane %s: %s =====\n' "$name" "$(cat "$logs/$name.status" 2>/dev/null || echo 'did not finish')"
  cat "$logs/$name.log"
  [[ $(cat "$logs/$name.status" 2>/dev/null) == ok ]] || status=1
done
log "npm test: all lanes done in $((SECONDS - start))s"
exit "$status"
