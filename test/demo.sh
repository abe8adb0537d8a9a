#!/usr/bin/env bash
# FlexLB demo: installs what it needs, builds, then in network namespaces starts three web backends
# and a three-node FlexLB cluster (each node: flexlbd with real keepalived and HAProxy), declares an
# instance over mutual TLS with the CLI through the cluster API VIP, shows requests flowing through
# the instance VIP, kills the node that holds it (traffic continues through another node, status
# shows the new owner), brings it back, drains a node without a gap, and shows the API refusing bad
# input. Everything it creates is removed on exit.
#
#   client 10.99.1.50 ──(br-ext)── n1..n3 eth0 10.99.1.11-13   instance VIP 10.99.1.100
#                                  n1..n3 eth1 10.99.2.21-23 ──(br-int)── backends 10.99.2.11-13:30080
#   client 10.77.0.50 ──(br-mgmt)─ n1..n3 eth2 10.77.0.11-13   API :8443, gossip :7946, cluster API VIP 10.77.0.100
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, keepalived)"; exit 1; }

need=()
command -v keepalived >/dev/null || need+=(keepalived)
command -v haproxy >/dev/null || need+=(haproxy)
command -v ip >/dev/null || need+=(iproute2)
command -v curl >/dev/null || need+=(curl)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "==> building flexlbd and flexlb (the first build takes several minutes)"
swift build --product flexlbd >/dev/null
swift build --product flexlb >/dev/null
bin=$(swift build --show-bin-path)

P=flxdemo$$
work=$(mktemp -d /tmp/flexlb-demo.XXXXXX)
source test/lib/topology.sh
declare -A fpid=()
cleanup() {
  set +e
  for n in "${!fpid[@]}"; do kill -TERM "${fpid[$n]}" 2>/dev/null; done
  for n in "${!fpid[@]}"; do wait "${fpid[$n]}" 2>/dev/null; done
  topo_down "$P"      # ends keepalived, HAProxy and the backends inside the demo's namespaces
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> network namespaces $P-*: a client, three LB nodes, three backends, three bridges"
topo_cluster_up "$P"
for i in 1 2 3; do
  ip netns exec "$P-be$i" python3 test/lib/backend.py "backend-$i" 30080 >/dev/null 2>&1 &
  disown
done

echo "==> certificates via 'flexlb certs init' (server certificate for the nodes and the cluster API VIP)"
"$bin/flexlb" certs init --dir "$work/certs" --ip 10.77.0.11 --ip 10.77.0.12 --ip 10.77.0.13 --ip 10.77.0.100 >/dev/null
key=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')   # gossip key: no default exists
for i in 1 2 3; do
  cat > "$work/n$i.yaml" <<CONF
name: n$i
tls_host: 10.77.0.1$i
tls_port: 8443
tls_cert: $work/certs/server.crt
tls_key: $work/certs/server.key
tls_ca_cert: $work/certs/ca.crt
data_dir: $work/data-n$i
cluster:
  advertize: 10.77.0.1$i:7946
  member: 10.77.0.11:7946,10.77.0.12:7946,10.77.0.13:7946
  secret_key: "$key"
  endpoint: 10.77.0.100:8443
CONF
done
start_node() {
  ip netns exec "$P-$1" "$bin/flexlbd" --config "$work/$1.yaml" 2>>"$work/$1.log" &
  fpid[$1]=$!
}
echo "==> starting flexlbd on n1, n2 and n3 (each starts its own keepalived and HAProxy)"
for n in n1 n2 n3; do start_node "$n"; done

export FLEXLB_ENDPOINT=https://10.77.0.100:8443 FLEXLB_CA="$work/certs/ca.crt" \
       FLEXLB_CERT="$work/certs/client.crt" FLEXLB_KEY="$work/certs/client.key"
cli() { ip netns exec "$P-cl" "$bin/flexlb" "$@"; }
show() { echo; echo "\$ flexlb $*"; cli "$@"; }
for _ in $(seq 300); do cli node list >/dev/null 2>&1 && break; sleep 0.1; done

holder() { # the node(s) whose kernel holds the VIP 10.99.1.100 on a link that is up
  local n out=()
  for n in n1 n2 n3; do
    ip -n "$P-sw" link show "${n}e" | grep -q 'state UP' || continue
    ip -n "$P-$n" -o addr show dev eth0 | grep -q ' 10.99.1.100/' && out+=("$n")
  done
  echo "${out[*]}"
}
through_vip() {
  echo; echo "\$ curl http://10.99.1.100:8080/   (x$1, from the client namespace)"
  for _ in $(seq "$1"); do ip netns exec "$P-cl" curl -sS -m 2 http://10.99.1.100:8080/; done | sort | uniq -c
}
wait_up() { # every live node serves the instance
  for _ in $(seq 300); do
    [ "$(cli instance get demo -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(v["state"]=="up" for v in d["nodes"].values()))')" -ge "$1" ] && return 0
    sleep 0.1
  done
  echo "instance did not come up"; return 1
}

echo; echo "==> the CLI talks to the cluster API VIP 10.77.0.100 (TCP passthrough to every node; mTLS end to end)"
show node list
show instance create -f examples/instance_template.json
wait_up 3
through_vip 9
owner=$(holder)
echo; echo "==> VIP 10.99.1.100 is on $owner (exactly one node; HAProxy runs warm on all three)"
show instance list

echo; echo "==> $owner crashes (kill -9 of its flexlbd, keepalived and HAProxy; its links go down) under a request every 5 ms"
ip netns exec "$P-cl" python3 test/dataplane/client.py loop http://10.99.1.100:8080/ 0.005 0.2 "$work/stop" > "$work/loop.json" &
loop=$!
sleep 1
ip netns pids "$P-$owner" | xargs -r kill -9
for l in e i m; do ip -n "$P-sw" link set "$owner$l" down; done
wait "${fpid[$owner]}" 2>/dev/null || true
unset "fpid[$owner]"
sleep 1.5
touch "$work/stop"; wait "$loop"
python3 - "$work/loop.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = [e[0] for e in d["errors"]]
gap = (max(t) - min(t)) if t else 0
print(f"    {d['attempts']} requests, {len(d['errors'])} failed, all within {gap:.2f} s; then traffic continued")
PY
new=$(holder)
echo "==> the VIP moved to $new"
through_vip 6
show instance get demo
show node list

echo; echo "==> $owner comes back: it rejoins and catches up; the VIP stays on $new (no second disruption)"
for l in e i m; do ip -n "$P-sw" link set "$owner$l" up; done
start_node "$owner"
wait_up 3
show node list
echo "    VIP holder: $(holder)"

echo; echo "==> planned maintenance: drain $new (priority-0 handover), then undrain it"
show node drain "$new"
for _ in $(seq 50); do [ "$(holder)" != "$new" ] && [ -n "$(holder)" ] && break; sleep 0.1; done
echo "    VIP holder: $(holder)"
through_vip 3
show node undrain "$new"

echo; echo "\$ flexlb instance create -f <a bad instance>   # every violation is reported, nothing is applied"
printf '{"name":"bad","frontend_interface":"eth0","frontend_ipaddress":"10.0.0.1%%eth0","frontend_net_prefix":33,"endpoints":[{"frontend_port":0,"mode":"tcp","balance":"roundrobin","backend_options":["httpchk\\nlisten evil"],"backend_servers":[{"name":"a","ipaddress":"10.99.2.11","port":30080}]}]}\n' \
  | cli instance create -f - || echo "(exit code $?)"
show instance delete demo
show instance list
echo
echo "==> done; cleaning up"
