#!/usr/bin/env bash
# Builds oci-image (toolchain/oci-image/main.go) against github.com/google/go-containerregistry at
# GO_CONTAINERREGISTRY_VERSION (toolchain/versions.env): `npm run frontends` assembles images with it. Also that
# module's crane: `crane registry serve` is the registry the frontend e2e pushes to, `crane push` a layout's way
# to your registry.
#
#   $EGOV_CACHE/toolchain/oci-image-v<V>-<hash of main.go>/bin/{oci-image,crane}, linked from $EGOV_CACHE/bin
#
# Idempotent (kept while main.go and the version are unchanged). Log: $EGOV_CACHE/logs/oci-image.log.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"

: "${GO_CONTAINERREGISTRY_VERSION:?GO_CONTAINERREGISTRY_VERSION missing from toolchain/versions.env}"
V=v${GO_CONTAINERREGISTRY_VERSION#v}
SRC=$EGOV_ROOT/toolchain/oci-image
h=$(sha256sum < "$SRC/main.go" | cut -c1-10)
DIR=$EGOV_CACHE/toolchain/oci-image-$V-$h
mkdir -p "$EGOV_CACHE/bin" "$EGOV_CACHE/logs" "$EGOV_CACHE/build"

# Each command checked: `step` runs this in an `if`, where `set -e` does not apply.
build() {
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then PATH=/usr/local/go/bin:$PATH; fi
  command -v go >/dev/null || { echo "go is required (Go >= 1.26) to build oci-image"; return 1; }
  local wrap=$EGOV_CACHE/build/oci-image-$V
  rm -rf "$wrap" && mkdir -p "$wrap" && cp "$SRC/main.go" "$wrap/" && cd "$wrap" || return 1
  go mod init egov.local/oci-image || return 1
  go get "github.com/google/go-containerregistry@$V" || return 1
  go mod tidy || return 1
  # crane's own dependencies (cobra, ...), after tidy, which would drop them: main.go does not import crane.
  go get "github.com/google/go-containerregistry/cmd/crane@$V" || return 1
  mkdir -p "$DIR/bin.new" || return 1
  export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  go build -trimpath -ldflags "-s -w" -o "$DIR/bin.new/oci-image" . || return 1
  go build -trimpath -ldflags "-s -w" -o "$DIR/bin.new/crane" github.com/google/go-containerregistry/cmd/crane || return 1
  rm -rf "${DIR:?}/bin" && mv "$DIR/bin.new" "$DIR/bin" || return 1
  cd / && rm -rf "$wrap"
}

if [[ -x $DIR/bin/oci-image && -x $DIR/bin/crane ]]; then
  log "oci-image (go-containerregistry $V): cached in $DIR/bin"
else
  step "build oci-image (github.com/google/go-containerregistry $V)" "$EGOV_CACHE/logs/oci-image.log" build
fi
ln -sfn "$DIR/bin/oci-image" "$EGOV_CACHE/bin/oci-image"
ln -sfn "$DIR/bin/crane" "$EGOV_CACHE/bin/crane"
