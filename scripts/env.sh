# Source it (do not run it): puts the project's toolchain on PATH.
#
#   . scripts/env.sh
#
# - $EGOV_ROOT/node_modules/.bin: Node.js 22 (npm package "node", installed by `npm ci`), tsc, ...
# - $EGOV_CACHE/bin: what toolchain/install.sh builds or links there (pulumi and its language host, the local
#   cluster's binaries, oci-image). First on PATH, unless a stock Pulumi CLI at or above the pin is on PATH
#   (toolchain/parts.sh): then last, so that CLI and its own language host run, never a build of ours.
# Sets EGOV_PULUMI_CLI to `stock` or `built` (scripts/deploy.sh picks the policy pack's launcher by it). With the
# built CLI, Pulumi never looks for updates or downloads a plugin (toolchain/install.sh registered them); a stock
# CLI fetches its plugins as it always does.
# shellcheck shell=bash

EGOV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export EGOV_ROOT
EGOV_CACHE=${EGOV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/egov-platform}
export EGOV_CACHE
# shellcheck source=../toolchain/parts.sh
. "$EGOV_ROOT/toolchain/parts.sh"

# Each directory once (sourcing twice does not grow PATH), first or last.
_egov_path_without() { printf '%s' ":$PATH:" | sed "s#:$1:#:#g; s#^:##; s#:\$##"; }
PATH=$(_egov_path_without "$EGOV_CACHE/bin")
PATH=$EGOV_ROOT/node_modules/.bin:$(_egov_path_without "$EGOV_ROOT/node_modules/.bin")
if egov_stock_pulumi >/dev/null 2>&1; then
  EGOV_PULUMI_CLI=stock
  PATH=$PATH:$EGOV_CACHE/bin
else
  EGOV_PULUMI_CLI=built
  PATH=$EGOV_CACHE/bin:$PATH
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
fi
unset -f _egov_path_without
export PATH EGOV_PULUMI_CLI
export PULUMI_SKIP_UPDATE_CHECK=true
