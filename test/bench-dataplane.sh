#!/usr/bin/env bash
# Data-plane benchmark: builds flexlbd and flexlb in release, brings up the network-namespace topology
# of test/lib/topology.sh (client, LB node, 3 HTTP backends) under a per-run prefix, runs flexlbd with
# the data plane INSIDE the LB namespace and measures (driver: test/lib/bench_dataplane.py):
#   1. create -> first HTTP 200 through the VIP (50 instances, created one at a time), p50/p99;
#   2. wrk errors during 100 modifications (SIGUSR2 reloads) vs. the same 100 changes made 0.4's way
#      (SIGTERM + start of a scratch HAProxy that flexlbd does not manage, on its own VIP);
#   3. keepalived reloads caused by 100 creates in one burst (8 concurrent clients);
#   4. apply time, flexlbd RSS and HAProxy RSS/PSS at 1, 100 and BENCH_MAX_INSTANCES (default 255;
#      beyond 255 instances VRRP ids are shared within an interface and address family), and the API/store side
#      with data_plane.enabled: false for BENCH_STORE_INSTANCES (default 1000) creates.
# Prints a Markdown table. Everything it starts lives in PREFIX-* namespaces or is killed by pid;
# the namespaces and the scratch directory are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 1; }
for tool in ip keepalived haproxy wrk python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install iproute2 keepalived haproxy wrk python3)"; exit 1; }
done

echo "==> building flexlbd and flexlb (release)"
swift build -c release --product flexlbd >/dev/null
bin=$(swift build -c release --show-bin-path)
# flexlb is only used for `certs init` (not measured): fall back to a debug build if release fails.
certs_bin=$bin
if ! swift build -c release --product flexlb >"${TMPDIR:-/tmp}/fxdp-flexlb-build.$$.log" 2>&1; then
  echo "    (release build of flexlb failed, see below; using a debug flexlb for certs init only)"
  grep -m3 "error:" "${TMPDIR:-/tmp}/fxdp-flexlb-build.$$.log" || true
  swift build --product flexlb >/dev/null
  certs_bin=$(swift build --show-bin-path)
fi
rm -f "${TMPDIR:-/tmp}/fxdp-flexlb-build.$$.log"

P=fxdp$$
work=$(mktemp -d /tmp/fxdp.XXXXXX)   # short: HAProxy master sockets live under data_dir (sun_path <= 107)
flexlbd_pid=""
source test/lib/topology.sh
# Measure a fixed binary even if someone rebuilds .build while this runs.
cp "$bin/flexlbd" "$work/flexlbd"
echo "==> flexlbd: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo ' + uncommitted changes in Sources/Package.swift'), release"

