"""Fixtures of the failover suite (cluster mode, part 2): three LB nodes, each with its own flexlbd,
keepalived and HAProxy, on three networks as in a real deployment, plus a client and three backends.

  bridge     network         members
  br-mgmt    10.77.0.0/24    n1..n3 eth0 .11-.13 (API :9443, gossip :7946); the cluster API VIP .100
  br-ext     10.88.0.0/24    n1..n3 eth1 .11-.13 (instance VIPs live here); client cl eth0 .50
  br-int     10.99.2.0/24    n1..n3 eth2 .11-.13; backends be1..be3 eth0 .21-.23 (HTTP :30080)

The client namespace also has a leg on br-mgmt (eth1 10.77.0.50) for API calls. Everything is
named with a per-run prefix and removed at teardown by recorded names and pids.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
_spec = importlib.util.spec_from_file_location("flexlb_cluster_conftest", REPO_ROOT / "test" / "cluster" / "conftest.py")
base = importlib.util.module_from_spec(_spec)
sys.path.insert(0, str(REPO_ROOT / "test" / "cluster"))
_spec.loader.exec_module(base)

BACKEND_PY = REPO_ROOT / "test" / "lib" / "backend.py"
CLIENT_PY = REPO_ROOT / "test" / "dataplane" / "client.py"
NODES = ["n1", "n2", "n3"]
HTTP_PORT = 30080
ENDPOINT = "10.77.0.100"
poll = base.poll
close_lab, attach_diagnostics = base.close_lab, base.attach_diagnostics


def ext(node: str) -> str:
    return f"10.88.0.{10 + int(node[1:])}"


class Lab(base.Cluster):
    def __init__(self) -> None:
        super().__init__()
        self.prefix = self.prefix.replace("fxcl", "fxfo")
        self.backends: list[subprocess.Popen] = []
        self.extra = {}

    def up(self, nodes: list[str]) -> None:
        shorts = ["sw", "cl", *nodes, "be1", "be2", "be3"]
        existing = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())
        assert not ({self.ns(s) for s in shorts} & existing)
        self.namespaces = [self.ns(s) for s in shorts]
        for s in shorts:
            self.sh("ip", "netns", "add", self.ns(s))
            self.sh("ip", "-n", self.ns(s), "link", "set", "lo", "up")
        for br in ("br-mgmt", "br-ext", "br-int"):
            self.sh("ip", "-n", self.ns("sw"), "link", "add", br, "type", "bridge")
            self.sh("ip", "-n", self.ns("sw"), "link", "set", br, "up")
        for n in nodes:
            self.link(n, "eth0", f"{base.address(n)}/24", "br-mgmt", f"{n}m")
            self.link(n, "eth1", f"{ext(n)}/24", "br-ext", f"{n}e")
            self.link(n, "eth2", f"10.99.2.{10 + int(n[1:])}/24", "br-int", f"{n}i")
            self.sh("ip", "netns", "exec", self.ns(n), "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1")
        self.link("cl", "eth0", "10.88.0.50/24", "br-ext", "cle")
        self.link("cl", "eth1", "10.77.0.50/24", "br-mgmt", "clm")
        for i in (1, 2, 3):
            self.link(f"be{i}", "eth0", f"10.99.2.{20 + i}/24", "br-int", f"be{i}")

    def link(self, short: str, ifname: str, addr: str, bridge: str, port: str) -> None:
        self.sh("ip", "link", "add", port, "netns", self.ns("sw"), "type", "veth", "peer", "name", f"{port}-x",
                "netns", self.ns(short))
        self.sh("ip", "-n", self.ns(short), "link", "set", f"{port}-x", "name", ifname)
        self.sh("ip", "-n", self.ns("sw"), "link", "set", port, "master", bridge, "up")
        self.sh("ip", "-n", self.ns(short), "addr", "add", addr, "dev", ifname)
        self.sh("ip", "-n", self.ns(short), "link", "set", ifname, "up")

    def config(self, node: str, seeds: list[str], key: str | None = None, **cluster: Any) -> dict:
        c = super().config(node, seeds, key, **cluster)
        c["data_plane"] = {"enabled": True}
        c["cluster"]["endpoint"] = f"{ENDPOINT}:8443"
        return c

    def start_backends(self) -> None:
        for i in (1, 2, 3):
            name = f"be{i}"
            self.backends.append(subprocess.Popen(
                ["ip", "netns", "exec", self.ns(name), sys.executable, str(BACKEND_PY), name, str(HTTP_PORT)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for i in (1, 2, 3):
            poll(f"be{i} up", lambda i=i: subprocess.run(
                ["ip", "netns", "exec", self.ns(f"be{i}"), "curl", "-sS", "-m", "1", f"http://10.99.2.{20 + i}:{HTTP_PORT}/"],
                capture_output=True, text=True).stdout.strip() == f"be{i}", 15)

    # -- observation ---------------------------------------------------------------------------

    def holders(self, vip: str, ifname: str = "eth1") -> list[str]:
        """The nodes whose kernel has `vip` on `ifname` right now."""
        out = []
        for n in NODES:
            r = subprocess.run(["ip", "-n", self.ns(n), "-o", "addr", "show", "dev", ifname], capture_output=True, text=True)
            if f" {vip}/" in r.stdout:
                out.append(n)
        return out

    def http(self, url: str, count: int, timeout: float = 2.0) -> dict:
        r = subprocess.run(["ip", "netns", "exec", self.ns("cl"), sys.executable, str(CLIENT_PY), "http", url, str(count),
                            str(timeout)], capture_output=True, text=True, timeout=count * (timeout + 1) + 30)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def loop(self, url: str, interval: float = 0.005, timeout: float = 0.2) -> "Loop":
        return Loop(self, url, interval, timeout)

    def kill_node(self, node: str) -> None:
        """kill -9 of everything in the node's namespace: flexlbd, keepalived, HAProxy."""
        r = subprocess.run(["ip", "netns", "pids", self.ns(node)], capture_output=True, text=True)
        for pid in [int(x) for x in r.stdout.split()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        p = self.procs.get(node)
        if p is not None:
            p.wait(timeout=20)

    def stop_node(self, node: str) -> None:
        """A clean shutdown of the whole node: flexlbd leaves the cluster, keepalived hands its VIPs
        over with priority-0 adverts, HAProxy stops."""
        self.kill(node, signal.SIGTERM)
        r = subprocess.run(["ip", "netns", "pids", self.ns(node)], capture_output=True, text=True)
        pids = [int(x) for x in r.stdout.split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        poll(f"{node} stopped", lambda: not subprocess.run(["ip", "netns", "pids", self.ns(node)], capture_output=True,
                                                          text=True).stdout.split(), 20, 0.1)

    def down(self) -> None:
        for p in self.backends:
            if p.poll() is None:
                p.kill()
        super().down()

    def diagnostics(self) -> str:
        out = [super().diagnostics()]
        for n in NODES:
            logdir = self.data_dir(n) / "log"
            if logdir.is_dir():
                for p in sorted(logdir.iterdir()):
                    if p.is_file() and p.stat().st_size:
                        out.append(f"---- {n} log/{p.name} (tail) ----\n{p.read_text(errors='replace')[-3000:]}")
        return "\n".join(out)


class Loop:
    """One GET every `interval` seconds from the client namespace until stopped."""

    def __init__(self, lab: Lab, url: str, interval: float, timeout: float):
        self.stopfile = lab.root / f"stop-{time.monotonic_ns()}"
        self.out = lab.root / f"loop-{time.monotonic_ns()}.json"
        f = open(self.out, "wb")
        try:
            self.proc = subprocess.Popen(["ip", "netns", "exec", lab.ns("cl"), sys.executable, str(CLIENT_PY), "loop", url,
                                          str(interval), str(timeout), str(self.stopfile)],
                                         stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE)
        finally:
            f.close()
        lab.helpers.append(self.proc)

    def stop(self) -> dict:
        self.stopfile.touch()
        _, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, err.decode(errors="replace")
        out = json.loads(self.out.read_text())
        out["gap"] = max_gap(out)
        return out


def max_gap(result: dict) -> float:
    """Longest time between two consecutive successful requests (seconds), from the failure marks."""
    errors = [t for t, _ in result["errors"]]
    if not errors:
        return 0.0
    # Errors come in runs; a run's length plus one interval is the gap the client saw.
    runs, start, last = [], errors[0], errors[0]
    for t in errors[1:]:
        if t - last > 0.5:
            runs.append(last - start)
            start = t
        last = t
    runs.append(last - start)
    return max(runs)


_LAB: Lab | None = None


@pytest.fixture(scope="module")
def lab(request) -> Lab:
    global _LAB
    base.require_tools()
    lab = Lab()
    failed_before = request.session.testsfailed
    try:
        lab.up(NODES)
        lab.init_certs(NODES)
        # The cluster API VIP needs to be in the server certificate too.
        shutil.rmtree(lab.certs, ignore_errors=True)
        r = base.e2e.certs_init(lab.certs, *sum((["--ip", base.address(n)] for n in NODES), []), "--ip", ENDPOINT)
        assert r.returncode == 0, r.stderr
        lab.start_backends()
        for n in NODES:
            lab.start(n)
        for n in NODES:
            lab.wait_members(n, {m: "alive" for m in NODES}, timeout=30)
        _LAB = lab
        yield lab
    finally:
        _LAB = None
        close_lab(lab, request, failed_before, "failover")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    attach_diagnostics((yield), _LAB, "flexlbd, keepalived and HAProxy logs")
