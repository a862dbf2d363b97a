#!/bin/sh
# Copies backups to S3-compatible object storage off the cluster, and back. POSIX sh: it runs in the rclone
# image (the backup CronJob's second container, the restore and drill pods' first), and in the tests.
#
#   offsite.sh upload              the newest backup in $BACKUP_DIR to <bucket>/<prefix>/mysql/<name>/, then
#                                  keeps the newest $OFFSITE_RETENTION complete copies there
#   offsite.sh list                the complete copies, oldest first
#   offsite.sh fetch NAME|latest DIR   one copy into DIR/<name>/, checked against its SHA256SUMS
#   offsite.sh mirror DIR KIND     DIR made equal to <prefix>/<KIND>/ (OpenSearch's snapshot repository,
#                                  whose own retention deletes old snapshots)
#   offsite.sh archive DIR KIND    DIR as <prefix>/<KIND>/<time>.tar.gz (Jenkins' home, without workspaces and
#                                  caches), keeping the newest $OFFSITE_RETENTION archives
#
# Settings (env): OFFSITE_ENDPOINT, OFFSITE_BUCKET, OFFSITE_PREFIX, OFFSITE_REGION, OFFSITE_RETENTION,
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (from the Secret the agency creates), OFFSITE_CA (a CA bundle file).
# A copy is complete when its SHA256SUMS is there: it is uploaded last. A failed upload exits non-zero and
# deletes nothing; old copies are removed only after a new one is complete and checked.
set -eu

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
STAMP_RE='^[0-9]{8}T[0-9]{6}(\.[0-9]+)?Z$'
BACKUP_DIR=${BACKUP_DIR:-/backup}
: "${OFFSITE_ENDPOINT:?OFFSITE_ENDPOINT is not set}" "${OFFSITE_BUCKET:?OFFSITE_BUCKET is not set}"
[ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] ||
  die "no object store credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY come from the Secret named in backup.offsite.credentialsSecretName"
RETENTION=${OFFSITE_RETENTION:-30}
case $RETENTION in ''|*[!0-9]*|0) die "OFFSITE_RETENTION must be a whole number of at least 1, not '$RETENTION'" ;; esac

# rclone's S3 backend, configured from the environment only (no config file, nothing on the command line).
export RCLONE_CONFIG_OFFSITE_TYPE=s3 RCLONE_CONFIG_OFFSITE_PROVIDER=Other RCLONE_CONFIG_OFFSITE_ENV_AUTH=true \
  RCLONE_CONFIG_OFFSITE_ENDPOINT="$OFFSITE_ENDPOINT" RCLONE_CONFIG_OFFSITE_REGION="${OFFSITE_REGION:-us-east-1}" \
  RCLONE_CONFIG_OFFSITE_FORCE_PATH_STYLE=true RCLONE_CONFIG=/dev/null
[ -z "${OFFSITE_CA:-}" ] || { [ -r "$OFFSITE_CA" ] || die "CA bundle $OFFSITE_CA is not readable"; export RCLONE_CA_CERT="$OFFSITE_CA"; }
# Fail in seconds, not after rclone's default ten retries: a backup job that cannot reach the store should say so
# (the Job's own retries come on top). RCLONE_RETRIES / RCLONE_LOW_LEVEL_RETRIES in the environment win.
export RCLONE_RETRIES="${RCLONE_RETRIES:-2}" RCLONE_LOW_LEVEL_RETRIES="${RCLONE_LOW_LEVEL_RETRIES:-3}"
rc() { rclone --contimeout 10s --timeout 120s --s3-no-check-bucket "$@"; }

# prune LIST WHAT VERB PARENT: deletes the oldest entries of LIST (sorted, one per line) beyond $RETENTION with
# `rclone VERB PARENT/<entry>`; called only after a new copy is complete.
prune() {
  count=$(printf '%s\n' "$1" | grep -c . || true)
  [ "$count" -gt "$RETENTION" ] || return 0
  for old in $(printf '%s\n' "$1" | head -n "$((count - RETENTION))"); do
    rc "$3" "$4/$old" || die "could not delete the old $2 $old"
    log "removed old $2 $old from $OFFSITE_BUCKET"
  done
}
remote="offsite:$OFFSITE_BUCKET/${OFFSITE_PREFIX:+$OFFSITE_PREFIX/}mysql"

# why OUTPUT: rclone's last error line, without its time stamp and request ids.
why() {
  printf '%s\n' "$1" | grep -E 'ERROR|CRITICAL|Failed' | tail -n 1 |
    sed -e 's|^[0-9/]* [0-9:]* [A-Z]* *: *||' -e 's|RequestID: [^,]*, HostID: [^,]*, ||'
}

# Complete copies (those with SHA256SUMS), oldest first. A failure to list is an error, never "no copies".
copies() {
  out=$(rc lsf -R --files-only "$remote" 2>&1) || die "cannot list $OFFSITE_ENDPOINT bucket $OFFSITE_BUCKET: $(why "$out")"
  printf '%s\n' "$out" | sed -n 's|/SHA256SUMS$||p' | grep -E "$STAMP_RE" | sort || true
}

root="offsite:$OFFSITE_BUCKET${OFFSITE_PREFIX:+/$OFFSITE_PREFIX}"