stop_flexlbd() { # stops flexlbd, then the keepalived/HAProxy it leaves running (by recorded pid)
  local data=$1 f p
  if [ -n "$flexlbd_pid" ] && kill -0 "$flexlbd_pid" 2>/dev/null; then
    kill -TERM "$flexlbd_pid"; wait "$flexlbd_pid" 2>/dev/null || true
  fi
  flexlbd_pid=""
  for f in "$data"/run/*.pid; do
    [ -f "$f" ] || continue
    case "$f" in *keepalived-vrrp.pid|*keepalived-checkers.pid) continue;; esac
    p=$(cat "$f" 2>/dev/null || true)
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
  done
}
cleanup() {
  set +e
  stop_flexlbd "$work/data" 2>/dev/null
  stop_flexlbd "$work/data-store" 2>/dev/null
  topo_down "$P"          # kills what is left inside PREFIX-* namespaces, deletes them
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> topology $P-{sw,cl,lb1,be1..3}"
topo_up "$P" 3
for i in 1 2 3; do
  ip netns exec "$P-be$i" python3 test/lib/backend.py "be$i" 30080 >/dev/null 2>&1 &
done

echo "==> certificates"
"$certs_bin/flexlb" certs init --dir "$work/certs" --ip 127.0.0.1 >/dev/null

start_flexlbd() { # DATA_DIR DATA_PLANE_ENABLED
  local data=$1 enabled=$2 port=18443
  cat > "$work/config-$enabled.yaml" <<CONF
name: lb1
tls_host: 127.0.0.1
tls_port: $port
tls_cert: $work/certs/server.crt
tls_key: $work/certs/server.key
tls_ca_cert: $work/certs/ca.crt
data_dir: $data
log_level: info
data_plane:
  enabled: $enabled
CONF
  ip netns exec "$P-lb1" "$work/flexlbd" --config "$work/config-$enabled.yaml" 2>>"$work/flexlbd-$enabled.log" &
  flexlbd_pid=$!
  echo "$flexlbd_pid" > "$work/flexlbd.pid"
  export API_PORT=$port CERTS=$work/certs DATA_DIR=$data NODE=lb1 PREFIX=$P CLIENT_NS=$P-cl
  export PIDFILE=$work/flexlbd.pid WORK=$work FLEXLBD_LOG=$work/flexlbd-$enabled.log
  for _ in $(seq 300); do
    ip netns exec "$P-lb1" curl -sf -m 1 --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key" \
      "https://127.0.0.1:$port/flexlb/v1/livez" >/dev/null 2>&1 && return 0
    kill -0 "$flexlbd_pid" 2>/dev/null || { cat "$work/flexlbd-$enabled.log"; exit 1; }
    sleep 0.1
  done
  echo "flexlbd did not come up"; cat "$work/flexlbd-$enabled.log"; exit 1
}

# Wait for the backends.
for i in 1 2 3; do
  for _ in $(seq 100); do
    ip netns exec "$P-lb1" curl -sf -m 1 "http://10.99.2.1$i:30080/" >/dev/null && break
    sleep 0.1
  done
done

echo "==> flexlbd with the data plane (in $P-lb1); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
start_flexlbd "$work/data" true
timeout 1500 ip netns exec "$P-lb1" python3 test/lib/bench_dataplane.py dataplane "$work/dataplane.json"
load_dp=$(cut -d' ' -f1-3 /proc/loadavg)
stop_flexlbd "$work/data"

echo "==> flexlbd with data_plane.enabled: false (API and store only)"
start_flexlbd "$work/data-store" false
timeout 600 ip netns exec "$P-lb1" python3 test/lib/bench_dataplane.py storeonly "$work/store.json" "${BENCH_STORE_INSTANCES:-1000}"
stop_flexlbd "$work/data-store"

# Errors in flexlbd's log are part of the result.
echo "==> flexlbd warnings/errors (data plane run):"
grep -E "warning|error|critical" "$work/flexlbd-true.log" | head -20 || echo "(none)"
if [ -n "${BENCH_KEEP_LOGS:-}" ]; then
  mkdir -p "$BENCH_KEEP_LOGS"
  cp -r "$work/flexlbd-true.log" "$work/data/log" "$work/dataplane.json" "$work/store.json" "$BENCH_KEEP_LOGS"/ 2>/dev/null || true
fi

python3 - "$work/dataplane.json" "$work/store.json" "$load_dp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
print("\n## Results (load average at the end of the data-plane run: %s)\n" % sys.argv[3])
s1 = d["step1"]
print("| measurement | value |\n| --- | --- |")
print("| 1. create -> first 200 through the VIP, p50 / p99 / max (n=%d) | %.0f / %.0f / %.0f ms |" % (s1["n"], s1["first_ok_p50_ms"], s1["first_ok_p99_ms"], s1["first_ok_max_ms"]))
print("| 1. ... of which create 200 -> VIP on eth0, p50 / p99 | %.0f / %.0f ms |" % (s1["vip_added_p50_ms"], s1["vip_added_p99_ms"]))
print("| 1. ... VIP on eth0 -> first 200, p50 | %.0f ms |" % s1["vip_to_ok_p50_ms"])
print("| 1. API create latency (200), p50 | %.0f ms |" % s1["api_create_p50_ms"])
s2 = d["step2"]
for key, label in (("flexlbd", "flexlbd (SIGUSR2 reload)"), ("stop_start", "0.4's way (SIGTERM + start)")):
    r = s2[key]
    print("| 2. %s: 100 changes in %.1f s under wrk -t2 -c32 -d%ds%s | %d requests (%.0f/s), socket errors connect %d read %d write %d timeout %d, non-2xx %d |" % (
        label, r["modifications_s"], s2["wrk_seconds"], " (%d SIGUSR2 reloads logged)" % r["haproxy_reloads_logged"] if "haproxy_reloads_logged" in r else "",
        r["requests"] or 0, r["rps"] or 0, r["connect"], r["read"], r["write"], r["timeout"], r["non2xx"]))
for p in d["scale"]:
    print("| 3/4. %d instances (burst, 8 clients): last create 200 -> all `up` / all VIPs on eth0 | %.0f / %.0f ms |" % (p["instances"], p["apply_up_ms"], p["apply_vips_ms"]))
    print("| 3/4. %d instances: keepalived reloads (\"Reloading ...\" lines in keepalived.log; SIGHUPs in flexlbd's log) / keepalived.conf writes | %d (%d) / %d |" % (p["instances"], p["keepalived_reloads"], p["flexlbd_sighups"], p["keepalived_conf_writes"]))
    print("| 3/4. %d instances: flexlbd RSS; HAProxy processes, total RSS (PSS); flexlbd idle CPU | %.0f MB; %d, %.0f MB (%.0f MB); %.1f %% |" % (
        p["instances"], p["flexlbd_rss_mb"], p["haproxy_processes"], p["haproxy_rss_mb"], p["haproxy_pss_mb"], p["flexlbd_idle_cpu_pct"]))
a = s2["flexlbd"]
print("| 2. flexlbd: \"HAProxy exited; restarting\" logged for the modified instance (it had not exited) / HAProxy masters running for it afterwards | %d / %d |" % (a["haproxy_false_exits_logged"], a["haproxy_masters_for_mod"]))
for left in d.get("leftovers", []):
    print("| HAProxy processes still running 20 s after deleting every instance (%s) | %d (killed by the bench) |" % (left["when"], len(left["processes"])))
if "past_limit" in d:
    pl = d["past_limit"]
    print("| 4. create #%d (past VRRP ids 1-255 in use) | %s %s |" % (pl["count_before"] + 1, pl["status"], (pl["body"] or {}).get("message", "")))
print("| 4. data_plane.enabled: false, %d creates one by one | %s in %.1f s; stored %d; flexlbd RSS %s MB |" % (
    s["requested"], ", ".join("%s x %d" % kv for kv in sorted(s["codes"].items())), s["seconds"], s["stored"],
    " / ".join("%.0f (at %s)" % (v, k.split("_")[-1]) for k, v in s.items() if k.startswith("rss_mb_at_"))))
if s.get("first_error"):
    print("\nfirst failed create (store-only): %s" % json.dumps(s["first_error"]))
PY
