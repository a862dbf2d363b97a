# Source it (do not run it): puts the project's toolchain first on PATH.
#
#   . scripts/env.sh
#
# - $EGOV_CACHE/bin: pulumi, pulumi-language-nodejs and the control-plane binaries that
#   toolchain/install.sh builds or links there;
# - $EGOV_ROOT/node_modules/.bin: Node.js 22 (npm package "node", installed by `npm ci`), tsc, ...
# and tells the Pulumi CLI never to look for updates or download a plugin (they are installed
# locally by toolchain/install.sh).
# shellcheck shell=bash

EGOV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export EGOV_ROOT
EGOV_CACHE=${EGOV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/egov-platform}
export EGOV_CACHE

# Prepend each directory once (sourcing twice does not grow PATH).
for _egov_dir in "$EGOV_ROOT/node_modules/.bin" "$EGOV_CACHE/bin"; do
  case ":$PATH:" in
    *":$_egov_dir:"*) PATH=$(printf '%s' ":$PATH:" | sed "s#:$_egov_dir:#:#g; s#^:##; s#:\$##") ;;
  esac
  PATH=$_egov_dir:$PATH
done
unset _egov_dir
export PATH

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
