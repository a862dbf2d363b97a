# Which parts of the toolchain a command needs for its target. Source it (scripts/env.sh, toolchain/install.sh and
# scripts/deploy.sh do); it defines functions only. Asked from the command line by
# `bash toolchain/install.sh --plan --for COMMAND [--stack S] [--kubeconfig F] [--context C]`.
#
# Parts (what is built from Go; Node.js packages come from `npm ci` whatever the part):
#   pulumi     the Pulumi CLI, its Node.js language host, the kubernetes and random plugins and the policy pack
#              launcher (toolchain/pulumi.sh): only when no stock Pulumi CLI at or above the pin is on PATH
#   kube       the local cluster's binaries: etcd, kube-apiserver, kwok, metrics-server (toolchain/kube.sh)
#   oci-image  oci-image and crane, which assemble the frontend images (toolchain/oci-image.sh)
# shellcheck shell=bash

# egov_is_local_target STACK KUBECONFIG CONTEXT: the local test cluster is the target only for a stack whose file
# says so (`egov-platform:localCluster: true`, as Pulumi.dev.yaml does), named with neither --kubeconfig nor --context
# (scripts/deploy.sh starts that cluster itself). The stack's name means nothing: a `dev` without it is a real cluster.
egov_is_local_target() {
  [[ -z $2 && -z $3 ]] || return 1
  egov_stack_is_local "$1"
}

# egov_stack_is_local STACK: whether Pulumi.STACK.yaml sets localCluster to true. Read without pulumi or node (the
# toolchain is chosen by it); the program validates the key (config/index.ts), so only a plain scalar counts here.
egov_stack_is_local() {
  local file=${EGOV_ROOT:?}/Pulumi.$1.yaml
  [[ -f $file ]] || return 1
  grep -Eq '^[[:space:]]+(egov-platform:)?localCluster:[[:space:]]*("true"|'"'true'"'|true)[[:space:]]*(#.*)?$' "$file"
}

# egov_stock_pulumi: prints the path of the first `pulumi` on PATH that is not the toolchain's own build (anything
# under $EGOV_CACHE), when it is at or above PULUMI_VERSION of toolchain/versions.env and has its Node.js language
# host beside it. Status 1: no such CLI on PATH; 2: one that is older than the pin or lacks a language host (its
# reason on stderr), which is not used: the pinned version is built instead.
egov_stock_pulumi() {
  local root=${EGOV_ROOT:?} cache=${EGOV_CACHE:?} pin dir real v dirs
  pin=v$(sed -n 's/^PULUMI_VERSION=//p' "$root/toolchain/versions.env")
  IFS=: read -ra dirs <<<"$PATH"
  for dir in "${dirs[@]}"; do
    [[ -n $dir && -x $dir/pulumi && ! -d $dir/pulumi ]] || continue
    real=$(readlink -f "$dir/pulumi")
    [[ $real == "$cache"/* || $real == "$(readlink -f "$cache")"/* ]] && continue
    if [[ ! -x $(dirname "$real")/pulumi-language-nodejs ]]; then
      printf 'pulumi at %s has no pulumi-language-nodejs beside it: not used (the pinned one is built, with Go >= 1.26)\n' \
        "$real" >&2
      return 2
    fi
    # The version alone: no update check (network) from a stock CLI.
    v=$(PULUMI_SKIP_UPDATE_CHECK=true "$real" version 2>/dev/null | head -n1 | tr -d '[:space:]')
    v=v${v#v}
    if [[ ! $v =~ ^v[0-9]+\.[0-9]+\.[0-9]+ || $(printf '%s\n%s\n' "$pin" "$v" | sort -V | head -n1) != "$pin" ]]; then
      printf 'pulumi at %s is %s, older than the pinned %s: not used (the pinned one is built, with Go >= 1.26; or upgrade it)\n' \
        "$real" "${v#v}" "$pin" >&2
      return 2
    fi
    printf '%s\n' "$real"
    return 0
  done
  return 1
}

# egov_toolchain_parts COMMAND LOCAL: the parts COMMAND needs, one per line; LOCAL is 1 when its target is the local
# test cluster (egov_is_local_target). COMMAND is an npm script name, or `all` (npm run toolchain, the e2e suites).
egov_toolchain_parts() {
  local command=$1 local_target=$2 pulumi=0 kube=0 oci=0
  case $command in
    all) pulumi=1 kube=1 oci=1 ;;
    deploy|destroy|policy|rollback) pulumi=1; [[ $local_target == 1 ]] && kube=1 ;;
    drift) pulumi=1 ;;
    bench) pulumi=1 kube=1 ;;
    cluster:up) kube=1 ;;
    frontends) oci=1 ;;
    cluster:down|render|images|boot-check|rotate|db:restore|docs:wiring|docs:config) ;;
    *) printf 'unknown command %s\n' "$command" >&2; return 2 ;;
  esac
  # `all` keeps toolchain/pulumi.sh's own choice (it links a stock CLI, or builds); any other command uses a stock
  # CLI as it is, with nothing built.
  if [[ $pulumi == 1 && $command != all ]] && egov_stock_pulumi >/dev/null; then pulumi=0; fi
  if [[ $pulumi == 1 ]]; then echo pulumi; fi
  if [[ $kube == 1 ]]; then echo kube; fi
  if [[ $oci == 1 ]]; then echo oci-image; fi
  return 0
}
