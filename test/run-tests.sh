#!/usr/bin/env bash
# FlexLB's test command (README, CI): installs what is missing, builds, runs every test stage.
#
#   test/run-tests.sh                 everything
#   test/run-tests.sh -k conformance  extra arguments go to pytest (e2e stage)
#
# Stages: swift build --build-tests; swift test (root package); swift test (Plugins/Generator);
# fuzz (libFuzzer over the real decoding, validation, option-allowlist and rendering code, 60 s;
# FLEXLB_FUZZ_SECONDS); pytest test/e2e against the real flexlbd/flexlb (schemathesis included); go
# (the generated Go client: committed files current with openapi.yaml, gofmt, go vet, go test against
# a real flexlbd); pytest test/dataplane (real keepalived and HAProxy driven by flexlbd in network
# namespaces), pytest test/cluster (three gossiping nodes), pytest test/failover (three nodes with
# keepalived and HAProxy) and pytest test/kube (the test Kubernetes API server judged by kubectl, and
# flexlb-kube-controller end to end); extra arguments are not passed to those stages.
# Every stage runs even if an earlier one failed (except those that need the build); the exit code
# is non-zero if any stage failed, and the last line is "N passed, N failed" summed over the stages.
#
# Environment: FLEXLB_TEST_VENV (default <repo>/.venv-test), FLEXLB_SKIP_APT=1 to never apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/flexlb-tests.XXXXXX")"
cleanup() { rm -rf "$LOG_DIR"; }
trap cleanup EXIT

say() { printf '\n==== %s ====\n' "$*"; }
die() { printf 'run-tests: %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
# 1. System packages (apt only when a needed binary is missing)
# ---------------------------------------------------------------------------------------------
need_pkgs=()
for pair in keepalived:keepalived haproxy:haproxy wrk:wrk socat:socat ip:iproute2 nft:nftables sqlite3:sqlite3; do
    bin="${pair%%:*}"; pkg="${pair#*:}"
    command -v "$bin" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
# Build dependencies: GRDB links the system SQLite; the data-plane tests use curl.
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_pkgs+=(libsqlite3-dev)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
# The Go client's stage: Debian's Go (1.19 on bookworm); standard library only, no module proxy.
command -v go >/dev/null 2>&1 || need_pkgs+=(golang-go)
PY="$(command -v python3 || true)"
if [ -z "$PY" ]; then
    need_pkgs+=(python3 python3-pip python3-venv)
else
    "$PY" -m pip --version >/dev/null 2>&1 || need_pkgs+=(python3-pip)
    "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    if [ "${FLEXLB_SKIP_APT:-0}" = 1 ]; then
        die "missing packages: ${need_pkgs[*]} (FLEXLB_SKIP_APT=1)"
    fi
    [ "$(id -u)" = 0 ] || die "missing packages: ${need_pkgs[*]}; run as root or install them"
    say "apt-get install ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
    PY="$(command -v python3)"
fi
command -v swift >/dev/null 2>&1 || die "swift not found (expected on PATH or at /opt/swift/usr/bin)"

# ---------------------------------------------------------------------------------------------
# 2. Python venv for the e2e suite (pip only when an import is missing)
# ---------------------------------------------------------------------------------------------
VENV="${FLEXLB_TEST_VENV:-$ROOT/.venv-test}"
if [ ! -x "$VENV/bin/python" ]; then
    say "python venv $VENV"
    "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import pytest, requests, yaml, cryptography, jsonschema, referencing, openapi_schema_validator, schemathesis' >/dev/null 2>&1; then
    say "pip install -r test/e2e/requirements.txt"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r test/e2e/requirements.txt
fi

# ---------------------------------------------------------------------------------------------
# Stage bookkeeping
# ---------------------------------------------------------------------------------------------
TOTAL_PASSED=0
TOTAL_FAILED=0
FAILED_STAGES=()
SUMMARY=()

# count_swift LOG -> "passed failed" from XCTest and Swift Testing summaries
count_swift() {
    local log="$1" xp=0 xf=0 st_total=0 st_failed=0 line
    # XCTest: the last "Executed N tests, with M failures" is the overall one
    line="$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -n 1 || true)"
    if [ -n "$line" ]; then
        local n m
        n="$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$line")"
        m="$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$line")"
        xp=$((n - m)); xf=$m
    fi
    # Swift Testing: "Test run with N tests in S suites passed|failed ..."
    line="$(grep -E 'Test run with [0-9]+ tests?' "$log" | tail -n 1 || true)"
    if [ -n "$line" ]; then
        st_total="$(sed -E 's/.*Test run with ([0-9]+) tests?.*/\1/' <<<"$line")"
        st_failed="$(grep -E '✘ Test [^r].* failed after' "$log" | grep -vc 'Test run with' || true)"
        if grep -q 'failed after' <<<"$line" && [ "$st_failed" -eq 0 ]; then st_failed=1; fi
    fi
    echo "$((xp + st_total - st_failed)) $((xf + st_failed))"
}

# count_pytest LOG -> "passed failed" from pytest's summary line
count_pytest() {
    local log="$1" line p=0 f=0 e=0
    line="$(grep -E '^=+ .*(passed|failed|error|no tests ran).* in [0-9.]+s' "$log" | tail -n 1 || true)"
    [[ "$line" =~ ([0-9]+)\ passed ]] && p="${BASH_REMATCH[1]}"
    [[ "$line" =~ ([0-9]+)\ failed ]] && f="${BASH_REMATCH[1]}"
    [[ "$line" =~ ([0-9]+)\ errors? ]] && e="${BASH_REMATCH[1]}"
    echo "$p $((f + e))"
}

