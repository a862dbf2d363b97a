#!/usr/bin/env bash
# Sets the application user's new MySQL password, logging in with the current one. Run by the
# mysql-rotate-g<N> Job before the stack's Secret changes; the tests run it against a real server.
#
#   MYSQL_HOST=mysql MYSQL_USER=msaportal CURRENT_PASSWORD=... NEW_PASSWORD=... mysql.sh
#
# Idempotent: when the new password already logs in, nothing is changed (a Job re-run, or a first
# deploy where the server was initialised with the new value). With no current password (the Secret
# does not exist yet: a first deploy) there is nothing to rotate. Otherwise the current password must
# log in, or the Job fails and the Secret is not changed. MySQL 5.7 and MariaDB keep one password per
# account: from the change on, new logins need the new password; open connections stay open.
set -euo pipefail
MYSQL_HOST=${MYSQL_HOST:-mysql}
MYSQL_PORT=${MYSQL_PORT:-3306}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*"; }
[[ -n ${MYSQL_USER:-} ]] || die "MYSQL_USER is not set"
[[ -n ${NEW_PASSWORD:-} ]] || die "NEW_PASSWORD is not set"

dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/rotate.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# Credentials go to option files, never to arguments (which `ps` shows).
cnf() { printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword="%s"\nprotocol=tcp\n' "$MYSQL_HOST" "$MYSQL_PORT" "$MYSQL_USER" "$2" >"$dir/$1.cnf"; }
try() { mysql --defaults-extra-file="$dir/$1.cnf" --connect-timeout=10 --batch --skip-column-names -e "${2:-SELECT 1}"; }
cnf new "$NEW_PASSWORD"

if try new >/dev/null 2>&1; then
  log "the new password of $MYSQL_USER already logs in at $MYSQL_HOST:$MYSQL_PORT: nothing to change"
  exit 0
fi
if [[ -z ${CURRENT_PASSWORD:-} ]]; then
  log "no current password (first deploy): nothing to rotate"
  exit 0
fi
cnf current "$CURRENT_PASSWORD"
err=$(try current 2>&1 >/dev/null) || die "cannot log in to $MYSQL_HOST:$MYSQL_PORT as $MYSQL_USER with the current password nor the new one: ${err:-no answer}; nothing was changed"

# The generated passwords are letters and digits; quotes are escaped all the same. A user changes its own
# password: MySQL (5.7.6+) with ALTER USER USER(), MariaDB (where ALTER USER needs CREATE USER) with SET PASSWORD.
quoted=${NEW_PASSWORD//\\/\\\\}; quoted=${quoted//\'/\\\'}
version=$(try current "SELECT VERSION()")
if [[ $version == *MariaDB* ]]; then statement="SET PASSWORD = PASSWORD('$quoted')"; else statement="ALTER USER USER() IDENTIFIED BY '$quoted'"; fi
# The client echoes a failed statement: only its ERROR line is shown, never the statement with the password.
if ! err=$(try current "$statement" 2>&1 >/dev/null); then
  die "changing the password failed ($(grep '^ERROR' <<<"$err" | sed 's/ at line [0-9]*//' | head -n1)); the current password still works"
fi
log "set the new password of $MYSQL_USER at $MYSQL_HOST:$MYSQL_PORT"

try new >/dev/null || die "the new password does not log in after the change"
if try current >/dev/null 2>&1; then die "the old password still logs in after the change"; fi
log "checked: the new password logs in, the old one is refused"
