#!/usr/bin/env bash
# Builds the Pulumi engine and its plugins from Go modules, or reuses an installed Pulumi CLI of the
# pinned version. Versions come from toolchain/versions.env ("Pulumi" section).
#
#   $EGOV_CACHE/toolchain/pulumi-v<P>/bin/{pulumi,pulumi-language-nodejs}
#   $EGOV_CACHE/toolchain/pulumi-language-nodejs-<L>/bin/pulumi-language-nodejs
#   $EGOV_CACHE/toolchain/pulumi-resource-kubernetes-v<K>/bin/pulumi-resource-kubernetes
#   $EGOV_CACHE/toolchain/pulumi-resource-random-v<R>-<hash>/bin/pulumi-resource-random
#   $EGOV_CACHE/toolchain/pulumi-analyzer-policy-v<P>-<hash>/bin/pulumi-analyzer-policy
#   $EGOV_CACHE/bin/{pulumi,pulumi-language-nodejs,pulumi-analyzer-policy} -> the above (put it first on
#   PATH: scripts/env.sh)
#
# The resource plugins are registered in $PULUMI_HOME (default ~/.pulumi) with
# `pulumi plugin install resource NAME VERSION --file BINARY`, so the engine never downloads one.
# Plugins are not linked into $EGOV_CACHE/bin: the engine would take any pulumi-resource-* on PATH
# whatever its version.
#
# Idempotent: what is already built (or installed) at the pinned version is kept. Build logs:
# $EGOV_CACHE/logs/pulumi-*.log. Go's module and build caches are the default ones.
#
# Runnable on its own (bash toolchain/pulumi.sh) or sourced (defines pulumi_toolchain, which
# runs the same).
#
# Where the modules come from (only what the Go module proxy serves here):
# - CLI: github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION, cmd/pulumi.
# - Node.js language host: the module of its own (sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
#   served, so it is built from github.com/pulumi/pulumi/sdk/v3@$PULUMI_LANGUAGE_NODEJS_MODULE_VERSION,
#   the last sdk/v3 release that still contained it (nodejs/cmd/pulumi-language-nodejs).
# - Kubernetes provider: github.com/pulumi/pulumi-kubernetes/provider/v4 at the pseudo-version of
#   the tag v$PULUMI_KUBERNETES_VERSION.
# - Random provider: github.com/pulumi/pulumi-random is not served, so the Terraform random provider
#   is bridged here (toolchain/pulumi-resource-random/, see its README.md).
# - Policy pack launcher: toolchain/pulumi-analyzer-policy/main.go against
#   github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION (its PolicyProxy). The Node.js language host above
#   cannot run a policy pack (RunPlugin), so policy/analyzer hands the pack to this (see main.go).

# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"

# Bump when the build recipe changes in a way that must rebuild cached binaries.
PULUMI_RECIPE_REV=1

