#!/usr/bin/env bash
# FlexLB demo: installs what it needs, builds, then in network namespaces starts three web backends
# and a FlexLB node (flexlbd with real keepalived and HAProxy), declares an instance over mutual TLS
# with the CLI, and shows requests flowing through the VIP, the instance's status, a hitless change,
# stop/start, and the API refusing bad input. Everything it creates is removed on exit.
#
#   client ns 10.99.1.50 ──(external bridge)── LB node eth0 10.99.1.10, VIP 10.99.1.100
#                                               LB node eth1 10.99.2.10 ──(traffic bridge)── backends 10.99.2.11-13:30080
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
cleanup() {
  set +e
  [ -n "${fpid:-}" ] && kill -TERM "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
  topo_down "$P"      # ends keepalived, HAProxy and the backends inside the demo's namespaces
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> network namespaces $P-*: a client, an LB node and three backends"
topo_up "$P" 3
for i in 1 2 3; do
  ip netns exec "$P-be$i" python3 test/lib/backend.py "backend-$i" 30080 >/dev/null 2>&1 &
  disown
done

echo "==> certificates (CA, server with IP SAN 127.0.0.1, client) via 'flexlb certs init'"
"$bin/flexlb" certs init --dir "$work/certs" --ip 127.0.0.1 >/dev/null
cat > "$work/config.yaml" <<CONF
name: lb1
tls_host: 127.0.0.1
tls_port: 8443
tls_cert: $work/certs/server.crt
tls_key: $work/certs/server.key
tls_ca_cert: $work/certs/ca.crt
data_dir: $work/data
CONF

echo "==> starting flexlbd in $P-lb1 (mTLS API on 127.0.0.1:8443 inside that namespace)"
ip netns exec "$P-lb1" "$bin/flexlbd" --config "$work/config.yaml" 2>"$work/flexlbd.log" &
fpid=$!
export FLEXLB_ENDPOINT=https://127.0.0.1:8443 FLEXLB_CA="$work/certs/ca.crt" \
       FLEXLB_CERT="$work/certs/client.crt" FLEXLB_KEY="$work/certs/client.key"
cli() { ip netns exec "$P-lb1" "$bin/flexlb" "$@"; }
for _ in $(seq 100); do cli status >/dev/null 2>&1 && break; kill -0 "$fpid" || { cat "$work/flexlbd.log"; exit 1; }; sleep 0.1; done

show() { echo; echo "\$ flexlb $*"; cli "$@"; }
through_vip() { # N: N requests from the client namespace to the VIP
  echo; echo "\$ curl http://10.99.1.100:8080/   (x$1, from the client namespace)"
  for _ in $(seq "$1"); do ip netns exec "$P-cl" curl -sS -m 2 http://10.99.1.100:8080/; done | sort | uniq -c
}
wait_up() {
  for _ in $(seq 100); do
    cli instance get demo -o json | tr -d ' \n' | grep -q '"state":"up"' && return 0; sleep 0.1
  done
  echo "instance did not come up"; tail -20 "$work/flexlbd.log"; return 1
}

cp examples/instance_template.json "$work/demo.json"
show status
show instance create -f "$work/demo.json"
wait_up
through_vip 9
show instance get demo
echo; echo "==> a hitless change: drop backend web3 (HAProxy reloads through its master; no connection is refused)"
python3 - "$work/demo.json" > "$work/demo2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["endpoints"][0]["backend_servers"] = d["endpoints"][0]["backend_servers"][:2]
print(json.dumps(d))
PY
show instance modify -f "$work/demo2.json"
sleep 0.5
through_vip 6
show instance stop demo
echo; echo "\$ curl http://10.99.1.100:8080/   (stopped: the VIP is released)"
ip netns exec "$P-cl" curl -sS -m 1 http://10.99.1.100:8080/ || echo "(refused, as expected)"
show instance start demo
wait_up
through_vip 3
echo; echo "\$ flexlb instance create -f <a bad instance>   # every violation is reported, nothing is applied"
printf '{"name":"bad","frontend_interface":"eth0","frontend_ipaddress":"10.0.0.1%%eth0","frontend_net_prefix":33,"endpoints":[{"frontend_port":0,"mode":"tcp","balance":"roundrobin","backend_options":["httpchk\\nlisten evil"],"backend_servers":[{"name":"a","ipaddress":"10.99.2.11","port":30080}]}]}\n' \
  | cli instance create -f - || echo "(exit code $?)"
echo; echo "\$ flexlb instance create -f <valid JSON, but an option HAProxy refuses>   # checked with haproxy -c, refused with its message"
printf '{"name":"bad2","frontend_interface":"eth0","frontend_ipaddress":"10.99.1.101","frontend_net_prefix":24,"endpoints":[{"frontend_port":8080,"mode":"tcp","balance":"roundrobin","backend_options":["no-such-option"],"backend_servers":[{"name":"a","ipaddress":"10.99.2.11","port":30080}]}]}\n' \
  | cli instance create -f - || echo "(exit code $?)"
show instance delete demo
show instance list
echo
echo "==> flexlbd log (last lines)"
tail -n 8 "$work/flexlbd.log" | cut -c1-200
