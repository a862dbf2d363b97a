#!/usr/bin/env bash
# Restore drill: restores the newest backup (or $DRILL_BACKUP, a backup directory) into scratch databases
# (<DRILL_PREFIX><database>), checks them against the backup's own MANIFEST (the base tables and each one's
# rows) and SHA256SUMS, drops them, and exits non-zero naming every problem. Run by the mysql-restore-drill
# CronJob with a user that may create databases (root); the tests run it against a real server.
#
#   BACKUP_DIR=/backup MYSQL_USER=root MYSQL_PASSWORD=... drill.sh
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DRILL_PREFIX=${DRILL_PREFIX:-drill_}
[[ $DRILL_PREFIX =~ ^[A-Za-z_][A-Za-z0-9_]{0,15}$ ]] || die "DRILL_PREFIX must be a short identifier prefix, not '$DRILL_PREFIX'"

dir=${DRILL_BACKUP:-$(backups | tail -n 1)}
[[ -n $dir ]] || die "drill failed: no backup found in $BACKUP_DIR"
[[ -f $dir/MANIFEST && -f $dir/SHA256SUMS ]] || die "drill failed: $dir has no MANIFEST or SHA256SUMS (not a backup made by backup.sh)"
name=$(basename "$dir")
log "drill: backup $name"

# 1. The files are those the backup wrote.
bad=$(cd "$dir" && { sha256sum -c SHA256SUMS 2>/dev/null || true; } | grep -v ': OK$' || true)
[[ -z $bad ]] || die "drill failed: backup $name does not match its checksums: $(tr '\n' ' ' <<<"$bad")"

connect
scratch=()
cleanup() {
  local s
  for s in "${scratch[@]}"; do sql "DROP DATABASE IF EXISTS \`$s\`" || printf 'warning: could not drop scratch database %s\n' "$s" >&2; done
  rm -f "$CNF"
}
trap cleanup EXIT

read -r -a dbs <<<"$(sed -n 's/^databases=//p' "$dir/MANIFEST")"
[[ ${#dbs[@]} -gt 0 ]] || die "drill failed: MANIFEST of $name names no databases"
problems=() tables=0 rows=0
for db in "${dbs[@]}"; do
  [[ $db =~ $DB_RE ]] || die "drill failed: MANIFEST names '$db', not a database name"
  file=$dir/$db.sql.gz
  if ! verify_dump "$file"; then problems+=("$db: the dump is damaged or incomplete"); continue; fi
  s=${DRILL_PREFIX}${db}
  scratch+=("$s")
  sql "DROP DATABASE IF EXISTS \`$s\`; CREATE DATABASE \`$s\`"
  if ! err=$(load_dump "$file" "$s" 2>&1); then
    problems+=("$db: loading the dump failed: $(tail -n 1 <<<"$err")"); continue
  fi
  # 2. Tables and rows against the manifest.
  declare -A want=()
  for tc in $(sed -n "s/^tables\.$db=//p" "$dir/MANIFEST"); do want[${tc%:*}]=${tc##*:}; done
  have=$(sql "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$s' AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME" | words)
  wanted=$(printf '%s\n' "${!want[@]}" | sort | words)
  [[ $have == "$wanted" ]] || problems+=("$db: tables restored ($have) are not the manifest's ($wanted)")
  for t in "${!want[@]}"; do
    n=$(sql "SELECT COUNT(*) FROM \`$s\`.\`$t\`" 2>/dev/null || echo missing)
    if [[ $n == "${want[$t]}" ]]; then tables=$((tables + 1)); rows=$((rows + n))
    else problems+=("$db.$t: $n rows restored, the manifest says ${want[$t]}"); fi
  done
  unset want
  log "drill: $db restored into $s and checked"
done

for s in "${scratch[@]}"; do sql "DROP DATABASE IF EXISTS \`$s\`"; done
scratch=()
if [[ ${#problems[@]} -gt 0 ]]; then
  printf 'error: drill FAILED for backup %s:\n' "$name" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
log "drill passed: backup $name, ${#dbs[@]} databases, $tables tables, $rows rows as in its manifest; scratch databases dropped"