case ${1:-} in
  mirror)
    dir=${2:-}; kind=${3:-}
    [ -d "$dir" ] && [ -n "$kind" ] || die "usage: offsite.sh mirror DIR KIND (DIR must exist)"
    [ -n "$(ls -A "$dir")" ] || die "$dir is empty: nothing to mirror (and an empty mirror would delete every copy)"
    out=$(rc sync "$dir" "$root/$kind" 2>&1) ||
      die "mirroring $dir to $OFFSITE_ENDPOINT bucket $OFFSITE_BUCKET failed: $(why "$out"); what was there before is unchanged or partly updated, never emptied"
    log "mirrored $dir to $OFFSITE_BUCKET/${OFFSITE_PREFIX:+$OFFSITE_PREFIX/}$kind/ ($(find "$dir" -type f | wc -l) files)"
    ;;
  archive)
    dir=${2:-}; kind=${3:-}
    [ -d "$dir" ] && [ -n "$kind" ] || die "usage: offsite.sh archive DIR KIND (DIR must exist)"
    name=$(date -u +%Y%m%dT%H%M%SZ).tar.gz
    failed=$(mktemp "${TMPDIR:-/tmp}/archive.XXXXXX")
    # Streamed under .partial/ and moved into place (a server-side copy) only when tar succeeded: a listed
    # archive is a whole one. No pipefail in every sh: tar's status goes through a file.
    { tar -C "$dir" --exclude=./workspace --exclude=./caches -czf - . || echo "tar exited $?" >"$failed"; } |
      rc rcat "$root/$kind/.partial/$name" 2>"$failed.rclone" || echo "upload: $(why "$(cat "$failed.rclone")")" >>"$failed"
    if [ -s "$failed" ]; then
      rc deletefile "$root/$kind/.partial/$name" >/dev/null 2>&1 || true
      die "archiving $dir to $OFFSITE_ENDPOINT bucket $OFFSITE_BUCKET failed ($(tr '\n' ' ' <"$failed")); earlier archives are untouched"
    fi
    out=$(rc moveto "$root/$kind/.partial/$name" "$root/$kind/$name" 2>&1) || die "storing archive $name failed: $(why "$out")"
    rm -f "$failed" "$failed.rclone"
    log "archived $dir to $OFFSITE_BUCKET/${OFFSITE_PREFIX:+$OFFSITE_PREFIX/}$kind/$name"
    out=$(rc lsf --files-only "$root/$kind" 2>&1) || die "cannot list $kind archives: $(why "$out")"
    prune "$(printf '%s\n' "$out" | grep -E '^[0-9]{8}T[0-9]{6}Z\.tar\.gz$' | sort || true)" "archive" deletefile "$root/$kind"
    ;;
  upload)
    name=""
    for d in "$BACKUP_DIR"/*/; do
      d=${d%/}; b=$(basename "$d")
      if printf '%s\n' "$b" | grep -Eq "$STAMP_RE" && [ -f "$d/SHA256SUMS" ]; then name=$b; fi
    done
    [ -n "$name" ] || die "no finished backup in $BACKUP_DIR to upload"
    (cd "$BACKUP_DIR/$name" && sha256sum -c SHA256SUMS >/dev/null 2>&1) || die "backup $name does not match its SHA256SUMS; not uploaded"
    existing=$(copies)
    if printf '%s\n' "$existing" | grep -qx "$name"; then
      log "backup $name is already in $OFFSITE_BUCKET"
    else
      out=$(rc copy --exclude SHA256SUMS "$BACKUP_DIR/$name" "$remote/$name" 2>&1) ||
        die "uploading backup $name to $OFFSITE_ENDPOINT bucket $OFFSITE_BUCKET failed: $(why "$out"); earlier copies are untouched"
      # Sizes and hashes of what landed, before the copy is marked complete.
      out=$(rc check --one-way --exclude SHA256SUMS "$BACKUP_DIR/$name" "$remote/$name" 2>&1) ||
        die "the uploaded copy of $name differs from the backup: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' '); earlier copies are untouched"
      out=$(rc copyto "$BACKUP_DIR/$name/SHA256SUMS" "$remote/$name/SHA256SUMS" 2>&1) ||
        die "uploading the checksums of $name failed: $(why "$out")"
      log "uploaded backup $name to $OFFSITE_BUCKET/${OFFSITE_PREFIX:+$OFFSITE_PREFIX/}mysql/$name/ ($(($(wc -l <"$BACKUP_DIR/$name/SHA256SUMS") + 1)) files, checked)"
      existing=$(copies)
    fi
    prune "$existing" "copy" purge "$remote"
    ;;
  list)
    copies
    ;;
  fetch)
    name=${2:-}; dir=${3:-}
    [ -n "$name" ] && [ -n "$dir" ] || die "usage: offsite.sh fetch NAME|latest DIR"
    all=$(copies)
    [ "$name" = latest ] && name=$(printf '%s\n' "$all" | tail -n 1)
    [ -n "$name" ] || die "no complete copy in $OFFSITE_BUCKET"
    printf '%s\n' "$all" | grep -qx "$name" || die "no complete copy named $name in $OFFSITE_BUCKET (copies: $(printf '%s' "$all" | tr '\n' ' '))"
    out=$(rc copy "$remote/$name" "$dir/$name" 2>&1) || die "downloading $name failed: $(why "$out")"
    (cd "$dir/$name" && sha256sum -c SHA256SUMS >/dev/null 2>&1) || die "the copy of $name in $OFFSITE_BUCKET does not match its SHA256SUMS"
    log "fetched backup $name into $dir/$name (checksums match)"
    ;;
  *) die "usage: offsite.sh upload | list | fetch NAME|latest DIR | mirror DIR KIND | archive DIR KIND" ;;
esac
