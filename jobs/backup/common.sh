# Shared by backup.sh and restore.sh (sourced; in the cluster all three come from one ConfigMap).
# Connection and credentials come from the environment, never from arguments (which `ps` shows):
#   MYSQL_HOST (mysql), MYSQL_PORT (3306), MYSQL_USER, MYSQL_PASSWORD, BACKUP_DIR (/backup)
# shellcheck shell=bash

MYSQL_HOST=${MYSQL_HOST:-mysql}
MYSQL_PORT=${MYSQL_PORT:-3306}
BACKUP_DIR=${BACKUP_DIR:-/backup}
# A finished backup is a directory named by its UTC start time; anything else in BACKUP_DIR is not one.
STAMP_RE='^[0-9]{8}T[0-9]{6}(\.[0-9]+)?Z$'
DB_RE='^[A-Za-z_][A-Za-z0-9_]{0,63}$'

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*"; }
stamp() { date -u +%Y%m%dT%H%M%S.%3NZ; }

# Writes the credentials to a private option file (removed on exit) and checks the server answers.
connect() {
  [[ -n ${MYSQL_USER:-} ]] || die "MYSQL_USER is not set"
  [[ -n ${MYSQL_PASSWORD:-} ]] || die "MYSQL_PASSWORD is not set"
  CNF=$(umask 077 && mktemp "${TMPDIR:-/tmp}/mysql-client.XXXXXX")
  trap 'rm -f "$CNF"' EXIT
  printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword="%s"\nprotocol=tcp\n' \
    "$MYSQL_HOST" "$MYSQL_PORT" "$MYSQL_USER" "$MYSQL_PASSWORD" >"$CNF"
  local err
  if ! err=$(sql "SELECT 1" 2>&1 >/dev/null); then
    die "cannot connect to MySQL at $MYSQL_HOST:$MYSQL_PORT as $MYSQL_USER: ${err:-no answer}"
  fi
}

# sql QUERY: runs QUERY, prints rows tab-separated without a header.
sql() { mysql --defaults-extra-file="$CNF" --connect-timeout=10 --batch --skip-column-names -e "$1"; }

# Names are checked against DB_RE before they get here.
database_exists() { [[ -n $(sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$1'") ]]; }
databases() { sql "SHOW DATABASES" | words; }
# Lines to one space-separated line.
words() { tr '\n' ' ' | sed 's/ *$//'; }

# dump_to DB FILE: a consistent dump of one database, gzip-compressed, verified complete. One INSERT per row
# (--skip-extended-insert): the dump's own row counts (table_counts) are then exact, for the manifest the
# restore drill checks against; gzip takes back most of the extra size.
dump_to() {
  local db=$1 file=$2
  mysqldump --defaults-extra-file="$CNF" --single-transaction --quick --routines --triggers \
    --events --hex-blob --no-tablespaces --skip-extended-insert --default-character-set=utf8mb4 "$db" | gzip -c >"$file" \
    || die "dumping $db failed (see above)"
  verify_dump "$file" || die "the dump of $db in $file is incomplete"
}

# load_dump FILE DB: loads a dump made by backup.sh (or by mysqldump 5.7: the move to 8.4) into DB. mysqldump 5.7
# writes the sql_mode of triggers, routines and events with NO_AUTO_CREATE_USER, which MySQL 8.0 removed (setting
# it fails the load): on a server without the mode it is dropped from those lines; nothing else is changed.
load_dump() {
  if sql "SET SESSION sql_mode = 'NO_AUTO_CREATE_USER'" >/dev/null 2>&1; then
    gzip -dc "$1" | mysql --defaults-extra-file="$CNF" --default-character-set=utf8mb4 "$2"
  else
    gzip -dc "$1" | sed -E "/^\/\*!50003 SET sql_mode += '/{s/,NO_AUTO_CREATE_USER//g;s/NO_AUTO_CREATE_USER,?//g}" |
      mysql --defaults-extra-file="$CNF" --default-character-set=utf8mb4 "$2"
  fi
}

# verify_dump FILE: readable gzip whose last line is mysqldump's completion marker.
verify_dump() {
  gzip -t "$1" 2>/dev/null && gzip -dc "$1" | tail -n 1 | grep -q '^-- Dump completed'
}

# table_counts FILE: "table:rows ..." of the base tables in a dump, from its CREATE TABLE and INSERT lines.
table_counts() {
  gzip -dc "$1" | awk '
    /^CREATE TABLE `/ { t = $3; gsub(/`/, "", t); if (!(t in n)) { n[t] = 0; order[++k] = t } }
    /^INSERT INTO `/ { t = $3; gsub(/`/, "", t); n[t]++ }
    END { for (i = 1; i <= k; i++) printf "%s%s:%d", (i > 1 ? " " : ""), order[i], n[order[i]]; print "" }'
}

# Finished backups, oldest first.
backups() {
  local d
  [[ -d $BACKUP_DIR ]] || return 0
  for d in "$BACKUP_DIR"/*/; do
    d=${d%/}
    if [[ $(basename "$d") =~ $STAMP_RE ]]; then printf '%s\n' "$d"; fi
  done | sort
}

# prune DIR N: keeps the newest N backups under DIR.
prune() {
  local dir=$1 keep=$2 old
  BACKUP_DIR=$dir backups | head -n "-$keep" | while read -r old; do
    rm -rf -- "$old"
    log "removed old backup $old"
  done
}
