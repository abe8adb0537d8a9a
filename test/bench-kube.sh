#!/usr/bin/env bash
# Benchmarks of flexlb-kube-controller (docs/benchmarks.md, "Kubernetes controller"). Run as root
# after `swift build` (or with FLEXLB_BIN_DIR pointing at a build); uses the test venv.
#
#   test/bench-kube.sh            latency over 20 Services, then 1000 Services at once
#   BENCH_KUBE_N=200 test/bench-kube.sh scale
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FLEXLB_TEST_VENV:-$ROOT/.venv-test}"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
mode="${1:-all}"
cd "$ROOT/test/kube"
if [ "$mode" = all ] || [ "$mode" = latency ]; then
    "$VENV/bin/python" bench_kube.py latency "${BENCH_KUBE_LATENCY_N:-20}"
fi
if [ "$mode" = all ] || [ "$mode" = scale ]; then
    "$VENV/bin/python" bench_kube.py scale "${BENCH_KUBE_N:-1000}"
fi
