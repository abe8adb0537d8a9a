#!/usr/bin/env bash
# Cluster benchmark: builds flexlbd and flexlb (release), starts three gossiping nodes in network
# namespaces (test/cluster's topology) and measures write visibility, partition heal and gossip
# bandwidth (driver: test/lib/bench_cluster.py). Prints a Markdown summary. Everything it starts
# lives in its own namespaces and is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 1; }
for tool in ip nft curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install iproute2 nftables curl python3)"; exit 1; }
done
config="${BENCH_CONFIG:-release}"   # BENCH_CONFIG=debug reuses the test build
echo "==> building flexlbd and flexlb ($config)"
swift build -c "$config" --product flexlbd >/dev/null
swift build -c "$config" --product flexlb >/dev/null
bin=$(swift build -c "$config" --show-bin-path)
VENV="${FLEXLB_TEST_VENV:-$PWD/.venv-test}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "run test/run-tests.sh once first (it creates the venv at $VENV)"; exit 1; }
FLEXLB_BIN_DIR="$bin" exec "$PY" test/lib/bench_cluster.py
