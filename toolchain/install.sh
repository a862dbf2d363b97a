#!/usr/bin/env bash
# Installs everything the project runs, at the versions pinned in toolchain/versions.env:
#   1. Pulumi CLI, Node.js language host, kubernetes and random plugins (toolchain/pulumi.sh)
#   2. Node.js >= 22 for the Pulumi program (npm package "node" in node_modules/.bin; `npm ci`)
#   3. the local control plane: etcd, kube-apiserver, ... (toolchain/kube.sh, if present)
#   4. oci-image and crane, which assemble the frontend images (toolchain/oci-image.sh)
# Binaries are cached outside the clone, under $EGOV_CACHE/toolchain/<name>-<version>/bin, with
# links in $EGOV_CACHE/bin; a re-run keeps what is there. Logs: $EGOV_CACHE/logs/.
#
#   bash toolchain/install.sh        # or: npm run toolchain
#   . scripts/env.sh                 # then: pulumi, node 22, kube-apiserver, ... on PATH
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"

LOG_DIR=$EGOV_CACHE/logs
BIN_DIR=$EGOV_CACHE/bin
NODE_MIN_MAJOR=22
start=$SECONDS

log "toolchain: cache $EGOV_CACHE (logs in $LOG_DIR)"

# 1. Pulumi.
bash "$EGOV_ROOT/toolchain/pulumi.sh"

# 2. Node.js for the Pulumi program. $BIN_DIR goes first on PATH so that the install script of
#    @pulumi/kubernetes finds our pulumi, which already has the plugin (no download).
export PATH=$BIN_DIR:$PATH PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
node_bin=$EGOV_ROOT/node_modules/.bin/node
if [[ ! -d $EGOV_ROOT/node_modules || ! -x $node_bin ]]; then
  command -v npm >/dev/null || die "npm is required to install node_modules (npm ci)"
  cd "$EGOV_ROOT"
  step "npm ci" "$LOG_DIR/npm-ci.log" npm ci --no-audit --no-fund
fi
[[ -x $node_bin ]] || die "$node_bin is missing: package.json must have devDependency \"node\"; run npm ci"
node_version=$("$node_bin" --version)
node_major=${node_version#v}; node_major=${node_major%%.*}
(( node_major >= NODE_MIN_MAJOR )) ||
  die "$node_bin is $node_version; the Pulumi program needs Node.js >= $NODE_MIN_MAJOR (run npm ci)"
log "node: $node_version in $EGOV_ROOT/node_modules/.bin"

# 3. The control plane.
if [[ -f $EGOV_ROOT/toolchain/kube.sh ]]; then
  bash "$EGOV_ROOT/toolchain/kube.sh"
fi

# 4. oci-image and crane (npm run frontends; seconds).
bash "$EGOV_ROOT/toolchain/oci-image.sh"

# Summary.
version_line() {
  case $1 in
    pulumi) "$2" version ;;
    pulumi-language-nodejs) printf '(language host)' ;;
    *) "$2" --version 2>/dev/null | head -n1 ;;
  esac
}
log "toolchain ready in $((SECONDS - start))s; bin dir: $BIN_DIR"
for f in "$BIN_DIR"/*; do
  [[ -x $f ]] || continue
  printf '    %-26s %s\n' "$(basename "$f")" "$(version_line "$(basename "$f")" "$f" || true)" >&2
done
printf '    %-26s %s\n' node "$node_version ($node_bin)" >&2
log "plugins ($(pulumi plugin ls --json | jq -r 'map("\(.name) \(.version)") | join(", ")')) in ${PULUMI_HOME:-$HOME/.pulumi}"
log "use it: . scripts/env.sh   (puts $BIN_DIR and node_modules/.bin first on PATH; or npm run ...)"
