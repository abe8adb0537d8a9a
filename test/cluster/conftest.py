"""Fixtures of the cluster suite: three flexlbd nodes in network namespaces on one mgmt bridge,
gossiping with each other, and a client namespace on the same bridge.

  PREFIX-n1..n3  eth0 10.77.0.11-13/24  flexlbd (API :9443, gossip :7946), data plane off
  PREFIX-cl      eth0 10.77.0.50/24     API calls (curl) and measurement helpers
  PREFIX-sw      br0                    the switch; nftables bridge rules cut partitions

Everything is named with a per-run prefix and removed at teardown by those names and the pids
recorded here. Needs root and iproute2, nftables, curl: a missing one is a failure, not a skip.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from polling import poll  # noqa: E402,F401
from labs import attach_diagnostics, close_lab  # noqa: E402

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
START_TIMEOUT = float(os.environ.get("FLEXLB_E2E_START_TIMEOUT", "60"))
API_PORT = 9443
GOSSIP_PORT = 7946
NODES = ["n1", "n2", "n3"]

_spec = importlib.util.spec_from_file_location("flexlb_e2e_conftest", REPO_ROOT / "test" / "e2e" / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
sys.path.insert(0, str(REPO_ROOT / "test" / "e2e"))
_spec.loader.exec_module(e2e)


def require_tools() -> None:
    if os.geteuid() != 0:
        pytest.fail("the cluster suite needs root (network namespaces)", pytrace=False)
    missing = [t for t in ("ip", "nft", "curl") if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()]
    if missing:
        pytest.fail(f"missing tools: {missing} (CI installs them; run test/run-tests.sh)", pytrace=False)




def address(node: str) -> str:
    return f"10.77.0.{10 + int(node[1:])}"


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Cluster:
    def __init__(self) -> None:
        self.prefix = f"fxcl{secrets.token_hex(3)}"
        self.root = Path(tempfile.mkdtemp(prefix=f"flexlb-cluster-{self.prefix}-"))
        self.certs = self.root / "certs"
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.key = new_key()
        self.namespaces: list[str] = []
        self.procs: dict[str, subprocess.Popen] = {}
        self.starts: dict[str, int] = {}
        self.helpers: list[subprocess.Popen] = []
        self.partitioned = False
        # Extra top-level configuration for every node (benchmarks turn haproxy.check off).
        self.extra: dict = {}

    def ns(self, short: str) -> str:
        return f"{self.prefix}-{short}"

    # -- topology -----------------------------------------------------------------------------

    def up(self, nodes: list[str]) -> None:
        expected = [self.ns(n) for n in ["sw", "cl", *nodes]]
        existing = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())
        assert not (set(expected) & existing), f"namespaces of prefix {self.prefix} already exist"
        self.namespaces = expected
        for ns in expected:
            self.sh("ip", "netns", "add", ns)
            self.sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.sh("ip", "-n", self.ns("sw"), "link", "add", "br0", "type", "bridge")
        self.sh("ip", "-n", self.ns("sw"), "link", "set", "br0", "up")
        for short, addr in [("cl", "10.77.0.50"), *[(n, address(n)) for n in nodes]]:
            self.add_port(short, addr)

    def add_port(self, short: str, addr: str) -> None:
        port = f"{short}-p"
        self.sh("ip", "link", "add", port, "netns", self.ns("sw"), "type", "veth", "peer", "name", f"{port}-x",
                "netns", self.ns(short))
        self.sh("ip", "-n", self.ns(short), "link", "set", f"{port}-x", "name", "eth0")
        self.sh("ip", "-n", self.ns("sw"), "link", "set", port, "master", "br0", "up")
        self.sh("ip", "-n", self.ns(short), "addr", "add", f"{addr}/24", "dev", "eth0")
        self.sh("ip", "-n", self.ns(short), "link", "set", "eth0", "up")

    @staticmethod
    def sh(*argv: str, input: str | None = None) -> str:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, input=input)
        assert r.returncode == 0, f"{argv} failed ({r.returncode}): {r.stdout}\n{r.stderr}"
        return r.stdout

    def partition(self, side_a: list[str], side_b: list[str]) -> None:
        """Drops every frame between the two sides at the switch (both directions)."""
        rules = ["table bridge flexlb_partition {", "  chain forward {",
                 "    type filter hook forward priority 0; policy accept;"]
        for a in side_a:
            for b in side_b:
                rules.append(f'    iifname "{a}-p" oifname "{b}-p" drop')
                rules.append(f'    iifname "{b}-p" oifname "{a}-p" drop')
        rules += ["  }", "}"]
        self.sh("ip", "netns", "exec", self.ns("sw"), "nft", "-f", "-", input="\n".join(rules) + "\n")
        self.partitioned = True

    def heal(self) -> None:
        if self.partitioned:
            self.sh("ip", "netns", "exec", self.ns("sw"), "nft", "delete", "table", "bridge", "flexlb_partition")
            self.partitioned = False

    # -- flexlbd --------------------------------------------------------------------------------

    def init_certs(self, nodes: list[str]) -> None:
        extra: list[str] = []
        for n in nodes:
            extra += ["--ip", address(n)]
        r = e2e.certs_init(self.certs, *extra)
        assert r.returncode == 0, f"flexlb certs init failed: {r.stdout}\n{r.stderr}"

    def data_dir(self, node: str) -> Path:
        return self.root / f"data-{node}"

    def config(self, node: str, seeds: list[str], key: str | None = None, **cluster: Any) -> dict:
        c = {
            "name": node,
            "tls_host": address(node),
            "tls_port": API_PORT,
            "tls_cert": str(self.certs / "server.crt"),
            "tls_key": str(self.certs / "server.key"),
            "tls_ca_cert": str(self.certs / "ca.crt"),
            "data_dir": str(self.data_dir(node)),
            "log_level": "info",
            "data_plane": {"enabled": False},
            "cluster": {
                "advertize": f"{address(node)}:{GOSSIP_PORT}",
                "member": ",".join(f"{address(s)}:{GOSSIP_PORT}" for s in seeds if s != node),
                "secret_key": key or self.key,
                **cluster,
            },
            **self.extra,
        }
        return c

    def start(self, node: str, seeds: list[str] | None = None, key: str | None = None, wait: bool = True,
              **cluster: Any) -> None:
        p = self.procs.get(node)
        assert p is None or p.poll() is not None, f"{node} already running"
        flexlbd = e2e.require_binary(e2e.flexlbd_path())
        path = self.root / f"config-{node}.yaml"
        path.write_text(yaml.safe_dump(self.config(node, seeds if seeds is not None else NODES, key, **cluster),
                                       sort_keys=False))
        self.starts[node] = self.starts.get(node, 0) + 1
        log = open(self.logs / f"{node}.{self.starts[node]}.stderr", "ab")
        try:
            self.procs[node] = subprocess.Popen(["ip", "netns", "exec", self.ns(node), str(flexlbd), "--config", str(path)],
                                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        if wait:
            def live() -> bool:
                if self.procs[node].poll() is not None:
                    raise RuntimeError(f"{node} exited with {self.procs[node].returncode}\n{self.log(node)}")
                status, _ = self.api(node, "GET", "/livez", timeout=5, allow_fail=True)
                return status == 200
            poll(f"{node} live", live, START_TIMEOUT, 0.1)

    def kill(self, node: str, sig: int = signal.SIGKILL) -> None:
        p = self.procs[node]
        assert p.poll() is None, f"{node} is not running"
        p.send_signal(sig)
        p.wait(timeout=20)

    def log(self, node: str) -> str:
        n = self.starts.get(node, 1)
        p = self.logs / f"{node}.{n}.stderr"
        return p.read_text(errors="replace") if p.exists() else ""

    # -- API (curl in the client namespace) ---------------------------------------------------------

    def api(self, node: str, method: str, path: str, body: Any = None, timeout: float = 30,
            allow_fail: bool = False, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        argv = ["ip", "netns", "exec", self.ns("cl"), "curl", "-sS", "-m", str(timeout),
                "--cacert", str(self.certs / "ca.crt"), "--cert", str(self.certs / "client.crt"),
                "--key", str(self.certs / "client.key"), "-X", method, "-w", "\n%{http_code}"]
        for k, v in (headers or {}).items():
            argv += ["-H", f"{k}: {v}"]
        data = None
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
            data = json.dumps(body)
        argv.append(f"https://{address(node)}:{API_PORT}/flexlb/v1{path}")
        r = subprocess.run(argv, input=data, capture_output=True, text=True, timeout=timeout + 10)
        if r.returncode != 0:
            if allow_fail:
                return 0, r.stderr
            raise AssertionError(f"curl {method} {path} on {node} failed ({r.returncode}): {r.stderr}")
        text, _, code = r.stdout.rpartition("\n")
        try:
            payload = json.loads(text) if text.strip() else None
        except ValueError:
            payload = text
        return int(code), payload

    def call(self, node: str, method: str, path: str, body: Any = None, expect: int = 200, **kw: Any) -> Any:
        status, payload = self.api(node, method, path, body, **kw)
        assert status == expect, f"{method} {path} on {node}: expected {expect}, got {status}: {payload}"
        return payload

    def members(self, node: str) -> dict[str, str]:
        return {m["name"]: m["state"] for m in self.call(node, "GET", "/nodes")}

    def wait_members(self, node: str, want: dict[str, str], timeout: float = 20) -> None:
        poll(f"{node} sees {want}", lambda: all(self.members(node).get(k) == v for k, v in want.items()) or None,
             timeout, 0.2)

    def listing(self, node: str) -> dict[str, tuple[int, str]]:
        """name → (version, desired_state) of every instance node lists."""
        return {i["config"]["name"]: (i["version"], i.get("desired_state")) for i in self.call(node, "GET", "/instances")}

    def records(self, node: str) -> list[tuple]:
        """Every stored record, tombstones included, read from the node's database (read-only)."""
        import sqlite3
        db = sqlite3.connect(f"file:{self.data_dir(node) / 'flexlb.db'}?mode=ro", uri=True, timeout=10)
        try:
            return sorted(db.execute(
                "SELECT name, version, origin, deleted, created_version, created_origin FROM records").fetchall())
        finally:
            db.close()

    def converged(self, nodes: list[str]) -> bool:
        first = self.records(nodes[0])
        return all(self.records(n) == first for n in nodes[1:])

    # -- teardown -----------------------------------------------------------------------------------

    def diagnostics(self) -> str:
        out = []
        for p in sorted(self.logs.glob("*.stderr")):
            out.append(f"---- {p.name} (tail) ----\n{p.read_text(errors='replace')[-6000:]}")
        return "\n".join(out)

    def down(self) -> None:
        for p in self.helpers:
            if p.poll() is None:
                p.kill()
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
        for p in [*self.procs.values(), *self.helpers]:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(3):
            for ns in self.namespaces:
                r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
                for pid in [int(x) for x in r.stdout.split()]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


_CLUSTER: Cluster | None = None


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _terminate)


@pytest.fixture(scope="module")
def cluster(request) -> Cluster:
    """Three running nodes that see each other alive."""
    global _CLUSTER
    require_tools()
    c = Cluster()
    failed_before = request.session.testsfailed
    try:
        c.up(NODES + ["n4"])
        c.init_certs(NODES + ["n4"])
        for n in NODES:
            c.start(n)
        for n in NODES:
            c.wait_members(n, {m: "alive" for m in NODES}, timeout=30)
        _CLUSTER = c
        yield c
    finally:
        _CLUSTER = None
        close_lab(c, request, failed_before, "cluster")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    attach_diagnostics((yield), _CLUSTER, "flexlbd logs")