# count_go LOG -> "passed failed" from `go test -v` (tests and subtests)
count_go() {
    local log="$1" p f
    p="$(grep -cE '^ *--- PASS' "$log" || true)"
    f="$(grep -cE '^ *--- FAIL' "$log" || true)"
    echo "$p $f"
}

# go_stage: the committed Go package is what the generator makes of openapi.yaml, is gofmt-formatted
# and vet-clean, and passes its tests (unit tests and the shared scenarios against a real flexlbd
# from FLEXLB_BIN_DIR).
go_stage() {
    local pkg="$ROOT/Sources/Client/Go/flexlb" rc=0 unformatted
    # go needs a build cache; CI shells may have no HOME.
    if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ]; then export GOCACHE="${TMPDIR:-/tmp}/flexlb-go-cache"; fi
    go version
    "$ROOT/test/regenerate-go.sh" --check || rc=1
    unformatted="$(gofmt -l "$pkg")"
    if [ -n "$unformatted" ]; then echo "not gofmt-formatted: $unformatted"; rc=1; fi
    (cd "$pkg" && GOPROXY=off GOFLAGS=-mod=mod go vet ./...) || rc=1
    (cd "$pkg" && GOPROXY=off GOFLAGS=-mod=mod go test -count=1 -v ./...) || rc=1
    return "$rc"
}

# count_fuzz LOG -> "1 0" when the fuzz run passed, else "0 1"
count_fuzz() {
    if grep -q '^run-fuzz: passed' "$1"; then echo "1 0"; else echo "0 1"; fi
}

# run_stage NAME COUNTER CMD... : runs, tees output, adds counts; a failing stage with no counted
# failure counts as one failure.
run_stage() {
    local name="$1" counter="$2"; shift 2
    local log="$LOG_DIR/$name.log" rc=0 p=0 f=0
    say "$name: $*"
    set +e
    "$@" 2>&1 | tee "$log"
    rc="${PIPESTATUS[0]}"
    set -e
    if [ "$counter" != none ]; then
        read -r p f < <("$counter" "$log")
    fi
    if [ "$rc" -ne 0 ]; then
        [ "$f" -gt 0 ] || f=1
        FAILED_STAGES+=("$name")
    fi
    TOTAL_PASSED=$((TOTAL_PASSED + p))
    TOTAL_FAILED=$((TOTAL_FAILED + f))
    SUMMARY+=("$name: exit $rc, $p passed, $f failed")
    return 0
}

# ---------------------------------------------------------------------------------------------
# 3. Build and test
# ---------------------------------------------------------------------------------------------
run_stage build none swift build --build-tests
BUILD_OK=1
if [[ " ${FAILED_STAGES[*]-} " == *" build "* ]]; then BUILD_OK=0; fi

if [ "$BUILD_OK" = 1 ]; then
    run_stage swift-test count_swift swift test --skip-build
else
    SUMMARY+=("swift-test: not run (build failed)")
fi

run_stage generator-test count_swift swift test --package-path Plugins/Generator

if [ "$BUILD_OK" = 1 ]; then
    # Coverage-guided fuzzing, time-bounded; a crash fails the stage.
    run_stage fuzz count_fuzz timeout --kill-after=30 900 test/fuzz/run-fuzz.sh "${FLEXLB_FUZZ_SECONDS:-60}"
else
    SUMMARY+=("fuzz: not run (build failed)")
fi

if [ "$BUILD_OK" = 1 ]; then
    BIN_DIR="$(swift build --show-bin-path)"
    export FLEXLB_BIN_DIR="$BIN_DIR"
    run_stage e2e count_pytest timeout --kill-after=30 2400 \
        "$VENV/bin/python" -m pytest -p no:cacheprovider test/e2e "$@"
    run_stage go count_go timeout --kill-after=30 900 bash -c "$(declare -f go_stage); ROOT='$ROOT'; go_stage"
    # The data plane (keepalived + HAProxy driven by flexlbd) in network namespaces, traffic through VIPs.
    run_stage dataplane count_pytest timeout --kill-after=30 900 \
        "$VENV/bin/python" -m pytest -p no:cacheprovider test/dataplane
    # Cluster mode: three flexlbd nodes gossiping in network namespaces (partitions with nftables).
    run_stage cluster count_pytest timeout --kill-after=30 900 \
        "$VENV/bin/python" -m pytest -p no:cacheprovider -s test/cluster
    # Cluster data plane: three nodes with keepalived and HAProxy, failover, drain, the cluster API VIP.
    run_stage failover count_pytest timeout --kill-after=30 900 \
        "$VENV/bin/python" -m pytest -p no:cacheprovider -s test/failover
    # Kubernetes: the test API server judged by the real kubectl, then flexlb-kube-controller end to end
    # (test API server + flexlbd with keepalived and HAProxy in network namespaces + the controller).
    run_stage kube count_pytest timeout --kill-after=30 900 \
        "$VENV/bin/python" -m pytest -p no:cacheprovider test/kube
else
    SUMMARY+=("e2e: not run (build failed)")
    SUMMARY+=("go: not run (build failed)")
    SUMMARY+=("dataplane: not run (build failed)")
    SUMMARY+=("cluster: not run (build failed)")
    SUMMARY+=("failover: not run (build failed)")
    SUMMARY+=("kube: not run (build failed)")
fi

# ---------------------------------------------------------------------------------------------
# 4. Summary
# ---------------------------------------------------------------------------------------------
say "summary"
for s in "${SUMMARY[@]}"; do echo "  $s"; done
if [ "${#FAILED_STAGES[@]}" -gt 0 ]; then
    echo "  failed stages: ${FAILED_STAGES[*]}"
fi
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "${#FAILED_STAGES[@]}" -eq 0 ]
