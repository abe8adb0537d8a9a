"""Cluster data-plane benchmark (test/bench-failover.sh): the failover suite's topology (three LB
nodes with flexlbd, keepalived and HAProxy; mgmt, external and traffic bridges; a client; three
backends), measured for
  1. owner crash (kill -9 of flexlbd, keepalived and HAProxy) and owner link cut at the switch:
     longest gap seen by a client sending one request every 5 ms (0.2 s timeout), BENCH_RUNS runs each;
  2. drain of the owner: gap and failed requests (5 runs);
  3. create on one node -> first HTTP 200 through the VIP from the client (BENCH_CREATES, default 50);
  4. VIP balance: owners of 30 instances over 3 nodes, and VIPs moved when a node leaves and rejoins;
  5. flexlbd RSS and idle CPU per node at 1 and 100 instances (and BENCH_SCALE instances when set).
Prints a Markdown summary."""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "failover"))
import conftest as fo  # noqa: E402
from conftest import NODES, Lab, poll  # noqa: E402
sys.path.insert(0, str(HERE.parent / "failover"))
from test_failover import body, single_holder, up_everywhere  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def rss_and_cpu(lab: Lab, node: str, seconds: float = 5.0) -> tuple[float, float]:
    pid = lab.procs[node].pid
    def ticks():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    rss = int(next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmRSS")).split()[1]) / 1024
    t0, c0 = time.monotonic(), ticks()
    time.sleep(seconds)
    cpu = (ticks() - c0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0) * 100
    return rss, cpu


def failover_runs(lab: Lab, runs: int, kind: str) -> list[float]:
    gaps = []
    for r in range(runs):
        name, vip = f"{kind}{r}", f"10.88.0.{100 + (30 if kind == 'cut' else 0) + r}"
        lab.call(NODES[r % 3], "POST", "/instances", body(name, vip))
        up_everywhere(lab, name)
        owner = single_holder(lab, vip)
        loop = lab.loop(f"http://{vip}/")
        time.sleep(0.5)
        if kind == "crash":
            lab.kill_node(owner)
        else:
            lab.sh("ip", "-n", lab.ns("sw"), "link", "set", f"{owner}e", "down")
        poll("moved", lambda: any(n != owner for n in lab.holders(vip)), 10, 0.02)
        time.sleep(1)
        result = loop.stop()
        gaps.append(result["gap"])
        if kind == "crash":
            lab.start(owner)
        else:
            lab.sh("ip", "-n", lab.ns("sw"), "link", "set", f"{owner}e", "up")
        for n in NODES:
            lab.wait_members(n, {m: "alive" for m in NODES}, timeout=30)
        single_holder(lab, vip)
        lab.call("n1", "DELETE", f"/instances/{name}")
    return gaps


def main() -> None:
    runs = int(os.environ.get("BENCH_RUNS", "10"))
    creates = int(os.environ.get("BENCH_CREATES", "50"))
    lab = Lab()
    try:
        lab.up(NODES)
        r = fo.base.e2e.certs_init(lab.certs, *sum((["--ip", fo.base.address(n)] for n in NODES), []), "--ip", fo.ENDPOINT)
        assert r.returncode == 0, r.stderr
        lab.start_backends()
        for n in NODES:
            lab.start(n)
        for n in NODES:
            lab.wait_members(n, {m: "alive" for m in NODES}, timeout=30)
        idle1 = {n: rss_and_cpu(lab, n) for n in NODES}

        crash = failover_runs(lab, runs, "crash")
        cut = failover_runs(lab, runs, "cut")

        drains = []
        for r in range(int(os.environ.get("BENCH_DRAINS", "5"))):
            lab.call("n1", "POST", "/instances", body(f"dr{r}", f"10.88.0.{60 + r}"))
            up_everywhere(lab, f"dr{r}")
            owner = single_holder(lab, f"10.88.0.{60 + r}")
            loop = lab.loop(f"http://10.88.0.{60 + r}/", 0.005, 1.0)
            time.sleep(0.5)
            lab.call(owner, "POST", f"/nodes/{owner}/drain")
            poll("moved", lambda: (lambda h: h and owner not in h)(lab.holders(f"10.88.0.{60 + r}")), 10, 0.01)
            time.sleep(1)
            res = loop.stop()
            drains.append((res["gap"], len(res["errors"]), res["attempts"]))
            lab.call(owner, "POST", f"/nodes/{owner}/undrain")
            lab.call("n1", "DELETE", f"/instances/dr{r}")

        first = []
        for i in range(creates):
            name, vip = f"c{i:03d}", f"10.88.0.{150 + i}"
            lab.call(NODES[i % 3], "POST", "/instances", body(name, vip))
            t0 = time.monotonic()
            poll("first 200", lambda: lab.run_in_client(vip), 30, 0.005)
            first.append(time.monotonic() - t0)

        balance_names = [f"c{i:03d}" for i in range(min(30, creates))]
        owners = {n: single_holder(lab, f"10.88.0.{150 + i}") for i, n in enumerate(balance_names)}
        counts = {n: sum(1 for o in owners.values() if o == n) for n in NODES}
        lab.stop_node("n3")
        time.sleep(2)
        during = {n: single_holder(lab, f"10.88.0.{150 + i}") for i, n in enumerate(balance_names)}
        lab.start("n3")
        for n in NODES:
            lab.wait_members(n, {m: "alive" for m in NODES}, timeout=30)
        time.sleep(3)
        after = {n: single_holder(lab, f"10.88.0.{150 + i}") for i, n in enumerate(balance_names)}
        moved_leave = sum(1 for n in balance_names if during[n] != owners[n])
        moved_join = sum(1 for n in balance_names if after[n] != during[n])
        for i in range(creates, 100):
            lab.call(NODES[i % 3], "POST", "/instances", body(f"c{i:03d}", f"10.88.0.{150 + i}"))
        t0 = time.monotonic()
        poll("100 up", lambda: all(v["state"] == "up" for v in lab.call("n1", "GET", f"/instances/c099")["nodes"].values())
             and len(lab.call("n1", "GET", "/instances")) >= 101, 600, 0.5)
        apply100 = time.monotonic() - t0
        idle100 = {n: rss_and_cpu(lab, n) for n in NODES}
        scale = int(os.environ.get("BENCH_SCALE", "0"))
        scaled = None
        if scale > 100:
            # More instances than the external /24 holds: VIPs in 10.88.1.0/24 (announced as /16; no
            # client traffic, only "up on every node"), created from every node in turn.
            t0 = time.monotonic()
            for i in range(100, scale):
                b = body(f"s{i:04d}", f"10.88.{1 + (i - 100) // 250}.{1 + (i - 100) % 250}")
                b["frontend_net_prefix"] = 16
                lab.call(NODES[i % 3], "POST", "/instances", b)
            created = time.monotonic() - t0

            def all_up():
                if len(lab.call("n1", "GET", "/instances")) < scale + 1:
                    return None
                for n in NODES:
                    listed = lab.call(n, "GET", "/instances")
                    if not all(((i.get("nodes") or {}).get(n) or {}).get("state") == "up" for i in listed):
                        return None
                return True
            poll(f"{scale} up", all_up, 1800, 2)
            scaled = (scale, created, time.monotonic() - t0, {n: rss_and_cpu(lab, n) for n in NODES})

        print("\n## Cluster data plane (3 nodes, keepalived + HAProxy)\n")
        print(f"| measure | result |\n| --- | --- |")
        print(f"| owner crash (kill -9 flexlbd+keepalived+HAProxy), longest client gap, {len(crash)} runs | "
              f"p50 {statistics.median(crash):.3f} s, max {max(crash):.3f} s |")
        print(f"| owner link cut at the switch, longest client gap, {len(cut)} runs | "
              f"p50 {statistics.median(cut):.3f} s, max {max(cut):.3f} s |")
        print(f"| drain of the owner, {len(drains)} runs: longest gap / failed of attempts | "
              + "; ".join(f"{g:.3f} s {f}/{a}" for g, f, a in drains) + " |")
        print(f"| create on one node → first HTTP 200 through the VIP, n={len(first)} | p50 {pct(first, 50)*1000:.0f} ms, "
              f"p99 {pct(first, 99)*1000:.0f} ms |")
        print(f"| VIP owners of {len(balance_names)} instances | " + ", ".join(f"{n} {c}" for n, c in counts.items()) + " |")
        print(f"| n3 stopped cleanly, then back: VIPs moved on leave / on rejoin | {moved_leave} / {moved_join} |")
        print(f"| {100 - creates} more creates → all 100 up on every node | {apply100:.1f} s |")
        print("| flexlbd RSS / CPU per node, idle, 0 instances | " + ", ".join(f"{n} {r:.0f} MB {c:.1f} %" for n, (r, c) in idle1.items()) + " |")
        print("| flexlbd RSS / CPU per node, idle, 100 instances | " + ", ".join(f"{n} {r:.0f} MB {c:.1f} %" for n, (r, c) in idle100.items()) + " |")
        if scaled:
            count, created, applied, idle = scaled
            print(f"| {count - 100} more creates (POSTs took {created:.1f} s) → all {count} up on every node | {applied:.1f} s after the first POST |")
            print(f"| flexlbd RSS / CPU per node, idle, {count} instances | " + ", ".join(f"{n} {r:.0f} MB {c:.1f} %" for n, (r, c) in idle.items()) + " |")
    finally:
        lab.down()


def _run_in_client(self: Lab, vip: str) -> bool:
    r = subprocess.run(["ip", "netns", "exec", self.ns("cl"), "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "-m", "0.5", f"http://{vip}/"], capture_output=True, text=True)
    return r.stdout == "200"


Lab.run_in_client = _run_in_client

if __name__ == "__main__":
    main()
