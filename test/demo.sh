#!/usr/bin/env bash
# FlexLB demo: builds flexlbd and the flexlb CLI, issues certificates, starts flexlbd over mTLS
# and declares an instance with the CLI. Cleans up everything it started on exit.
#
# Today (single-node API milestone) it shows the declarative API; the data-plane milestone extends
# it with keepalived and HAProxy in network namespaces and traffic through the VIP.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)
command -v keepalived >/dev/null || need+=(keepalived)
command -v haproxy >/dev/null || need+=(haproxy)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "==> building (first build takes several minutes)"
swift build --product flexlbd >/dev/null
swift build --product flexlb >/dev/null
bin=$(swift build --show-bin-path)

work=$(mktemp -d /tmp/flexlb-demo.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> issuing a CA, a server and a client certificate"
"$bin/flexlb" certs init --dir "$work/certs" --ip 127.0.0.1 --dns localhost >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yaml" <<CONF
name: demo-node
tls_host: 127.0.0.1
tls_port: $port
tls_cert: $work/certs/server.crt
tls_key: $work/certs/server.key
tls_ca_cert: $work/certs/ca.crt
data_dir: $work/data
CONF

echo "==> starting flexlbd on https://127.0.0.1:$port (mutual TLS)"
"$bin/flexlbd" --config "$work/config.yaml" 2>"$work/flexlbd.log" &
pid=$!
export FLEXLB_ENDPOINT="https://127.0.0.1:$port" FLEXLB_CA="$work/certs/ca.crt"
export FLEXLB_CERT="$work/certs/client.crt" FLEXLB_KEY="$work/certs/client.key"
for _ in $(seq 100); do
  "$bin/flexlb" status >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/flexlbd.log"; exit 1; }
  sleep 0.1
done

run() { echo; echo "\$ flexlb $*"; "$bin/flexlb" "$@"; }
run status
run instance create -f examples/instance_template.json
run instance create -f examples/instance_template.yaml
run instance list
run instance get demo -o yaml
run instance stop demo
echo; echo "\$ flexlb instance create -f <bad instance>   # every violation is reported, nothing is stored"
printf '{"name":"bad name","frontend_interface":"eth0","frontend_ipaddress":"10.0.0.1%%eth0","frontend_net_prefix":33,"endpoints":[{"frontend_port":0,"mode":"udp","balance":"roundrobin","backend_servers":[]}]}' \
  | "$bin/flexlb" instance create -f - || echo "(exit code $?)"
run instance delete demo-yaml
run instance list
echo
echo "==> flexlbd log (last lines)"
tail -n 5 "$work/flexlbd.log"
