#!/usr/bin/env bash
# Cluster data-plane benchmark: three LB nodes (flexlbd + keepalived + HAProxy) in network namespaces
# (test/failover's topology); failover gaps on owner crash and link cut, drain, create -> first
# request, VIP balance, RSS and idle CPU. Driver: test/lib/bench_failover.py. Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 1; }
for tool in ip nft curl python3 keepalived haproxy; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install iproute2 nftables curl python3 keepalived haproxy)"; exit 1; }
done
config="${BENCH_CONFIG:-release}"
echo "==> building flexlbd and flexlb ($config)"
swift build -c "$config" --product flexlbd >/dev/null
swift build -c "$config" --product flexlb >/dev/null
bin=$(swift build -c "$config" --show-bin-path)
VENV="${FLEXLB_TEST_VENV:-$PWD/.venv-test}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "run test/run-tests.sh once first (it creates the venv at $VENV)"; exit 1; }
FLEXLB_BIN_DIR="$bin" exec "$PY" test/lib/bench_failover.py
