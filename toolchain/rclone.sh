#!/usr/bin/env bash
# Builds rclone (github.com/rclone/rclone v$RCLONE_VERSION, toolchain/versions.env) into
# $EGOV_CACHE/toolchain/rclone-v<V>/bin/rclone and links it as $EGOV_CACHE/bin/rclone. The off-cluster
# backup tests run it as the S3-compatible server (`rclone serve s3`) and as the very client the backup
# jobs run (image rclone/rclone:<V>). A binary already there is kept. Log: $EGOV_CACHE/logs/rclone.log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"
: "${RCLONE_VERSION:?RCLONE_VERSION missing from toolchain/versions.env}"
v=v${RCLONE_VERSION#v}
dir=$EGOV_CACHE/toolchain/rclone-$v
# The whole output first: `rclone version | head -n1` under pipefail fails when head exits before rclone's last write
# (SIGPIPE), which rebuilt a good binary now and then.
have=$([[ -x $dir/bin/rclone ]] && "$dir/bin/rclone" version 2>/dev/null || true)
if [[ ${have%%$'\n'*} == "rclone $v" ]]; then
  ln -sfn "$dir/bin/rclone" "$EGOV_CACHE/bin/rclone"
  exit 0
fi
command -v go >/dev/null || die "go is required to build rclone $v"
mkdir -p "$dir/bin" "$EGOV_CACHE/bin" "$EGOV_CACHE/logs"
# -ldflags: the version rclone reports (a module build otherwise says v1.xx-DEV).
step "build rclone $v" "$EGOV_CACHE/logs/rclone.log" env CGO_ENABLED=0 GOBIN="$dir/bin" GOFLAGS=-buildvcs=false \
  nice -n 10 go install -trimpath -ldflags "-s -w -X github.com/rclone/rclone/fs.Version=$v" "github.com/rclone/rclone@$v"
ln -sfn "$dir/bin/rclone" "$EGOV_CACHE/bin/rclone"
