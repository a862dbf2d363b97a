#!/usr/bin/env bash
# Restores one database from a dump made by backup.sh, replacing the database's current contents.
#
#   restore.sh --database DB [--dump PATH] [--from SOURCE_DB] [--create]
#
#   --database DB   the database to restore into; everything in it is replaced by the dump
#   --dump PATH     a backup directory (<BACKUP_DIR>/<time>) or a .sql.gz file; default: the newest backup
#   --from DB       whose dump to take from that backup directory (default: DB itself)
#   --create        create DB when the server does not have it (e.g. a new, empty server)
#
# Order: the dump is checked (complete, readable), the server reached and the target found, and the
# target's current contents dumped to $BACKUP_DIR/pre-restore/<time>/ before anything is dropped.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
target="" dump="" from="" create=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --database) target=${2:-}; shift 2 || die "--database needs a value" ;;
    --dump) dump=${2:-}; shift 2 || die "--dump needs a value" ;;
    --from) from=${2:-}; shift 2 || die "--from needs a value" ;;
    --create) create=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[[ -n $target ]] || { usage >&2; die "--database is required"; }
from=${from:-$target}
[[ $target =~ $DB_RE ]] || die "'$target' is not a database name"
[[ $from =~ $DB_RE ]] || die "'$from' is not a database name"

# 1. The dump: found, complete and readable, before anything else.
if [[ -z $dump ]]; then
  dump=$(backups | tail -n 1)
  [[ -n $dump ]] || die "no backup found in $BACKUP_DIR; nothing was changed"
fi
if [[ -d $dump ]]; then
  file=$dump/$from.sql.gz
  [[ -f $file ]] || die "backup $dump has no dump of database $from (it has: $(cd "$dump" && ls -- *.sql.gz 2>/dev/null | sed 's/\.sql\.gz$//' | words)); nothing was changed"
elif [[ -f $dump ]]; then
  file=$dump
else
  die "no dump at $dump (backups in $BACKUP_DIR: $(backups | xargs -r -n1 basename | words)); nothing was changed"
fi
verify_dump "$file" || die "dump $file is damaged or incomplete (no completion marker); nothing was changed"

# 2. The server and the target.
connect
if database_exists "$target"; then
  # 3. What is there now, kept before it is replaced.
  saved=$BACKUP_DIR/pre-restore/$(stamp)
  mkdir -p "$saved" || die "cannot write the safety dump to $saved; nothing was changed"
  dump_to "$target" "$saved/$target.sql.gz"
  log "current contents of $target saved to $saved/$target.sql.gz"
  prune "$BACKUP_DIR/pre-restore" "${RETENTION:-7}"
  charset=$(sql "SELECT CONCAT('CHARACTER SET ', DEFAULT_CHARACTER_SET_NAME, ' COLLATE ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$target'")
  sql "DROP DATABASE \`$target\`; CREATE DATABASE \`$target\` $charset" \
    || die "could not recreate $target; its previous contents are in $saved/$target.sql.gz"
elif [[ $create == 1 ]]; then
  saved=""
  sql "CREATE DATABASE \`$target\`" || die "could not create database $target"
else
  die "database $target does not exist on $MYSQL_HOST (databases: $(databases)); nothing was changed. Pass --create to restore into a new database"
fi

# 4. Load.
if ! load_dump "$file" "$target"; then
  die "loading $file into $target failed${saved:+; its previous contents are in $saved/$target.sql.gz (restore them with --dump $saved --database $target)}"
fi
log "restored $target from $file (tables and views: $(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$target'"))"
