#!/usr/bin/env bash
# API benchmark: builds flexlbd, flexlb and flexlb-bench in release, starts flexlbd over mutual TLS
# on a free 127.0.0.1 port with a scratch data_dir and the data plane off (instances are only
# stored), and measures `get` and `create` at several concurrencies with flexlb-bench. Prints a
# Markdown table (and keeps the per-run JSON lines in BENCH_OUT if set). Stops flexlbd and removes
# the scratch directory on exit.
#
# Knobs: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default "1 16"),
#        BENCH_CREATE_BATCH (default 200: creates measured between untimed deletes, because flexlbd
#        hands out VRRP ids 1-255 and so holds at most 255 instances), BENCH_OUT (JSON lines file),
#        FLEXLB_CLI (an existing flexlb binary for setup — certificates, readiness, the `get` instance —
#        instead of building it; the CLI is not part of what is measured).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

seconds=${BENCH_SECONDS:-10}
concurrencies=${BENCH_CONCURRENCY:-"1 16"}
batch=${BENCH_CREATE_BATCH:-200}

dpkg -s libsqlite3-dev >/dev/null 2>&1 || {
  echo "==> installing libsqlite3-dev"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev >/dev/null
}

products=(flexlbd flexlb-bench)
[ -n "${FLEXLB_CLI:-}" ] || products+=(flexlb)
echo "==> building ${products[*]} (release)"
for product in "${products[@]}"; do
  swift build -c release --product "$product" >/dev/null
done
bin=$(swift build -c release --show-bin-path)
cli=${FLEXLB_CLI:-$bin/flexlb}

work=$(mktemp -d /tmp/flexlb-bench.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> issuing certificates"
"$cli" certs init --dir "$work/certs" --ip 127.0.0.1 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yaml" <<CONF
name: bench-node
tls_host: 127.0.0.1
tls_port: $port
tls_cert: $work/certs/server.crt
tls_key: $work/certs/server.key
tls_ca_cert: $work/certs/ca.crt
data_dir: $work/data
log_level: warning
# API and store only: no keepalived or HAProxy, no VIPs on interfaces, no haproxy -c per write.
data_plane:
  enabled: false
haproxy:
  check: false
CONF

echo "==> starting flexlbd (release) on https://127.0.0.1:$port"
"$bin/flexlbd" --config "$work/config.yaml" 2>"$work/flexlbd.log" &
pid=$!
export FLEXLB_ENDPOINT="https://127.0.0.1:$port" FLEXLB_CA="$work/certs/ca.crt"
export FLEXLB_CERT="$work/certs/client.crt" FLEXLB_KEY="$work/certs/client.key"
ready=""
for _ in $(seq 300); do
  if "$cli" status >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || { echo "flexlbd exited:"; cat "$work/flexlbd.log"; exit 1; }
  sleep 0.1
done
[ -n "$ready" ] || { echo "flexlbd did not become ready"; cat "$work/flexlbd.log"; exit 1; }

"$cli" instance create -f examples/instance_template.json >/dev/null   # instance "demo", for get

tls=(--endpoint "$FLEXLB_ENDPOINT" --ca "$FLEXLB_CA" --cert "$FLEXLB_CERT" --key "$FLEXLB_KEY")
results="$work/results.jsonl"
: > "$results"
for operation in get create; do
  for c in $concurrencies; do
    args=(--operation "$operation" --concurrency "$c" --duration "$seconds" --json)
    if [ "$operation" = get ]; then
      args+=(--name demo)
    else
      args+=(--name "bench-c$c" --batch "$batch")
    fi
    echo "\$ flexlb-bench ${args[*]}"
    "$bin/flexlb-bench" "${tls[@]}" "${args[@]}" >> "$results"
  done
done

echo
echo "| operation | concurrency | requests/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
python3 - "$results" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"| {r['operation']} | {r['concurrency']} | {r['requests_per_second']:.0f} | {r['p50_milliseconds']:.2f} "
          f"| {r['p90_milliseconds']:.2f} | {r['p99_milliseconds']:.2f} | {r['max_milliseconds']:.2f} "
          f"| {r['non2xx']} | {r['errors']} |")
PY
if [ -n "${BENCH_OUT:-}" ]; then cp "$results" "$BENCH_OUT"; fi
if grep -q '"errors":[1-9]\|"non2xx":[1-9]' "$results"; then
  echo "warning: some requests failed (see the first failure in the lines above)" >&2
fi
echo
echo "==> flexlbd log (warnings and errors)"
tail -n 5 "$work/flexlbd.log"
