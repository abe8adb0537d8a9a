#!/usr/bin/env bash
# How long a new VRRP group takes to get its VIP after a keepalived reload, with the cluster's usual
# advert interval (0.1 s) and with the short first-election interval (0.02 s), and whether a backup
# that loads the group afterwards keeps out of the way once the holder is back at 0.1 s (paused for
# 0.2 s three times). Two keepalived processes in two network namespaces joined by a veth pair;
# needs root, keepalived, iproute2, bc. Prints one line per measurement.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flexlb-election.XXXXXX")"
A="fxea$$"; B="fxeb$$"; PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip link add "va$$" netns "$A" type veth peer name "vb$$" netns "$B"
ip -n "$A" link set "va$$" name v0; ip -n "$B" link set "vb$$" name v0
for n in "$A" "$B"; do ip -n "$n" link set lo up; ip -n "$n" link set v0 up; done
ip -n "$A" addr add 10.250.0.1/24 dev v0; ip -n "$B" addr add 10.250.0.2/24 dev v0

# conf SELF PEER PRIORITY NEW_GROUP_ADVERT (empty: no new group)
conf() {
    cat <<C
global_defs {
    router_id $1
    vrrp_version 3
}
vrrp_instance base {
    state BACKUP
    nopreempt
    interface v0
    virtual_router_id 5
    priority $3
    advert_int 0.1
    unicast_src_ip $1
    unicast_peer { $2 }
    virtual_ipaddress { 10.250.0.100/24 dev v0 }
}
C
    [ -n "$4" ] && cat <<C
vrrp_instance new {
    state BACKUP
    nopreempt
    interface v0
    virtual_router_id 10
    priority $3
    advert_int $4
    unicast_src_ip $1
    unicast_peer { $2 }
    virtual_ipaddress { 10.250.0.110/24 dev v0 }
}
C
    return 0
}
start() { # NS NAME
    ip netns exec "$1" keepalived --dont-fork --log-console --no-syslog --vrrp -f "$WORK/$2.conf" \
        -p "$WORK/$2.pid" -r "$WORK/$2-vrrp.pid" > "$WORK/$2.log" 2>&1 &
    PIDS+=($!)
}
has_new() { ip -n "$1" -o addr show dev v0 | grep -q 10.250.0.110; }

conf 10.250.0.1 10.250.0.2 250 "" > "$WORK/a.conf"; conf 10.250.0.2 10.250.0.1 200 "" > "$WORK/b.conf"
start "$A" a; sleep 1; start "$B" b; sleep 1.5
for advert in 0.1 0.02 0.1 0.02; do
    conf 10.250.0.1 10.250.0.2 250 "$advert" > "$WORK/a.conf"
    t0=$(date +%s.%N); kill -HUP "$(cat "$WORK/a.pid")"
    while ! has_new "$A"; do sleep 0.002; done
    echo "new group, advert_int $advert on the preferred node: VIP $(echo "$(date +%s.%N) - $t0" | bc) s after SIGHUP"
    sleep 1
    conf 10.250.0.1 10.250.0.2 250 "" > "$WORK/a.conf"; kill -HUP "$(cat "$WORK/a.pid")"; sleep 1
done
# The short interval, then back to 0.1 before the backup loads the group: pauses of the holder
# shorter than master-down (0.3 s) must not let the backup take over.
conf 10.250.0.1 10.250.0.2 250 0.02 > "$WORK/a.conf"; kill -HUP "$(cat "$WORK/a.pid")"; sleep 0.5
conf 10.250.0.1 10.250.0.2 250 0.1 > "$WORK/a.conf"; kill -HUP "$(cat "$WORK/a.pid")"; sleep 0.5
conf 10.250.0.2 10.250.0.1 200 0.1 > "$WORK/b.conf"; kill -HUP "$(cat "$WORK/b.pid")"; sleep 1
for i in 1 2 3; do
    kill -STOP "$(cat "$WORK/a-vrrp.pid")"; sleep 0.2; kill -CONT "$(cat "$WORK/a-vrrp.pid")"; sleep 0.5
    if has_new "$B"; then echo "pause $i of the holder (0.2 s): the backup TOOK OVER"; else echo "pause $i of the holder (0.2 s): the backup stayed backup"; fi
done
