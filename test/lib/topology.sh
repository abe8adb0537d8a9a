# Network-namespace topology for FlexLB demos and end-to-end tests. Source it, then call
# topo_up PREFIX; everything it creates is named PREFIX-* and removed by topo_down PREFIX.
#
#   PREFIX-cl  (client)    eth0 10.99.1.50/24  ──┐ br-ext  (external network: VIPs live here)
#   PREFIX-lb1 (LB node)   eth0 10.99.1.10/24  ──┘
#                          eth1 10.99.2.10/24  ──┐ br-int  (traffic network: backends)
#   PREFIX-be1..3          eth0 10.99.2.11-13  ──┘
# The bridges live in PREFIX-sw. Traffic never leaves these namespaces.

topo_link() { # PREFIX NS IFNAME ADDR BRIDGE PORTNAME
  local p=$1 ns=$2 ifname=$3 addr=$4 br=$5 port=$6
  ip link add "$port" netns "$p-sw" type veth peer name "$port-x" netns "$p-$ns"
  ip -n "$p-$ns" link set "$port-x" name "$ifname"
  ip -n "$p-sw" link set "$port" master "$br" up
  ip -n "$p-$ns" addr add "$addr" dev "$ifname"
  ip -n "$p-$ns" link set "$ifname" up
}

topo_up() { # PREFIX [NUMBER_OF_BACKENDS]
  local p=$1 n=${2:-3} i
  for ns in sw cl lb1 $(seq -f "be%g" 1 "$n"); do
    ip netns add "$p-$ns"
    ip -n "$p-$ns" link set lo up
  done
  ip -n "$p-sw" link add br-ext type bridge
  ip -n "$p-sw" link add br-int type bridge
  ip -n "$p-sw" link set br-ext up
  ip -n "$p-sw" link set br-int up
  topo_link "$p" cl eth0 10.99.1.50/24 br-ext cl
  topo_link "$p" lb1 eth0 10.99.1.10/24 br-ext lb1e
  topo_link "$p" lb1 eth1 10.99.2.10/24 br-int lb1i
  for i in $(seq 1 "$n"); do
    topo_link "$p" "be$i" eth0 "10.99.2.$((10 + i))/24" br-int "be$i"
  done
}

topo_down() { # PREFIX
  local p=$1 ns
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$p-"); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

# Cluster topology (the demo's): three LB nodes n1..n3, a client, three backends.
#   br-ext  10.99.1.0/24  n1..n3 eth0 .11-.13 (VIPs live here), client cl eth0 .50
#   br-int  10.99.2.0/24  n1..n3 eth1 .21-.23, backends be1..be3 eth0 .11-.13
#   br-mgmt 10.77.0.0/24  n1..n3 eth2 .11-.13 (API, gossip; cluster API VIP .100), client cl eth1 .50
topo_cluster_up() { # PREFIX
  local p=$1 ns i
  for ns in sw cl n1 n2 n3 be1 be2 be3; do
    ip netns add "$p-$ns"
    ip -n "$p-$ns" link set lo up
  done
  for br in br-ext br-int br-mgmt; do
    ip -n "$p-sw" link add "$br" type bridge
    ip -n "$p-sw" link set "$br" up
  done
  topo_link "$p" cl eth0 10.99.1.50/24 br-ext cle
  topo_link "$p" cl eth1 10.77.0.50/24 br-mgmt clm
  for i in 1 2 3; do
    topo_link "$p" "n$i" eth0 "10.99.1.1$i/24" br-ext "n${i}e"
    topo_link "$p" "n$i" eth1 "10.99.2.2$i/24" br-int "n${i}i"
    topo_link "$p" "n$i" eth2 "10.77.0.1$i/24" br-mgmt "n${i}m"
    topo_link "$p" "be$i" eth0 "10.99.2.1$i/24" br-int "be$i"
  done
}
