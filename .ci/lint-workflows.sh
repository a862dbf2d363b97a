#!/usr/bin/env bash
# Checks .github/workflows with actionlint, built once from its Go module and cached outside the clone.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

bin="$EGOV_CACHE/toolchain/actionlint-v$ACTIONLINT_VERSION/bin"
if [[ ! -x $bin/actionlint ]]; then
  command -v go >/dev/null || die "actionlint needs Go to be built (or put actionlint v$ACTIONLINT_VERSION on PATH)"
  step "build actionlint v$ACTIONLINT_VERSION" "$EGOV_CACHE/logs/actionlint.log" \
    env GOBIN="$bin" CGO_ENABLED=0 go install -trimpath "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
fi
cd "$EGOV_ROOT"
"$bin/actionlint" -no-color .github/workflows/*.yml
log "actionlint: workflows OK"
