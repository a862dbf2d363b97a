#!/usr/bin/env bash
# Takes an OpenSearch snapshot into the shared-filesystem repository `offsite` (path.repo, on a volume the
# snapshot job also mounts) and deletes the oldest beyond $RETENTION; the job's next container mirrors the
# repository to the object store (offsite.sh mirror). Runs in the OpenSearch image (curl), as the security
# plugin's snapshot user (role manage_snapshots), over TLS verified against the CA of OpenSearch's certificate.
#
#   OS_URL=https://opensearch:9200 OS_USER=snapshot OS_PASSWORD=... OS_CACERT=/ca/ca.crt \
#     REPO_PATH=/usr/share/opensearch/snapshots RETENTION=14 opensearch-snapshot.sh
#
# Restore: copy the mirror back into the repository directory, register it (same PUT as below) and
# POST _snapshot/offsite/<name>/_restore as admin (docs/day-2.md).
set -euo pipefail
OS_URL=${OS_URL:-https://opensearch:9200}
OS_USER=${OS_USER:?OS_USER is not set}
OS_PASSWORD=${OS_PASSWORD:?OS_PASSWORD is not set}
OS_CACERT=${OS_CACERT:?OS_CACERT is not set}
REPO_PATH=${REPO_PATH:?REPO_PATH is not set}
RETENTION=${RETENTION:-14}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*"; }
[[ $RETENTION =~ ^[1-9][0-9]*$ ]] || die "RETENTION must be a whole number of at least 1, not '$RETENTION'"
[[ -r $OS_CACERT ]] || die "cannot read the CA certificate $OS_CACERT"
# The password goes to curl on stdin (a config line), never on its command line.
os() { printf 'user = "%s:%s"\n' "$OS_USER" "$OS_PASSWORD" | curl -sS --fail-with-body --max-time 3600 --cacert "$OS_CACERT" -K - -H 'Content-Type: application/json' "$@"; }

out=$(os -X PUT "$OS_URL/_snapshot/offsite" -d "{\"type\":\"fs\",\"settings\":{\"location\":\"$REPO_PATH\"}}" 2>&1) ||
  die "cannot register the snapshot repository at $OS_URL: $out"
name=nightly-$(date -u +%Y%m%dt%H%M%Sz)
# The security plugin's own index is not restorable into another cluster: it stays out (the users come from the stack).
out=$(os -X PUT "$OS_URL/_snapshot/offsite/$name?wait_for_completion=true" -d '{"indices":"*,-.opendistro_security","include_global_state":false}' 2>&1) ||
  die "snapshot $name failed: $out"
[[ $out == *'"state":"SUCCESS"'* ]] || die "snapshot $name did not succeed: $out"
log "snapshot $name taken"
# Names sort by time; the repository's own delete keeps every remaining snapshot whole.
mapfile -t names < <(os "$OS_URL/_cat/snapshots/offsite?h=id" | grep '^nightly-' | sort)
while (( ${#names[@]} > RETENTION )); do
  os -X DELETE "$OS_URL/_snapshot/offsite/${names[0]}" >/dev/null || die "could not delete snapshot ${names[0]}"
  log "deleted old snapshot ${names[0]}"
  names=("${names[@]:1}")
done
