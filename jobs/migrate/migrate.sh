#!/usr/bin/env bash
# Applies the pending schema migrations, each once, in manifest order. Run by the mysql-migrate-<hash> Job
# (components/migration.ts) with the MySQL image's client, as root; the tests run it against a real server.
#
#   MYSQL_HOST=mysql MYSQL_USER=root MYSQL_PASSWORD=... MIGRATIONS_DIR=/migrations migrate.sh
#
# MIGRATIONS_DIR holds manifest.tsv (version, database, sha256, file, tables it creates or -, name; tab-separated,
# written by config/migrations.ts migrationFiles) and the SQL files. Each database gets a history table
# (HISTORY_TABLE: version, name, checksum, state, applied_at, installed_by). A migration is:
#   - skipped when its version is recorded with the same checksum (a re-run changes nothing);
#   - an error when recorded with another checksum (an applied migration was edited): nothing is applied;
#   - recorded as "baselined" without running when every table it creates exists already (a database filled by
#     hand from the same SQL): its reference rows are not inserted again;
#   - otherwise run (the client stops at the first error) and recorded as "applied".
# Exits non-zero on any failure; what was applied before it stays applied and recorded.
set -euo pipefail
MYSQL_HOST=${MYSQL_HOST:-mysql}
MYSQL_PORT=${MYSQL_PORT:-3306}
MYSQL_USER=${MYSQL_USER:-root}
MIGRATIONS_DIR=${MIGRATIONS_DIR:-/migrations}
HISTORY_TABLE=${HISTORY_TABLE:-egov_schema_history}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*"; }
[[ -n ${MYSQL_PASSWORD:-} ]] || die "MYSQL_PASSWORD is not set"
[[ -f $MIGRATIONS_DIR/manifest.tsv ]] || die "no $MIGRATIONS_DIR/manifest.tsv"
[[ $HISTORY_TABLE =~ ^[A-Za-z0-9_]+$ ]] || die "HISTORY_TABLE must be a plain identifier"

dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/migrate.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# The password goes to an option file, never to an argument (which `ps` shows).
printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword="%s"\nprotocol=tcp\ndefault-character-set=utf8mb4\n' \
  "$MYSQL_HOST" "$MYSQL_PORT" "$MYSQL_USER" "$MYSQL_PASSWORD" >"$dir/client.cnf"
sql() { mysql --defaults-extra-file="$dir/client.cnf" --connect-timeout=10 --batch --skip-column-names "$@"; }
# A SQL string literal.
lit() { local s=${1//\\/\\\\}; s=${s//\'/\\\'}; printf "'%s'" "$s"; }

# The server may have just become ready (or restarted): a minute of patience before the first statement.
for attempt in $(seq 1 30); do
  if err=$(sql -e "SELECT 1" 2>&1 >/dev/null); then break; fi
  ((attempt < 30)) || die "cannot log in to $MYSQL_HOST:$MYSQL_PORT as $MYSQL_USER: $err"
  sleep 2
done

versions=() databases=() checksums=() files=() creates=() names=()
while IFS=$'\t' read -r version database checksum file tables name; do
  [[ -n $version ]] || continue
  [[ $database =~ ^[A-Za-z0-9_$]+$ ]] || die "migration $version: database '$database' is not a plain identifier"
  actual=$(sha256sum "$MIGRATIONS_DIR/$file" | cut -d' ' -f1)
  [[ $actual == "$checksum" ]] || die "migration $version ($name): $file has checksum $actual, the manifest says $checksum"
  versions+=("$version") databases+=("$database") checksums+=("$checksum") files+=("$file") creates+=("$tables") names+=("$name")
done <"$MIGRATIONS_DIR/manifest.tsv"
log "${#versions[@]} migrations in the manifest"

# Each database exists (the platform creates them: database.databases) and has its history table.
for db in $(printf '%s\n' "${databases[@]}" | sort -u); do
  [[ -n $(sql -e "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = $(lit "$db")") ]] ||
    die "database $db does not exist on $MYSQL_HOST: the platform creates the databases of stack config database.databases on a new volume"
  sql -e "CREATE TABLE IF NOT EXISTS \`$db\`.\`$HISTORY_TABLE\` (
    version VARCHAR(191) NOT NULL PRIMARY KEY,
    name VARCHAR(500) NOT NULL,
    checksum CHAR(64) NOT NULL,
    state VARCHAR(16) NOT NULL COMMENT 'applied: run by this runner; baselined: its tables existed, recorded without running',
    applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    installed_by VARCHAR(200) NOT NULL
  ) DEFAULT CHARSET=utf8mb4 COMMENT 'egov-platform schema migrations (jobs/migrate/migrate.sh)'"
done

recorded() { sql -e "SELECT checksum FROM \`$1\`.\`$HISTORY_TABLE\` WHERE version = $(lit "$2")"; }

# Every applied migration is unchanged, or nothing is applied.
changed=()
for i in "${!versions[@]}"; do
  was=$(recorded "${databases[$i]}" "${versions[$i]}")
  if [[ -n $was && $was != "${checksums[$i]}" ]]; then
    changed+=("migration ${versions[$i]} (${names[$i]}) in ${databases[$i]} was applied with checksum $was, now it is ${checksums[$i]}")
  fi
done
if ((${#changed[@]} > 0)); then
  printf 'error: %s\n' "${changed[@]}" >&2
  die "an applied migration must not change: add a new migration instead (docs/day-2.md, \"Schema migrations\"); nothing was applied"
fi

record() { # db version name checksum state
  sql -e "INSERT INTO \`$1\`.\`$HISTORY_TABLE\` (version, name, checksum, state, installed_by)
    VALUES ($(lit "$2"), $(lit "$3"), $(lit "$4"), $(lit "$5"), CURRENT_USER())"
}

applied=0 baselined=0 skipped=0
for i in "${!versions[@]}"; do
  v=${versions[$i]} db=${databases[$i]} name=${names[$i]}
  if [[ -n $(recorded "$db" "$v") ]]; then
    skipped=$((skipped + 1))
    continue
  fi
  if [[ ${creates[$i]} != "-" ]]; then
    IFS=, read -r -a tables <<<"${creates[$i]}"
    list=$(for t in "${tables[@]}"; do printf '%s,' "$(lit "$t")"; done)
    present=$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(lit "$db") AND TABLE_NAME IN (${list%,})")
    if ((present == ${#tables[@]})); then
      record "$db" "$v" "$name" "${checksums[$i]}" baselined
      log "baselined $v ($name) in $db: its ${#tables[@]} tables exist already; not run"
      baselined=$((baselined + 1))
      continue
    fi
  fi
  log "applying $v ($name) to $db"
  if ! err=$(sql --database="$db" <"$MIGRATIONS_DIR/${files[$i]}" 2>&1 >/dev/null); then
    # The client's ERROR line (MariaDB's also echoes the statement around it).
    die "migration $v ($name) failed in $db: $(grep -m1 '^ERROR' <<<"$err" || head -n1 <<<"$err") (not recorded; the statements before the failing one stay applied)"
  fi
  record "$db" "$v" "$name" "${checksums[$i]}" applied
  applied=$((applied + 1))
done
log "done: $applied applied, $baselined baselined, $skipped already recorded"
