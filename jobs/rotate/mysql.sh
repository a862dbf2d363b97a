#!/usr/bin/env bash
# Rotates the application's MySQL user without a window (docs/day-2.md "Rotate a credential"): two users
# alternate, generation N uses slot N % 2, so the user the running pods hold is never changed under them.
# Run by two Jobs of each generation; the tests run it against a real server. Both log in as root.
#
#   mysql.sh rotate   Job mysql-rotate-g<N>, before the mysql Secret changes: creates or updates NEW_USER with
#                     NEW_PASSWORD, unlocks it, grants it DATABASES, checks that it logs in and reaches them.
#                     CURRENT_USER (the Secret's, which the pods use) is not touched.
#   mysql.sh retire   Job mysql-retire-g<N>, after every consumer rolled: locks RETIRE_USER (the previous slot).
#                     Open connections stay open; new logins with its password are refused.
#
#   MYSQL_HOST=mysql ROOT_PASSWORD=... CURRENT_USER=msaportal CURRENT_PASSWORD=... NEW_USER=msaportal_b \
#     NEW_PASSWORD=... DATABASES="msaportal reservation" mysql.sh rotate
#   MYSQL_HOST=mysql ROOT_PASSWORD=... CURRENT_USER=msaportal_b RETIRE_USER=msaportal mysql.sh retire
#
# Idempotent: what is already in force is left alone. Without ROOT_PASSWORD (no Secret yet: a first deploy)
# rotate has nothing to do: the server's initialisation creates both users (config/plan.ts databasesSql).
# Valid on MySQL 5.7, 8.x and MariaDB 10.4+.
set -euo pipefail
MYSQL_HOST=${MYSQL_HOST:-mysql}
MYSQL_PORT=${MYSQL_PORT:-3306}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*"; }
ident='^[A-Za-z0-9_]{1,32}$'
action=${1:-}
[[ $action == rotate || $action == retire ]] || die "usage: mysql.sh rotate|retire"

dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/rotate.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# Credentials go to option files, never to arguments (which `ps` shows).
cnf() { printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword="%s"\nprotocol=tcp\n' "$MYSQL_HOST" "$MYSQL_PORT" "$2" "$3" >"$dir/$1.cnf"; }
try() { mysql --defaults-extra-file="$dir/$1.cnf" --connect-timeout=10 --batch --skip-column-names -e "${2:-SELECT 1}"; }
# The client echoes a failed statement: only its ERROR line is shown, never a statement with a password.
errline() { grep '^ERROR' <<<"$1" | sed 's/ at line [0-9]*//' | head -n1; }
root() {
  [[ -n ${ROOT_PASSWORD:-} ]] || return 1
  cnf root root "$ROOT_PASSWORD"
  local err
  err=$(try root 2>&1 >/dev/null) || die "cannot log in to $MYSQL_HOST:$MYSQL_PORT as root: ${err:-no answer}; nothing was changed"
}
exists() { [[ $(try root "SELECT COUNT(*) FROM mysql.user WHERE User='$1' AND Host='%'") != 0 ]]; }
# SHOW CREATE USER says ACCOUNT LOCK for a locked account on MySQL and MariaDB alike (it also holds the hash: never printed).
locked() { try root "SHOW CREATE USER '$1'@'%'" | grep -q 'ACCOUNT LOCK'; }

if [[ $action == retire ]]; then
  [[ ${RETIRE_USER:-} =~ $ident ]] || die "RETIRE_USER is not a user name"
  [[ ${RETIRE_USER} != "${CURRENT_USER:-}" ]] || die "refusing to lock $RETIRE_USER: the mysql Secret names it, the pods use it"
  root || die "ROOT_PASSWORD is not set"
  if ! exists "$RETIRE_USER"; then log "no user $RETIRE_USER at $MYSQL_HOST:$MYSQL_PORT: nothing to retire"; exit 0; fi
  if locked "$RETIRE_USER"; then log "$RETIRE_USER is already locked: nothing to change"; exit 0; fi
  err=$(try root "ALTER USER '$RETIRE_USER'@'%' ACCOUNT LOCK" 2>&1 >/dev/null) || die "locking $RETIRE_USER failed ($(errline "$err"))"
  locked "$RETIRE_USER" || die "$RETIRE_USER is not locked after ALTER USER ... ACCOUNT LOCK"
  log "locked $RETIRE_USER at $MYSQL_HOST:$MYSQL_PORT: its open connections stay, new logins are refused"
  exit 0
fi

[[ ${NEW_USER:-} =~ $ident ]] || die "NEW_USER is not a user name"
[[ -n ${NEW_PASSWORD:-} ]] || die "NEW_PASSWORD is not set"
read -r -a databases <<<"${DATABASES:-}"
[[ ${#databases[@]} -gt 0 ]] || die "DATABASES is not set"
for d in "${databases[@]}"; do [[ $d =~ $ident ]] || die "DATABASES: '$d' is not a database name"; done
cnf new "$NEW_USER" "$NEW_PASSWORD"
# Logs in as NEW_USER and opens every database: what the pods will do.
reaches() { try new "$(printf 'USE `%s`; ' "${databases[@]}")" >/dev/null 2>&1; }

if [[ -z ${ROOT_PASSWORD:-} ]]; then
  log "no mysql Secret yet (first deploy): the server's initialisation creates $NEW_USER; nothing to rotate"
  exit 0
fi
if [[ $NEW_USER == "${CURRENT_USER:-}" ]]; then
  # Only a re-run after the Secret changed gets here legitimately; otherwise the generation skipped one (raised by
  # 2 without an up between) and changing this password would lock out every running pod.
  if reaches; then log "$NEW_USER already logs in with the new password: nothing to change"; exit 0; fi
  die "the new generation's user $NEW_USER is the one the pods use now (the generation was raised by 2 since the last up?):" \
    "changing its password would lock them out; raise the generation by one (npm run rotate); nothing was changed"
fi
root
if reaches; then log "$NEW_USER already logs in with the new password and reaches ${databases[*]}: nothing to change"; exit 0; fi

quoted=${NEW_PASSWORD//\\/\\\\}; quoted=${quoted//\'/\\\'}
sql="CREATE USER IF NOT EXISTS '$NEW_USER'@'%' IDENTIFIED BY '$quoted'; ALTER USER '$NEW_USER'@'%' IDENTIFIED BY '$quoted' ACCOUNT UNLOCK;"
for d in "${databases[@]}"; do sql+=" GRANT ALL PRIVILEGES ON \`$d\`.* TO '$NEW_USER'@'%';"; done
err=$(try root "$sql" 2>&1 >/dev/null) || die "setting up $NEW_USER failed ($(errline "$err")); the pods' user ${CURRENT_USER:-} is untouched"
log "set the password of $NEW_USER at $MYSQL_HOST:$MYSQL_PORT, unlocked it, granted it ${databases[*]}"
reaches || die "$NEW_USER does not log in or reach ${databases[*]} after the change"
log "checked: $NEW_USER logs in with the new password and reaches ${databases[*]}; ${CURRENT_USER:-the current user} is untouched"
