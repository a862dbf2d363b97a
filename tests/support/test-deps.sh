#!/usr/bin/env bash
# What `npm test` needs besides the project's own node_modules, installed when missing (npm runs this before the
# unit and the e2e suites): the policy pack's packages (its rules are tested and every preview runs it), a
# MySQL-compatible server for the backup/restore/drill/rotation tests (Debian's mariadb-server), a RabbitMQ broker
# for the rotation test (Debian's rabbitmq-server), PostgreSQL for the shared state backend e2e (Debian's
# postgresql: tests/e2e/operating.e2e.ts), all started by the tests themselves, never as services, and rclone, the
# S3-compatible server and client of the off-cluster backup tests (built from its Go module once); Debian's nginx
# (the ingress), Chromium (the browser) and a CJK font (fonts-noto-cjk) of the browser flows (tests/e2e/apps-browser.ts).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$EGOV_ROOT"

[[ -d node_modules/@pulumi/pulumi ]] || step "npm ci" "$EGOV_CACHE/logs/npm-ci.log" npm ci --no-audit --no-fund
[[ -d policy/node_modules/@pulumi/policy ]] ||
  step "npm ci (policy pack)" "$EGOV_CACHE/logs/npm-ci-policy.log" npm ci --prefix policy --no-audit --no-fund

# Debian packages: command -> package. A missing one is installed with apt-get as root (or through sudo without a
# password); anywhere else the run stops with the one line that installs them.
declare -A wanted=([mariadbd]=mariadb-server [mariadb]=mariadb-client [mysqldump]=mariadb-client [rabbitmq-server]=rabbitmq-server
  [chromium]=chromium [nginx]=nginx)
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] || missing+=("${wanted[$cmd]}")
done
# The PostgreSQL server's programs are not on PATH (Debian keeps them per major version).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The browser flows' screenshots show the frontends' Korean text: a CJK font (no command to look for).
compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc' >/dev/null || missing+=(fonts-noto-cjk)
if ((${#missing[@]} > 0)); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  install=(apt-get -o DPkg::Lock::Timeout=300 install -y "${missing[@]}")
  if ! command -v apt-get >/dev/null 2>&1; then
    die "the tests need ${missing[*]} (servers they start: MySQL-compatible, RabbitMQ, PostgreSQL): install them with your package manager and rerun"
  fi
  sudo_=()
  if [[ $(id -u) != 0 ]]; then
    sudo -n true 2>/dev/null || die "the tests need ${missing[*]}: run 'sudo apt-get update && sudo ${install[*]}' and rerun"
    sudo_=(sudo -n)
  fi
  step "apt-get update" "$EGOV_CACHE/logs/apt-update.log" "${sudo_[@]}" apt-get -o DPkg::Lock::Timeout=300 update
  step "${install[*]}" "$EGOV_CACHE/logs/apt-install.log" "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}"
fi

# rclone at the version the backup jobs' image runs (toolchain/versions.env), cached in $EGOV_CACHE.
bash "$EGOV_ROOT/toolchain/rclone.sh"

# crane (toolchain/oci-image.sh): the registry the image-lock test starts and reads digests from.
bash "$EGOV_ROOT/toolchain/oci-image.sh"
