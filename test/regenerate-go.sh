#!/usr/bin/env bash
# Regenerates the Go client package's generated files (Sources/Client/Go/flexlb/*_gen.go) from
# openapi.yaml with the project's generator, then checks them with gofmt and go vet.
#
#   test/regenerate-go.sh           rewrite the files that changed
#   test/regenerate-go.sh --check   write nothing; exit 1 if the committed files are stale
#
# A build plugin cannot write into the source tree, so the Go package is committed; the generator
# tests (GoldenTests.committedGoPackageIsCurrent) and test/run-tests.sh fail when it is stale.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
PKG=Sources/Client/Go/flexlb
swift build --package-path Plugins/Generator --product flexlb-openapi-generator >&2
GEN="$(swift build --package-path Plugins/Generator --show-bin-path)/flexlb-openapi-generator"
if [ "${1:-}" = --check ]; then
    exec "$GEN" --input openapi.yaml --go "$PKG" --check
fi
"$GEN" --input openapi.yaml --go "$PKG"
if command -v go >/dev/null 2>&1; then
    unformatted="$(gofmt -l "$PKG")"
    [ -z "$unformatted" ] || { echo "not gofmt-formatted: $unformatted" >&2; exit 1; }
    (cd "$PKG" && go vet ./...)
fi
echo "regenerated $PKG from openapi.yaml"
