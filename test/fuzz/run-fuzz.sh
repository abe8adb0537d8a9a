#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of the real FlexLB sources: InstanceConfig JSON decoding and
# validation (generated FlexLBAPI models), the option allowlist and both renderers.
#
#   test/fuzz/run-fuzz.sh [SECONDS]     default 60; FLEXLB_FUZZ_SECONDS overrides
#
# Needs a prior `swift build` (for the generated model sources). The sources are compiled into one
# module with -sanitize=fuzzer,address; a crash, trap or sanitizer report makes libFuzzer exit non-zero
# and this script with it (the crashing input is printed as base64).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SECONDS_TO_RUN="${1:-${FLEXLB_FUZZ_SECONDS:-60}}"
SWIFTC="$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/flexlb-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src" "$WORK/corpus" "$WORK/artifacts"

# The generated models (build plugin output) and the runtime, without the HTTP layer.
mapfile -t generated < <(find .build/plugins/outputs -path '*FlexLBAPI*' -name '*.swift' -type f | sort)
[ "${#generated[@]}" -gt 0 ] || { echo "run-fuzz: no generated FlexLBAPI sources; run swift build first" >&2; exit 2; }
for f in Sources/Generated/Runtime/*.swift "${generated[@]}" Sources/Server/Render/*.swift test/fuzz/FuzzInstanceConfig.swift; do
    if grep -q '^import HTTPTypes' "$f"; then continue; fi
    # One module: drop the imports of our own modules.
    sed -e '/^import FlexLBAPI$/d' -e '/^public import FlexLBAPI$/d' -e '/^@testable import/d' "$f" > "$WORK/src/f_$(echo "$f" | tr '/.' '__').swift"
done

echo "run-fuzz: compiling $(ls "$WORK/src" | wc -l) files with -sanitize=fuzzer,address"
"$SWIFTC" -sanitize=fuzzer,address -parse-as-library -O -module-name FlexLBFuzz \
    -enable-upcoming-feature ExistentialAny "$WORK"/src/*.swift -o "$WORK/fuzz"

cp test/fuzz/corpus/* "$WORK/corpus/"
echo "run-fuzz: fuzzing for ${SECONDS_TO_RUN}s"
set +e
"$WORK/fuzz" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$WORK/artifacts/" "$WORK/corpus" 2>&1 | tail -n 40
rc="${PIPESTATUS[0]}"
set -e
for crash in "$WORK"/artifacts/*; do
    [ -e "$crash" ] || continue
    echo "run-fuzz: crashing input $(basename "$crash") (base64):"
    base64 -w 0 "$crash"; echo
done
if [ "$rc" -ne 0 ]; then
    echo "run-fuzz: FAILED (libFuzzer exit $rc)"
    exit 1
fi
echo "run-fuzz: passed (no crash in ${SECONDS_TO_RUN}s)"
