# Shared helpers for the project's shell scripts. Source it; do not run it.
# shellcheck shell=bash

EGOV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export EGOV_ROOT

# Everything built or downloaded lives outside the clone, so a fresh clone (CI) reuses it.
EGOV_CACHE=${EGOV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/egov-platform}
export EGOV_CACHE

# Pinned versions: the one place they are written.
# shellcheck source=../toolchain/versions.env
. "$EGOV_ROOT/toolchain/versions.env"

log()  { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# step NAME LOGFILE CMD...: runs CMD with its output in LOGFILE, prints how long it took,
# and on failure names the step and the log.
step() {
  local name=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$logfile")"
  local start=$SECONDS
  log "$name ..."
  if "$@" >"$logfile" 2>&1; then
    log "$name done in $((SECONDS - start))s"
  else
    tail -n 30 "$logfile" >&2 || true
    die "$name failed after $((SECONDS - start))s; full log: $logfile"
  fi
}

# The state backend and secrets passphrase of deploy/drift: $PULUMI_BACKEND_URL if set (or a `pulumi login`),
# else a local file backend in $EGOV_CACHE/state; $PULUMI_CONFIG_PASSPHRASE(_FILE) if set, else one generated
# once in $EGOV_CACHE/passphrase. Needs pulumi on PATH (source scripts/env.sh first).
use_state_backend() {
  if [[ -z ${PULUMI_BACKEND_URL:-} ]] && ! pulumi whoami >/dev/null 2>&1; then
    mkdir -p "$EGOV_CACHE/state"
    export PULUMI_BACKEND_URL="file://$EGOV_CACHE/state"
  fi
  if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
    if [[ ! -s $EGOV_CACHE/passphrase ]]; then
      mkdir -p "$EGOV_CACHE"   # a fresh machine logged in to a backend has no cache directory yet
      (umask 077; head -c 32 /dev/urandom | base64 > "$EGOV_CACHE/passphrase")
      log "generated a passphrase for the local secrets provider: $EGOV_CACHE/passphrase (keep it: it decrypts the state)"
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$EGOV_CACHE/passphrase"
  fi
  log "state backend: $(state_backend_shown)"
}

# The state backend's URL for messages: a password in it (postgres://user:password@host/db) is never printed.
state_backend_shown() {
  printf '%s' "${PULUMI_BACKEND_URL:-$(pulumi whoami --verbose 2>/dev/null | sed -n 's/^Backend URL: //p')}" |
    sed -E 's#^([a-z0-9+]+://)[^/@]*@#\1****@#'
}
