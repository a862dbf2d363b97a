#!/usr/bin/env bash
# Installs what the project runs, at the versions pinned in toolchain/versions.env; which parts, a command and its
# target decide (toolchain/parts.sh):
#   1. Pulumi CLI, Node.js language host, kubernetes and random plugins (toolchain/pulumi.sh): built from Go only when
#      no stock Pulumi CLI at or above the pin is on PATH
#   2. Node.js >= 22 for the Pulumi program (npm package "node" in node_modules/.bin; `npm ci`): always
#   3. the local cluster: etcd, kube-apiserver, kwok, metrics-server (toolchain/kube.sh)
#   4. oci-image and crane, which assemble the frontend images (toolchain/oci-image.sh)
# Binaries are cached outside the clone, under $EGOV_CACHE/toolchain/<name>-<version>/bin, with
# links in $EGOV_CACHE/bin; a re-run keeps what is there. Logs: $EGOV_CACHE/logs/.
#
# usage: npm run toolchain [-- OPTIONS]      (or: bash toolchain/install.sh [OPTIONS])
#   (no option)                 every part, whatever a command needs (a machine that runs the e2e suites)
#   --for COMMAND               only what `npm run COMMAND` needs (deploy, policy, drift, frontends, cluster:up, ...),
#   [--stack S] [--kubeconfig F] [--context C]   for that target (the local cluster: a localCluster stack, neither option)
#   --plan                      with --for: print the parts it needs, one a line, and install nothing
#   -h, --help                  this text
#
# Then: . scripts/env.sh (puts pulumi, node 22, kube-apiserver, ... on PATH), or use npm run ...
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"
# shellcheck source=parts.sh
. "$EGOV_ROOT/toolchain/parts.sh"

usage() { sed -n '12,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
command="" plan=0 stack=dev kubeconfig="" context=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --for) command=${2:?--for needs a command}; shift 2 ;;
    --stack) stack=${2:?--stack needs a name}; shift 2 ;;
    --kubeconfig) kubeconfig=${2:?--kubeconfig needs a path}; shift 2 ;;
    --context) context=${2:?--context needs a name}; shift 2 ;;
    --plan) plan=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (npm run toolchain -- --help shows the usage)" ;;
  esac
done
[[ $plan == 0 || -n $command ]] || die "--plan needs --for COMMAND"
local_target=0
egov_is_local_target "$stack" "$kubeconfig" "$context" && local_target=1
parts=$(egov_toolchain_parts "${command:-all}" "$local_target") || die "--for $command: not a command of this project"
if [[ $plan == 1 ]]; then
  [[ -z $parts ]] || printf '%s\n' "$parts"
  exit 0
fi
wants() { grep -qx "$1" <<<"$parts"; }

LOG_DIR=$EGOV_CACHE/logs
BIN_DIR=$EGOV_CACHE/bin
NODE_MIN_MAJOR=22
start=$SECONDS

if [[ -n $parts ]]; then
  log "toolchain: ${parts//$'\n'/, } in $EGOV_CACHE (logs in $LOG_DIR)"
else
  log "toolchain: nothing to build for ${command:-all} on this target (Node.js packages only)"
fi

# 1. Pulumi.
if wants pulumi; then
  bash "$EGOV_ROOT/toolchain/pulumi.sh"
elif stock=$(egov_stock_pulumi 2>/dev/null); then
  log "pulumi: using the installed CLI $stock ($(PULUMI_SKIP_UPDATE_CHECK=true "$stock" version)); it runs the policy pack and fetches its plugins itself"
fi
# 2. Node.js for the Pulumi program. With the built CLI, $BIN_DIR goes first on PATH so that the install script of
#    @pulumi/kubernetes finds our pulumi, which already has the plugin (no download).
if wants pulumi; then
  export PATH=$BIN_DIR:$PATH PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
fi
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

# 3. The local cluster.
if wants kube; then
  bash "$EGOV_ROOT/toolchain/kube.sh"
fi

# 4. oci-image and crane (npm run frontends; seconds).
if wants oci-image; then
  bash "$EGOV_ROOT/toolchain/oci-image.sh"
fi

# Summary (no jq: a host with a stock CLI needs none).
[[ -n $parts ]] || exit 0
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
if wants pulumi; then
  log "plugins in ${PULUMI_HOME:-$HOME/.pulumi}:"
  pulumi plugin ls 2>&1 | sed 's/^/    /' >&2
fi
log "use it: . scripts/env.sh   (puts $BIN_DIR and node_modules/.bin on PATH; or npm run ...)"
