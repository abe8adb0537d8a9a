"""Cluster benchmark driver (test/bench-cluster.sh): three flexlbd nodes in network namespaces, as in
the cluster suite, measured for
  1. write on one node -> visible on all three (p50/p99 over BENCH_WRITES, default 100);
  2. partition {n1} | {n2, n3} with writes on both sides, heal -> identical stores (time, 5 runs);
  3. gossip bytes per second per node (nftables counters on the gossip port): idle, and under
     100 writes/s spread over the nodes.
Prints a Markdown summary. The nodes run with haproxy.check off so that the load measures sync, not
`haproxy -c`."""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "cluster"))
import conftest  # noqa: E402
from conftest import NODES, Cluster, address, poll  # noqa: E402

PROBE = HERE / "cluster_probe.py"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def probe(c: Cluster, *args: str, timeout: float = 600) -> dict:
    r = subprocess.run(["ip", "netns", "exec", c.ns("cl"), sys.executable, str(PROBE), *args],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def counters_up(c: Cluster) -> None:
    rules = """table inet flexlb_bench {
  chain out {
    type filter hook output priority 0; policy accept;
    udp dport 7946 counter
    udp sport 7946 counter
    tcp dport 7946 counter
    tcp sport 7946 counter
  }
}
"""
    for n in NODES:
        c.sh("ip", "netns", "exec", c.ns(n), "nft", "-f", "-", input=rules)


def gossip_bytes(c: Cluster, node: str) -> int:
    out = c.sh("ip", "netns", "exec", c.ns(node), "nft", "-j", "list", "table", "inet", "flexlb_bench")
    total = 0
    for item in json.loads(out)["nftables"]:
        rule = item.get("rule")
        if rule:
            for expr in rule["expr"]:
                if "counter" in expr:
                    total += expr["counter"]["bytes"]
    return total


def rate(c: Cluster, seconds: float, during=None) -> dict:
    before = {n: gossip_bytes(c, n) for n in NODES}
    t0 = time.monotonic()
    extra = during() if during else None
    time.sleep(max(0.0, seconds - (time.monotonic() - t0)))
    elapsed = time.monotonic() - t0
    after = {n: gossip_bytes(c, n) for n in NODES}
    return {"per_node": {n: (after[n] - before[n]) / elapsed for n in NODES}, "extra": extra}


def main() -> None:
    writes = int(os.environ.get("BENCH_WRITES", "100"))
    c = Cluster()
    # Measure sync, not `haproxy -c` (about 30 ms of CPU per create on this machine).
    c.extra = {"haproxy": {"check": False}}
    try:
        c.up(NODES)
        c.init_certs(NODES)
        for n in NODES:
            c.start(n)
        for n in NODES:
            c.wait_members(n, {m: "alive" for m in NODES}, timeout=30)
        hosts = [address(n) for n in NODES]

        vis = probe(c, "visibility", str(c.certs), str(writes), *hosts)["latencies"]
        heals = []
        for run in range(5):
            c.partition(["n1"], ["n2", "n3"])
            c.wait_members("n2", {"n1": "dead"}, timeout=30)
            c.call("n1", "POST", "/instances", {**base(f"heal-a{run}", 1000 + run)})
            c.call("n2", "POST", "/instances", {**base(f"heal-b{run}", 2000 + run)})
            c.heal()
            t0 = time.monotonic()
            poll("converged", lambda: c.converged(NODES), 30, 0.02)
            heals.append(time.monotonic() - t0)
            for n in NODES:
                c.wait_members(n, {m: "alive" for m in NODES}, timeout=30)

        counters_up(c)
        time.sleep(2)
        idle = rate(c, 10)
        loaded = rate(c, 10, lambda: probe(c, "load", str(c.certs), "100", "10", *hosts))
        print("\n## Cluster sync (3 nodes, data plane off)\n")
        print(f"- write on one node → visible on the other two: n={len(vis)}, p50 {pct(vis, 50)*1000:.1f} ms, "
              f"p99 {pct(vis, 99)*1000:.1f} ms, max {max(vis)*1000:.1f} ms")
        print(f"- partition {{n1}}|{{n2,n3}} with a write on each side, heal → identical stores: "
              f"{', '.join(f'{h:.2f}' for h in heals)} s (median {statistics.median(heals):.2f} s)")
        print(f"- gossip bytes/s sent per node, idle: " + ", ".join(f"{n} {v:.0f}" for n, v in idle["per_node"].items()))
        print(f"- gossip bytes/s sent per node, {loaded['extra']['writes'] / loaded['extra']['seconds']:.0f} writes/s "
              f"({loaded['extra']['errors']} errors): " + ", ".join(f"{n} {v:.0f}" for n, v in loaded["per_node"].items()))
    finally:
        c.down()


def base(name: str, i: int) -> dict:
    return {"name": name, "frontend_interface": "eth0", "frontend_ipaddress": f"10.55.{i // 250}.{1 + i % 250}",
            "frontend_net_prefix": 24,
            "endpoints": [{"frontend_port": 8080, "mode": "tcp", "balance": "roundrobin",
                           "backend_servers": [{"name": "s1", "ipaddress": "10.99.2.11", "port": 30080}]}]}


if __name__ == "__main__":
    main()
