#!/usr/bin/env bash
# Dumps the application databases into $BACKUP_DIR/<UTC start time>/<database>.sql.gz (with MANIFEST and
# SHA256SUMS) and keeps the newest
# $RETENTION backups. Run by the mysql-backup CronJob; the tests run it against a real server.
#
#   DATABASES="msaportal reservation" RETENTION=7 MYSQL_USER=... MYSQL_PASSWORD=... backup.sh
#
# A backup becomes visible (its directory renamed into place) only when every database was dumped and
# verified; a failed run leaves the earlier backups as they were and exits non-zero.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DATABASES=${DATABASES:-}
RETENTION=${RETENTION:-7}
read -r -a dbs <<<"${DATABASES//,/ }"
[[ ${#dbs[@]} -gt 0 ]] || die "DATABASES is not set: name the databases to dump"
[[ $RETENTION =~ ^[1-9][0-9]*$ ]] || die "RETENTION must be a whole number of at least 1, not '$RETENTION'"
for db in "${dbs[@]}"; do [[ $db =~ $DB_RE ]] || die "'$db' is not a database name"; done
[[ -d $BACKUP_DIR && -w $BACKUP_DIR ]] || die "backup directory $BACKUP_DIR does not exist or is not writable"

connect
for db in "${dbs[@]}"; do database_exists "$db" || die "database $db does not exist on $MYSQL_HOST (databases: $(databases))"; done

name=$(stamp)
partial=$BACKUP_DIR/.partial-$name
mkdir "$partial"
trap 'rm -f "$CNF"; rm -rf -- "$partial"' EXIT
for db in "${dbs[@]}"; do
  dump_to "$db" "$partial/$db.sql.gz"
  log "dumped $db ($(stat -c %s "$partial/$db.sql.gz") bytes compressed)"
done
# MANIFEST: what the restore drill checks a restore against (tables.<db>=table:rows ...); SHA256SUMS: every
# file's checksum, the last file written (and uploaded), so a copy with it is a complete copy.
{
  printf 'databases=%s\nhost=%s\nserver=%s\n' "${dbs[*]}" "$MYSQL_HOST" "$(sql "SELECT VERSION()")"
  for db in "${dbs[@]}"; do printf 'tables.%s=%s\n' "$db" "$(table_counts "$partial/$db.sql.gz")"; done
} >"$partial/MANIFEST"
(cd "$partial" && sha256sum -- *.sql.gz MANIFEST >SHA256SUMS)
mv "$partial" "$BACKUP_DIR/$name"
log "backup $BACKUP_DIR/$name complete"

prune "$BACKUP_DIR" "$RETENTION"
# Leftovers of runs that were killed mid-way.
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -name '.partial-*' -mmin +60 -exec rm -rf -- {} +
