#!/usr/bin/env bash
# Takes an Elasticsearch snapshot into the shared-filesystem repository `offsite` (path.repo, on a volume the
# snapshot job also mounts) and deletes the oldest beyond $RETENTION; the job's next container mirrors the
# repository to the object store (offsite.sh mirror). Runs in the Elasticsearch image (curl).
#
#   ES_URL=http://elasticsearch:9200 REPO_PATH=/usr/share/elasticsearch/snapshots RETENTION=14 es-snapshot.sh
#
# Restore: copy the mirror back into the repository directory, register it (same PUT as below) and
# POST _snapshot/offsite/<name>/_restore (docs/day-2.md).
set -euo pipefail
ES_URL=${ES_URL:-http://elasticsearch:9200}
REPO_PATH=${REPO_PATH:?REPO_PATH is not set}
RETENTION=${RETENTION:-14}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*"; }
[[ $RETENTION =~ ^[1-9][0-9]*$ ]] || die "RETENTION must be a whole number of at least 1, not '$RETENTION'"
es() { curl -sS --fail-with-body --max-time 3600 -H 'Content-Type: application/json' "$@"; }

out=$(es -X PUT "$ES_URL/_snapshot/offsite" -d "{\"type\":\"fs\",\"settings\":{\"location\":\"$REPO_PATH\"}}" 2>&1) ||
  die "cannot register the snapshot repository at $ES_URL: $out"
name=nightly-$(date -u +%Y%m%dt%H%M%Sz)
out=$(es -X PUT "$ES_URL/_snapshot/offsite/$name?wait_for_completion=true" -d '{"indices":"*","include_global_state":true}' 2>&1) ||
  die "snapshot $name failed: $out"
[[ $out == *'"state":"SUCCESS"'* ]] || die "snapshot $name did not succeed: $out"
log "snapshot $name taken"
# Names sort by time; the repository's own delete keeps every remaining snapshot whole.
mapfile -t names < <(es "$ES_URL/_cat/snapshots/offsite?h=id" | grep '^nightly-' | sort)
while (( ${#names[@]} > RETENTION )); do
  es -X DELETE "$ES_URL/_snapshot/offsite/${names[0]}" >/dev/null || die "could not delete snapshot ${names[0]}"
  log "deleted old snapshot ${names[0]}"
  names=("${names[@]:1}")
done