pulumi_vars() {
  : "${PULUMI_VERSION:?PULUMI_VERSION missing from toolchain/versions.env}"
  : "${PULUMI_LANGUAGE_NODEJS_MODULE_VERSION:?missing from toolchain/versions.env}"
  : "${PULUMI_KUBERNETES_VERSION:?missing from toolchain/versions.env}"
  : "${PULUMI_KUBERNETES_MODULE_VERSION:?missing from toolchain/versions.env}"
  : "${PULUMI_RANDOM_VERSION:?missing from toolchain/versions.env}"
  : "${PULUMI_RANDOM_TF_PROVIDER_VERSION:?missing from toolchain/versions.env}"
  : "${PULUMI_TERRAFORM_BRIDGE_VERSION:?missing from toolchain/versions.env}"
  : "${PULUMI_TERRAFORM_PLUGIN_SDK_FORK:?missing from toolchain/versions.env}"

  P_V=v${PULUMI_VERSION#v}
  LANG_V=${PULUMI_LANGUAGE_NODEJS_MODULE_VERSION}
  K8S_PLUGIN_V=${PULUMI_KUBERNETES_VERSION#v}
  RANDOM_PLUGIN_V=${PULUMI_RANDOM_VERSION#v}

  TOOLCHAIN_DIR=$EGOV_CACHE/toolchain
  BIN_DIR=$EGOV_CACHE/bin
  LOG_DIR=$EGOV_CACHE/logs
  BUILD_DIR=$EGOV_CACHE/build
  RANDOM_SRC=$EGOV_ROOT/toolchain/pulumi-resource-random
  POLICY_SRC=$EGOV_ROOT/toolchain/pulumi-analyzer-policy

  CLI_DIR=$TOOLCHAIN_DIR/pulumi-$P_V
  LANG_DIR=$TOOLCHAIN_DIR/pulumi-language-nodejs-$LANG_V
  K8S_DIR=$TOOLCHAIN_DIR/pulumi-resource-kubernetes-v$K8S_PLUGIN_V
  local h
  h=$( { printf '%s\n' "$PULUMI_RECIPE_REV" "$PULUMI_RANDOM_TF_PROVIDER_VERSION" \
           "$PULUMI_TERRAFORM_BRIDGE_VERSION" "$PULUMI_TERRAFORM_PLUGIN_SDK_FORK"
         (cd "$RANDOM_SRC" && find . -type f -name '*.go' | LC_ALL=C sort | xargs cat); } |
       sha256sum | cut -c1-10)
  RANDOM_DIR=$TOOLCHAIN_DIR/pulumi-resource-random-v$RANDOM_PLUGIN_V-$h
  h=$(sha256sum < "$POLICY_SRC/main.go" | cut -c1-10)
  POLICY_LAUNCHER_DIR=$TOOLCHAIN_DIR/pulumi-analyzer-policy-$P_V-$h

  PULUMI_HOME_DIR=${PULUMI_HOME:-$HOME/.pulumi}
  export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
}

pulumi_go_env() {
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
    PATH=/usr/local/go/bin:$PATH
  fi
  command -v go >/dev/null || die "go is required (Go >= 1.26) to build Pulumi; or install Pulumi CLI $P_V"
  export CGO_ENABLED=0
  local f
  for f in -mod=mod -buildvcs=false; do
    case " ${GOFLAGS:-} " in *" $f "*) ;; *) GOFLAGS="${GOFLAGS:+$GOFLAGS }$f" ;; esac
  done
  export GOFLAGS
}

# go_mod_field FIELD MODULE@VERSION: prints that field of `go mod download -json` (GoMod: the
# module's go.mod; Dir: its source), downloading it if needed; on failure prints go's error.
go_mod_field() {
  local out
  if ! out=$(go mod download -json "$2"); then
    jq -r '.Error // .' <<<"$out" >&2 || printf '%s\n' "$out" >&2
    return 1
  fi
  jq -er --arg f "$1" '.[$f]' <<<"$out"
}
go_mod_file() { go_mod_field GoMod "$1"; }
go_mod_dir() { go_mod_field Dir "$1"; }

# copy_replaces GOMOD: applies that go.mod's replace directives that point at modules (not at local
# directories) to the go.mod in the current directory: a wrapper must repeat them.
copy_replaces() {
  local old new
  while IFS=$'\t' read -r old new; do
    go mod edit -replace="$old=$new"
  done < <(go mod edit -json "$1" | jq -r '.Replace[]? | select(.New.Version != null)
      | [(.Old.Path + (if .Old.Version then "@" + .Old.Version else "" end)),
         (.New.Path + "@" + .New.Version)] | @tsv')
}

# new_wrapper DIR MODULE: an empty main module in DIR.
new_wrapper() {
  rm -rf "$1" && mkdir -p "$1" && (cd "$1" && go mod init "$2" >/dev/null 2>&1)
}

# version_of BINARY: the version `pulumi version` prints (v-prefixed), or nothing.
pulumi_version_of() {
  "$1" version 2>/dev/null | head -n1 | tr -d '[:space:]'
}

# cli_usable PATH: a CLI at least as new as the pin (which itself supports the @pulumi/pulumi in use):
# a user's own newer Pulumi is used as it is, without building anything.
cli_usable() {
  local v
  v=$(pulumi_version_of "$1")
  [[ $v == v* ]] && [[ $(printf '%s\n%s\n' "$P_V" "$v" | sort -V | head -n1) == "$P_V" ]]
}

# --- builds (each runs in a fresh bash process through prun, output to its log) --------------------

# prun NAME LOGFILE FN: `step` running FN in a fresh bash process, so that `set -e` holds inside FN
# (step runs its command in an `if`, where errexit would otherwise be ignored).
prun() { step "$1" "$2" "$BASH" "${BASH_SOURCE[0]}" --run "$3"; }

build_cli() {
  local wrap=$BUILD_DIR/pulumi-$P_V
  new_wrapper "$wrap" egov.local/pulumi-cli
  cd "$wrap"
  local gomod
  gomod=$(go_mod_file "github.com/pulumi/pulumi/pkg/v3@$P_V")
  copy_replaces "$gomod"
  go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$P_V" "github.com/pulumi/pulumi/sdk/v3@$P_V"
  mkdir -p "$CLI_DIR/bin.new"
  go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$P_V" \
    -o "$CLI_DIR/bin.new/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  "$CLI_DIR/bin.new/pulumi" version
  rm -rf "${CLI_DIR:?}/bin" && mv "$CLI_DIR/bin.new" "$CLI_DIR/bin"
  cd / && rm -rf "$wrap"
}

build_language_nodejs() {
  local wrap=$BUILD_DIR/pulumi-language-nodejs-$LANG_V
  new_wrapper "$wrap" egov.local/pulumi-language-nodejs
  cd "$wrap"
  local gomod
  gomod=$(go_mod_file "github.com/pulumi/pulumi/sdk/v3@$LANG_V")
  copy_replaces "$gomod"
  go get "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@$LANG_V"
  mkdir -p "$LANG_DIR/bin.new"
  go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANG_V" \
    -o "$LANG_DIR/bin.new/pulumi-language-nodejs" \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  rm -rf "${LANG_DIR:?}/bin" && mv "$LANG_DIR/bin.new" "$LANG_DIR/bin"
  cd / && rm -rf "$wrap"
}

build_kubernetes_provider() {
  local mod=github.com/pulumi/pulumi-kubernetes/provider/v4 src=$BUILD_DIR/pulumi-kubernetes-v$K8S_PLUGIN_V
  # main.go embeds files generated from schema.json: build in a writable copy of the module.
  local moddir
  moddir=$(go_mod_dir "$mod@$PULUMI_KUBERNETES_MODULE_VERSION")
  rm -rf "$src" && cp -r "$moddir" "$src"
  chmod -R u+w "$src"
  cd "$src"
  go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4   # => ../sdk, not in the zip
  (cd cmd/pulumi-resource-kubernetes && VERSION=$K8S_PLUGIN_V go run ./generate.go)
  mkdir -p "$K8S_DIR/bin.new"
  go build -trimpath \
    -ldflags "-s -w -X $mod/pkg/version.Version=$K8S_PLUGIN_V" \
    -o "$K8S_DIR/bin.new/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  rm -rf "${K8S_DIR:?}/bin" && mv "$K8S_DIR/bin.new" "$K8S_DIR/bin"
  cd / && rm -rf "$src"
}

build_random_provider() {
  local src=$BUILD_DIR/pulumi-random-v$RANDOM_PLUGIN_V
  local bridge=github.com/pulumi/pulumi-terraform-bridge/v3@$PULUMI_TERRAFORM_BRIDGE_VERSION
  local tfrandom=github.com/terraform-providers/terraform-provider-random
  local shim=$tfrandom/shim
  local ldflags="-s -w -X egov.local/pulumi-random/provider.Version=$RANDOM_PLUGIN_V"
  rm -rf "$src" && mkdir -p "$src" && cp -r "$RANDOM_SRC/." "$src/"
  cd "$src/shim"
  go mod init "$shim"
  go get "$tfrandom@$PULUMI_RANDOM_TF_PROVIDER_VERSION"
  go mod tidy
  cd "$src"
  go mod init egov.local/pulumi-random
  go mod edit -require="$shim@v0.0.0" -replace="$shim=./shim"
  local gomod upstream
  gomod=$(go_mod_file "$bridge")
  copy_replaces "$gomod"
  go mod edit -replace="github.com/hashicorp/terraform-plugin-sdk/v2=$PULUMI_TERRAFORM_PLUGIN_SDK_FORK"
  go get "$bridge"
  go mod tidy
  # tfgen writes schema.json and bridge-metadata.json, which the plugin embeds. Docs come from the
  # provider's module; examples are not converted (that would look for plugins on the network).
  go build -trimpath -ldflags "$ldflags" -o "$src/pulumi-tfgen-random" ./cmd/pulumi-tfgen-random
  local gen=$src/cmd/pulumi-resource-random
  upstream=$(go_mod_dir "$tfrandom@$PULUMI_RANDOM_TF_PROVIDER_VERSION")
  UPSTREAM_REPO_PATH=$upstream "$src/pulumi-tfgen-random" schema --skip-examples --out "$gen"
  test -s "$gen/schema.json" && test -s "$gen/bridge-metadata.json"
  mkdir -p "$RANDOM_DIR/bin.new"
  go build -trimpath -ldflags "$ldflags" -o "$RANDOM_DIR/bin.new/pulumi-resource-random" ./cmd/pulumi-resource-random
  rm -rf "${RANDOM_DIR:?}/bin" && mv "$RANDOM_DIR/bin.new" "$RANDOM_DIR/bin"
  cd / && rm -rf "$src"
}

build_policy_launcher() {
  local wrap=$BUILD_DIR/pulumi-analyzer-policy-$P_V
  new_wrapper "$wrap" egov.local/pulumi-analyzer-policy
  cp "$POLICY_SRC/main.go" "$wrap/"
  cd "$wrap"
  go get "github.com/pulumi/pulumi/sdk/v3@$P_V"
  mkdir -p "$POLICY_LAUNCHER_DIR/bin.new"
  go build -trimpath -ldflags "-s -w" -o "$POLICY_LAUNCHER_DIR/bin.new/pulumi-analyzer-policy" .
  rm -rf "${POLICY_LAUNCHER_DIR:?}/bin" && mv "$POLICY_LAUNCHER_DIR/bin.new" "$POLICY_LAUNCHER_DIR/bin"
  cd / && rm -rf "$wrap"
}

# plugin_installed KIND NAME VERSION: true when `pulumi plugin ls` lists it.
plugin_installed() {
  pulumi plugin ls --json 2>/dev/null |
    jq -e --arg k "$1" --arg n "$2" --arg v "$3" \
      'any(.[]?; .kind == $k and .name == $n and (.version | ltrimstr("v")) == $v)' >/dev/null
}

# install_plugin NAME VERSION BINARY: registers BINARY in $PULUMI_HOME unless that very binary is
# already registered there (a different one of that version is replaced).
install_plugin() {
  local name=$1 ver=$2 bin=$3
  local dest=$PULUMI_HOME_DIR/plugins/resource-$name-v$ver/pulumi-resource-$name
  if plugin_installed resource "$name" "$ver" && cmp -s "$bin" "$dest"; then
    return 0
  fi
  step "register plugin resource $name $ver" "$LOG_DIR/pulumi-plugin-$name.log" \
    pulumi plugin install resource "$name" "$ver" --file "$bin" --reinstall
  plugin_installed resource "$name" "$ver" || die "pulumi plugin ls does not show resource $name $ver"
}

# cached_or_build BIN LABEL SOURCE BUILD_FN LOG_NAME: BIN if it is there, else built by BUILD_FN (logged as
# "build LABEL (SOURCE)" into $LOG_DIR/LOG_NAME.log).
cached_or_build() {
  local bin=$1 label=$2 source=$3 build=$4 logname=$5
  if [[ -x $bin ]]; then
    log "$label: cached in $(dirname "$bin")"
  else
    pulumi_go_env
    prun "build $label ($source)" "$LOG_DIR/$logname.log" "$build"
  fi
}

# ensure_plugin NAME VERSION DIR BUILD_FN SOURCE: the cached build, else what $PULUMI_HOME already has at
# that version (e.g. the official plugin of a Pulumi user), else build and register it.
ensure_plugin() {
  local name=$1 ver=$2 dir=$3 build=$4 source=$5 bin=$3/bin/pulumi-resource-$1
  if [[ ! -x $bin ]] && plugin_installed resource "$name" "$ver"; then
    log "plugin resource $name $ver: already installed in $PULUMI_HOME_DIR"
    return 0
  fi
  cached_or_build "$bin" "pulumi-resource-$name $ver" "$source" "$build" "pulumi-resource-$name"
  install_plugin "$name" "$ver" "$bin"
}

pulumi_toolchain() {
  pulumi_vars
  command -v jq >/dev/null || die "jq is required (apt-get install jq)"
  mkdir -p "$TOOLCHAIN_DIR" "$BIN_DIR" "$LOG_DIR" "$BUILD_DIR"

  # 1. The CLI and the Node.js language host (which must sit next to it). $CLI_DIR/bin/pulumi is
  #    either our build (a file) or a link to an installed CLI of the pinned version.
  local found
  found=$(command -v pulumi 2>/dev/null || true)
  if [[ -L $CLI_DIR/bin/pulumi ]] && cli_usable "$CLI_DIR/bin/pulumi" \
        && [[ -x $CLI_DIR/bin/pulumi-language-nodejs ]]; then
    log "pulumi $(pulumi_version_of "$CLI_DIR/bin/pulumi"): using the installed CLI in $(dirname "$(readlink -f "$CLI_DIR/bin/pulumi")")"
  elif [[ ! -f $CLI_DIR/bin/pulumi && -n $found \
          && $(readlink -f "$found") != "$(readlink -f "$BIN_DIR/pulumi" 2>/dev/null)" \
          && -x "$(dirname "$(readlink -f "$found")")/pulumi-language-nodejs" ]] && cli_usable "$found"; then
    local from
    from=$(dirname "$(readlink -f "$found")")
    log "pulumi $(pulumi_version_of "$found") (pinned $P_V or newer): using the installed CLI in $from"
    rm -rf "${CLI_DIR:?}/bin" && mkdir -p "$CLI_DIR/bin"
    ln -sfn "$from/pulumi" "$CLI_DIR/bin/pulumi"
    ln -sfn "$from/pulumi-language-nodejs" "$CLI_DIR/bin/pulumi-language-nodejs"
  else
    if [[ -f $CLI_DIR/bin/pulumi && ! -L $CLI_DIR/bin/pulumi \
          && $(pulumi_version_of "$CLI_DIR/bin/pulumi") == "$P_V" ]]; then
      log "pulumi $P_V: cached in $CLI_DIR/bin"
    else
      pulumi_go_env
      prun "build pulumi $P_V (github.com/pulumi/pulumi/pkg/v3)" "$LOG_DIR/pulumi-cli.log" build_cli
    fi
    cached_or_build "$LANG_DIR/bin/pulumi-language-nodejs" "pulumi-language-nodejs $LANG_V" \
      "github.com/pulumi/pulumi/sdk/v3@$LANG_V" build_language_nodejs pulumi-language-nodejs
    # A file, not a symlink: the CLI warns when the language host it finds on PATH does not resolve
    # to the one next to the (resolved) pulumi binary.
    ln -f "$LANG_DIR/bin/pulumi-language-nodejs" "$CLI_DIR/bin/pulumi-language-nodejs" 2>/dev/null ||
      cp -f "$LANG_DIR/bin/pulumi-language-nodejs" "$CLI_DIR/bin/pulumi-language-nodejs"
  fi
  ln -sfn "$CLI_DIR/bin/pulumi" "$BIN_DIR/pulumi"
  ln -sfn "$CLI_DIR/bin/pulumi-language-nodejs" "$BIN_DIR/pulumi-language-nodejs"
  export PATH=$BIN_DIR:$PATH

  # The policy pack launcher (policy/analyzer runs it), rebuilt when main.go or the CLI version changes.
  cached_or_build "$POLICY_LAUNCHER_DIR/bin/pulumi-analyzer-policy" pulumi-analyzer-policy \
    "policy pack launcher, github.com/pulumi/pulumi/sdk/v3@$P_V" build_policy_launcher pulumi-analyzer-policy
  ln -sfn "$POLICY_LAUNCHER_DIR/bin/pulumi-analyzer-policy" "$BIN_DIR/pulumi-analyzer-policy"

  # 2. Resource plugins: use what $PULUMI_HOME has at the pinned version (e.g. the official
  #    plugins of a Pulumi user), else build and register them.
  mkdir -p "$PULUMI_HOME_DIR"
  ensure_plugin kubernetes "$K8S_PLUGIN_V" "$K8S_DIR" build_kubernetes_provider "github.com/pulumi/pulumi-kubernetes/provider/v4"
  ensure_plugin random "$RANDOM_PLUGIN_V" "$RANDOM_DIR" build_random_provider "Terraform random provider, bridged"

  log "pulumi: $(pulumi version) in $BIN_DIR; plugins in $PULUMI_HOME_DIR:"
  pulumi plugin ls 2>&1 | sed 's/^/    /' >&2
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  if [[ ${1:-} == --run ]]; then   # prun's child: one build function
    pulumi_vars
    pulumi_go_env
    "$2"
  else
    pulumi_toolchain
  fi
fi
