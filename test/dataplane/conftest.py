"""Fixtures of the FlexLB data-plane suite: a network-namespace topology (test/lib/topology.sh),
real backends, real `flexlbd` with the data plane on INSIDE the LB namespace, real keepalived and
HAProxy started by it, traffic from the client namespace.

Everything is named with a per-run prefix and removed at teardown by the names and pids recorded
here: the processes in our namespaces (`ip netns pids NS`, which includes whatever flexlbd
started there), then the namespaces, then the temp dir. Needs root, iproute2, keepalived,
haproxy, wrk, socat, curl: a missing one is a failure, not a skip.
"""

from __future__ import annotations

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
TOPOLOGY_SH = REPO_ROOT / "test" / "lib" / "topology.sh"
BACKEND_PY = REPO_ROOT / "test" / "lib" / "backend.py"
CLIENT_PY = HERE / "client.py"

NODE = "lb1"
HTTP_PORT = 30080
TCP_PORT = 30090
BACKENDS = 3
API_TIMEOUT = 60.0  # a write may wait for `haproxy -c`
START_TIMEOUT = float(os.environ.get("FLEXLB_E2E_START_TIMEOUT", "60"))

# Reuse the API suite's helpers (binary lookup, `flexlb certs init`) without registering its fixtures.
_spec = importlib.util.spec_from_file_location("flexlb_e2e_conftest", REPO_ROOT / "test" / "e2e" / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
sys.path.insert(0, str(REPO_ROOT / "test" / "e2e"))
_spec.loader.exec_module(e2e)


def require_tools() -> None:
    if os.geteuid() != 0:
        pytest.fail("the data-plane suite needs root (network namespaces)", pytrace=False)
    missing = [t for t in ("ip", "keepalived", "haproxy", "wrk", "socat", "curl") if shutil.which(t) is None
               and not Path(f"/usr/sbin/{t}").exists()]
    if missing:
        pytest.fail(f"missing tools: {missing} (CI installs them; run test/run-tests.sh)", pytrace=False)




class Lab:
    """The topology, the backends and one flexlbd in PREFIX-lb1."""

    def __init__(self) -> None:
        self.prefix = f"fxdp{secrets.token_hex(3)}"
        self.root = Path(tempfile.mkdtemp(prefix=f"flexlb-dp-{self.prefix}-"))
        self.certs = self.root / "certs"
        self.data_dir = self.root / "data"
        self.config_path = self.root / "config.yaml"
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.port = 9443
        self.namespaces: list[str] = []
        self.flexlbd: subprocess.Popen | None = None
        self.flexlbd_starts = 0
        self.backends: dict[str, subprocess.Popen] = {}
        self.tcp_backends: dict[str, subprocess.Popen] = {}
        self.helpers: list[subprocess.Popen] = []

    def ns(self, short: str) -> str:
        return f"{self.prefix}-{short}"

    # -- topology -------------------------------------------------------------------------

    def up(self) -> None:
        expected = [self.ns(n) for n in ["sw", "cl", "lb1"] + [f"be{i}" for i in range(1, BACKENDS + 1)]]
        existing = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())
        assert not (set(expected) & existing), f"namespaces of prefix {self.prefix} already exist"
        # Recorded before creation so that a half-built topology is still removed.
        self.namespaces = expected
        r = subprocess.run(["bash", "-c", 'set -e; source "$1"; topo_up "$2" "$3"', "topo",
                            str(TOPOLOGY_SH), self.prefix, str(BACKENDS)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"topo_up failed: {r.stdout}\n{r.stderr}"

    def exec_argv(self, short: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns(short), *argv]

    def run(self, short: str, *argv: str, timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
        r = subprocess.run(self.exec_argv(short, *argv), capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"{argv} in {short} failed ({r.returncode}): {r.stdout}\n{r.stderr}"
        return r

    def popen(self, short: str, *argv: str, log: str | None = None) -> subprocess.Popen:
        out = open(self.logs / log, "ab") if log else subprocess.DEVNULL
        try:
            return subprocess.Popen(self.exec_argv(short, *argv), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=out if log else subprocess.DEVNULL)
        finally:
            if log:
                out.close()

    # -- backends -------------------------------------------------------------------------

    def start_backend(self, i: int) -> None:
        name = f"be{i}"
        self.backends[name] = self.popen(name, sys.executable, str(BACKEND_PY), name, str(HTTP_PORT),
                                         log=f"backend-{name}.log")
        # Listening? (checked from inside the backend's own namespace)
        poll(f"{name} listening", lambda: self.run(name, "curl", "-sS", "-m", "1",
                                                   f"http://10.99.2.{10 + i}:{HTTP_PORT}/").stdout.strip() == name, 15)

    def start_backends(self) -> None:
        for i in range(1, BACKENDS + 1):
            self.start_backend(i)
            name = f"be{i}"
            # Fixed strings only: SYSTEM runs /bin/sh -c "echo beN".
            self.tcp_backends[name] = self.popen(name, "socat", f"TCP-LISTEN:{TCP_PORT},fork,reuseaddr",
                                                 f"SYSTEM:echo {name}", log=f"tcp-{name}.log")

    def kill_backend(self, name: str) -> None:
        p = self.backends[name]
        p.kill()
        p.wait(timeout=10)

    # -- flexlbd --------------------------------------------------------------------------

    def init_certs(self) -> None:
        r = e2e.certs_init(self.certs)
        assert r.returncode == 0, f"flexlb certs init failed: {r.stdout}\n{r.stderr}"

    def config(self) -> dict:
        return {
            "name": NODE,
            "tls_host": "127.0.0.1",
            "tls_port": self.port,
            "tls_cert": str(self.certs / "server.crt"),
            "tls_key": str(self.certs / "server.key"),
            "tls_ca_cert": str(self.certs / "ca.crt"),
            "data_dir": str(self.data_dir),
            "log_level": "info",
            "data_plane": {"enabled": True},
        }

    def start_flexlbd(self) -> None:
        assert self.flexlbd is None or self.flexlbd.poll() is not None, "flexlbd already running"
        flexlbd = e2e.require_binary(e2e.flexlbd_path())
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        self.flexlbd_starts += 1
        self.flexlbd = self.popen("lb1", str(flexlbd), "--config", str(self.config_path),
                                  log=f"flexlbd.{self.flexlbd_starts}.stderr")
        # `ip netns exec` execs the command: this pid is flexlbd's.

        def live() -> bool:
            if self.flexlbd.poll() is not None:
                raise RuntimeError(f"flexlbd exited with {self.flexlbd.returncode}\n{self.flexlbd_log()}")
            status, _ = self.api("GET", "/livez", timeout=5, allow_fail=True)
            return status == 200

        poll("flexlbd live", live, START_TIMEOUT, 0.1)

    def kill9_flexlbd(self) -> None:
        assert self.flexlbd is not None and self.flexlbd.poll() is None
        self.flexlbd.send_signal(signal.SIGKILL)
        self.flexlbd.wait(timeout=10)

    def flexlbd_log(self, n: int | None = None) -> str:
        n = n or self.flexlbd_starts
        p = self.logs / f"flexlbd.{n}.stderr"
        return p.read_text(errors="replace") if p.exists() else ""

    # -- API (curl inside the LB namespace) -------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = API_TIMEOUT,
            allow_fail: bool = False) -> tuple[int, Any]:
        argv = ["curl", "-sS", "-m", str(timeout), "--cacert", str(self.certs / "ca.crt"),
                "--cert", str(self.certs / "client.crt"), "--key", str(self.certs / "client.key"),
                "-X", method, "-w", "\n%{http_code}"]
        data = None
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
            data = json.dumps(body)
        argv.append(f"https://127.0.0.1:{self.port}/flexlb/v1{path}")
        r = subprocess.run(self.exec_argv("lb1", *argv), input=data, capture_output=True, text=True,
                           timeout=timeout + 10)
        if r.returncode != 0:
            if allow_fail:
                return 0, r.stderr
            raise AssertionError(f"curl {method} {path} failed ({r.returncode}): {r.stderr}")
        text, _, code = r.stdout.rpartition("\n")
        try:
            payload = json.loads(text) if text.strip() else None
        except ValueError:
            payload = text
        return int(code), payload

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, payload = self.api(method, path, body)
        assert status == expect, f"{method} {path}: expected {expect}, got {status}: {payload}"
        return payload

    def instance(self, name: str) -> dict:
        return self.call("GET", f"/instances/{name}")

    def node_status(self, name: str) -> dict:
        return (self.instance(name).get("nodes") or {}).get(NODE) or {}

    def wait_up(self, name: str, timeout: float = 30) -> dict:
        def check():
            inst = self.instance(name)
            st = (inst.get("nodes") or {}).get(NODE) or {}
            if st.get("state") == "up" and st.get("applied_version") == inst.get("version"):
                return inst
            return None
        return poll(f"instance {name} up", check, timeout, 0.2)

    # -- traffic from the client namespace ------------------------------------------------------

    def http(self, url: str, count: int, timeout: float = 2.0) -> dict:
        r = self.run("cl", sys.executable, str(CLIENT_PY), "http", url, str(count), str(timeout),
                     timeout=count * (timeout + 1) + 30, check=True)
        return json.loads(r.stdout)

    def tcp(self, host: str, port: int, count: int, timeout: float = 2.0) -> dict:
        r = self.run("cl", sys.executable, str(CLIENT_PY), "tcp", host, str(port), str(count), str(timeout),
                     timeout=count * (timeout + 1) + 30, check=True)
        return json.loads(r.stdout)

    def start_loop(self, url: str, interval: float, timeout: float) -> "Loop":
        return Loop(self, url, interval, timeout)

    # -- files and processes of the data plane ----------------------------------------------------

    def haproxy_cfg(self, name: str) -> Path:
        return self.data_dir / "haproxy" / f"{name}.cfg"

    def haproxy_pid(self, name: str) -> int | None:
        p = self.data_dir / "run" / f"{name}.pid"
        try:
            return int(p.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def keepalived_conf(self) -> str:
        p = self.data_dir / "keepalived" / "keepalived.conf"
        return p.read_text() if p.exists() else ""

    def ns_pids(self, short: str) -> set[int]:
        r = subprocess.run(["ip", "netns", "pids", self.ns(short)], capture_output=True, text=True)
        return {int(x) for x in r.stdout.split()}

    def eth0_addrs(self) -> str:
        return subprocess.run(["ip", "-n", self.ns("lb1"), "-o", "addr", "show", "dev", "eth0"],
                              capture_output=True, text=True).stdout

    # -- teardown ---------------------------------------------------------------------------

    def diagnostics(self) -> str:
        out = []
        for p in sorted(self.logs.glob("flexlbd.*.stderr")):
            out.append(f"---- {p.name} (tail) ----\n{p.read_text(errors='replace')[-8000:]}")
        logdir = self.data_dir / "log"
        if logdir.is_dir():
            for p in sorted(logdir.iterdir()):
                if p.is_file():
                    out.append(f"---- data_dir/log/{p.name} (tail) ----\n{p.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)

    def down(self) -> None:
        for p in self.helpers:
            if p.poll() is None:
                p.kill()
        # Everything running in our namespaces (flexlbd, keepalived, HAProxy, backends, clients).
        for _ in range(3):
            for ns in self.namespaces:
                for pid in self.ns_pids_full(ns):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        for p in [self.flexlbd, *self.backends.values(), *self.tcp_backends.values(), *self.helpers]:
            if p is not None:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    @staticmethod
    def ns_pids_full(ns: str) -> list[int]:
        r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        return [int(x) for x in r.stdout.split()]


class Loop:
    """A request loop in the client namespace until stopped (client.py loop)."""

    def __init__(self, lab: Lab, url: str, interval: float, timeout: float):
        self.lab = lab
        self.stopfile = lab.root / f"stop-{time.monotonic_ns()}"
        self.out = lab.root / f"loop-{time.monotonic_ns()}.json"
        f = open(self.out, "wb")
        try:
            self.proc = subprocess.Popen(lab.exec_argv("cl", sys.executable, str(CLIENT_PY), "loop", url,
                                                       str(interval), str(timeout), str(self.stopfile)),
                                         stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE)
        finally:
            f.close()
        lab.helpers.append(self.proc)

    def stop(self) -> dict:
        self.stopfile.touch()
        _, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, f"request loop failed: {err.decode(errors='replace')}"
        return json.loads(self.out.read_text())


_LAB: Lab | None = None


def _terminate(signum, frame):
    # `timeout` (test/run-tests.sh) sends SIGTERM: turn it into an interrupt so that the fixture
    # teardown still removes our namespaces and processes.
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _terminate)


@pytest.fixture(scope="module")
def lab(request) -> Lab:
    global _LAB
    require_tools()
    lab = Lab()
    failed_before = request.session.testsfailed
    try:
        lab.up()
        lab.start_backends()
        lab.init_certs()
        lab.start_flexlbd()
        _LAB = lab
        yield lab
    finally:
        _LAB = None
        close_lab(lab, request, failed_before, "data-plane")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach flexlbd's stderr and the data-plane logs to the report."""
    attach_diagnostics((yield), _LAB, "flexlbd and data-plane logs")
