"""Fixtures of the FlexLB end-to-end suite: real `flexlb certs init`, real `flexlbd`, mTLS client.

Binaries: $FLEXLBD and $FLEXLB, else $FLEXLB_BIN_DIR/{flexlbd,flexlb}, else .build/debug/ of the
repository. A missing binary is a failure (CI builds them), not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_support import BASE_PATH, REPO_ROOT, Spec  # noqa: E402

urllib3.disable_warnings()  # never relevant: every request verifies against the generated CA

START_TIMEOUT = float(os.environ.get("FLEXLB_E2E_START_TIMEOUT", "60"))
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 30.0


def _bin_dir() -> Path:
    if os.environ.get("FLEXLB_BIN_DIR"):
        return Path(os.environ["FLEXLB_BIN_DIR"])
    return REPO_ROOT / ".build" / "debug"


def flexlbd_path() -> Path:
    return Path(os.environ.get("FLEXLBD") or _bin_dir() / "flexlbd")


def flexlb_path() -> Path:
    return Path(os.environ.get("FLEXLB") or _bin_dir() / "flexlb")


def require_binary(path: Path) -> Path:
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"required binary missing: {path} (run `swift build` first; CI builds it)", pytrace=False)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def certs_init(directory: Path, *extra: str, client_name: str = "admin") -> subprocess.CompletedProcess:
    """Runs the real `flexlb certs init` (argument vector, no shell)."""
    flexlb = require_binary(flexlb_path())
    argv = [str(flexlb), "certs", "init", "--dir", str(directory), "--ip", "127.0.0.1",
            "--dns", "localhost", "--client-name", client_name, *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


# --------------------------------------------------------------------------------------------
# The spec, loaded once
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec()


# --------------------------------------------------------------------------------------------
# HTTP client with spec checks
# --------------------------------------------------------------------------------------------


class Api:
    """mTLS client of one flexlbd. Every response is checked against openapi.yaml:

    - never a 5xx (these tests never give the server a reason for one);
    - a response to a spec operation with a documented status validates against that schema;
    - any other 4xx carries a JSON ErrorBody with a message.
    `documented=True` also requires the status to be documented for the operation.
    """

    def __init__(self, server: "Server", spec: Spec):
        self.server = server
        self.spec = spec
        self.session = self.new_session()
        self.seen_operations: set[str] = set()

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def new_session(self) -> requests.Session:
        s = requests.Session()
        s.trust_env = False  # no proxies, and REQUESTS_CA_BUNDLE must not override verify=ca.crt
        s.cert = (str(self.server.certs / "client.crt"), str(self.server.certs / "client.key"))
        s.verify = str(self.server.certs / "ca.crt")
        return s

    def url(self, path: str) -> str:
        return self.base + (path if path.startswith(BASE_PATH) else BASE_PATH + path)

    def request(self, method: str, path: str, *, documented: bool = False, session=None,
                expect: int | tuple[int, ...] | None = None, **kw) -> requests.Response:
        kw.setdefault("timeout", REQUEST_TIMEOUT)
        full = path if path.startswith(BASE_PATH) else BASE_PATH + path
        resp = (session or self.session).request(method, self.base + full, **kw)
        self.check(method, full, resp, documented=documented)
        if expect is not None:
            wanted = (expect,) if isinstance(expect, int) else expect
            assert resp.status_code in wanted, (
                f"{method} {full}: expected {wanted}, got {resp.status_code}: {resp.text[:2000]}"
            )
        return resp

    def check(self, method: str, full_path: str, resp: requests.Response, documented: bool = False) -> None:
        status = resp.status_code
        assert status < 500, f"{method} {full_path} answered {status}: {resp.text[:2000]}\n{self.server.log_tail()}"
        op = self.spec.match(method, full_path)
        if op is not None:
            self.seen_operations.add(f"{op} {status}")
            if documented:
                assert str(status) in self.spec.documented_statuses(op), (
                    f"{op}: status {status} not documented ({self.spec.documented_statuses(op)}): {resp.text[:500]}"
                )
            if op == "getOpenAPI" and status == 200:
                return
            schema = self.spec.response_schema(op, status)
            if schema is not None:
                body = self.json(resp)
                errs = self.spec.errors(schema, body)
                assert not errs, f"{op} {status} body does not match the spec: {[e.message for e in errs][:5]}\n{resp.text[:2000]}"
                if self.spec.response_spec(op, status).get("headers", {}).get("ETag"):
                    etag = resp.headers.get("ETag")
                    assert etag, f"{op} {status}: no ETag header"
                    assert etag.startswith('"') and etag.endswith('"') and len(etag) >= 2, (
                        f"{op}: ETag must be strong and quoted: {etag!r}"
                    )
                return
        if status >= 400:
            body = self.json(resp)
            errs = self.spec.errors(self.spec.schema_ref("ErrorBody"), body)
            assert not errs, f"{method} {full_path} {status}: error body is not an ErrorBody: {resp.text[:1000]}"
            assert body["message"].strip(), f"{method} {full_path} {status}: empty message"

    @staticmethod
    def json(resp: requests.Response) -> Any:
        ctype = resp.headers.get("Content-Type", "")
        assert "json" in ctype, f"expected a JSON response, Content-Type={ctype!r}: {resp.text[:500]}"
        try:
            return resp.json()
        except ValueError as e:
            raise AssertionError(f"response is not JSON: {e}: {resp.text[:500]}") from None

    def stream(self, method: str, path: str, data: bytes, content_type: str = "application/json",
               documented: bool = False, expect: int | None = None):
        """Sends a (large) body on a raw TLS connection, reading an early answer as soon as it
        comes: a server may refuse an oversized body before reading it and close the connection,
        which `requests` reports as a connection error instead of the response."""
        from e2e_support import client_context, parse_json_body, send_streaming_body

        full = path if path.startswith(BASE_PATH) else BASE_PATH + path
        head = (f"{method} {full} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
        c = self.server.certs
        ex = send_streaming_body("127.0.0.1", self.server.port,
                                 client_context(c / "ca.crt", c / "client.crt", c / "client.key"),
                                 head, len(data), body=data)
        assert ex.status is not None, f"{method} {full}: no HTTP response: {ex.describe()}"
        assert ex.status < 500, ex.describe()
        body = parse_json_body(ex.response)
        op = self.spec.match(method, full)
        if op is not None:
            self.seen_operations.add(f"{op} {ex.status}")
            if documented:
                assert str(ex.status) in self.spec.documented_statuses(op), ex.describe()
        if ex.status >= 400:
            assert not self.spec.errors(self.spec.schema_ref("ErrorBody"), body), ex.describe()
        if expect is not None:
            assert ex.status == expect, f"{method} {full}: expected {expect}: {ex.describe()}"
        return ex

    # Operations ---------------------------------------------------------------------------

    def create(self, body: Any, **kw) -> requests.Response:
        return self.request("POST", "/instances", json=body, **kw)

    def modify(self, body: Any, if_match: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if if_match is not None:
            headers["If-Match"] = if_match
        return self.request("PUT", "/instances", json=body, headers=headers, **kw)

    def get(self, name: str, **kw) -> requests.Response:
        return self.request("GET", f"/instances/{name}", **kw)

    def delete(self, name: str, if_match: str | None = None, **kw) -> requests.Response:
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.request("DELETE", f"/instances/{name}", headers=headers, **kw)

    def stop(self, name: str, if_match: str | None = None, **kw) -> requests.Response:
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.request("POST", f"/instances/{name}/stop", headers=headers, **kw)

    def start(self, name: str, if_match: str | None = None, **kw) -> requests.Response:
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.request("POST", f"/instances/{name}/start", headers=headers, **kw)

    def list(self, name: str | None = None, **kw) -> list:
        params = {"name": name} if name is not None else None
        resp = self.request("GET", "/instances", params=params, expect=200, **kw)
        return resp.json()

    DECLARED = ("config", "id", "desired_state", "version", "last_modified")

    def snapshot(self) -> list:
        """The declared part of every instance (observed status may change on its own), for
        'unchanged after a rejected request' checks."""
        return [{k: i.get(k) for k in self.DECLARED} for i in self.list()]

    def post_raw(self, data: bytes, content_type: str | None = "application/json", method: str = "POST",
                 path: str = "/instances", **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.request(method, path, data=data, headers=headers, **kw)


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


class Server:
    """One flexlbd in its own temp dir, with its own certificates, config and data dir."""

    def __init__(self, root: Path, name: str = "node1", log_level: str = "info"):
        self.root = root
        self.name = name
        self.certs = root / "certs"
        self.data_dir = root / "data"
        self.config_path = root / "config.yaml"
        self.log_dir = root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.starts = 0
        self.pids: list[int] = []
        # Keys of config.yaml a test sets before start() (they replace the defaults' top-level keys).
        self.overrides: dict = {}

    # -- setup ---------------------------------------------------------------------------

    def init_certs(self) -> None:
        r = certs_init(self.certs)
        assert r.returncode == 0, f"flexlb certs init failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        for f in ("ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key"):
            assert (self.certs / f).is_file(), f"certs init did not write {f}"

    def config(self, **overrides: Any) -> dict:
        cfg = {
            "name": self.name,
            "tls_host": "127.0.0.1",
            "tls_port": self.port,
            "tls_cert": str(self.certs / "server.crt"),
            "tls_key": str(self.certs / "server.key"),
            "tls_ca_cert": str(self.certs / "ca.crt"),
            "data_dir": str(self.data_dir),
            "log_level": self.log_level,
            # These tests run flexlbd in the host's network namespace: never let it run keepalived
            # or HAProxy here (VIPs would land on the host's interfaces). The data plane is tested in
            # network namespaces by test/dataplane.
            "data_plane": {"enabled": False},
            # ...and so VIPs and backends here are loopback addresses on `lo`, which the default
            # address policy refuses (test_address_policy.py checks the defaults).
            "address_policy": {"allow_loopback_vips": True, "allow_loopback_backends": True},
        }
        cfg.update(self.overrides)
        cfg.update(overrides)
        return cfg

    def write_config(self, cfg: dict | None = None, path: Path | None = None) -> Path:
        import yaml

        path = path or self.config_path
        path.write_text(yaml.safe_dump(cfg or self.config(), sort_keys=False))
        return path

    @property
    def db_path(self) -> Path:
        return self.data_dir / "flexlb.db"

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, wait: bool = True) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        flexlbd = require_binary(flexlbd_path())
        self.write_config()
        self.starts += 1
        self.log_path = self.log_dir / f"flexlbd.{self.starts}.stderr"
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [str(flexlbd), "--config", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=str(self.root),
            )
        finally:
            log.close()
        self.pids.append(self.proc.pid)
        if wait:
            self.wait_live()

    def wait_live(self, timeout: float = START_TIMEOUT) -> None:
        session = requests.Session()
        session.trust_env = False
        session.cert = (str(self.certs / "client.crt"), str(self.certs / "client.key"))
        session.verify = str(self.certs / "ca.crt")
        url = f"https://127.0.0.1:{self.port}{BASE_PATH}/livez"
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"flexlbd exited with {self.proc.returncode} during startup\n{self.log_tail()}")
            try:
                r = session.get(url, timeout=2)
                if r.status_code == 200:
                    return
                last = f"status {r.status_code}"
            except requests.RequestException as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"flexlbd not live after {timeout}s (last: {last})\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, then SIGKILL after the deadline; returns the exit code (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def kill9(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def restart(self, hard: bool = False, new_port: bool = False) -> None:
        """Stops (SIGKILL if hard, else SIGTERM) and starts again on the same data dir (and the
        same port unless new_port: tests about the store itself use a new port so that a port
        problem cannot hide a durability result; the same-port restart has its own test)."""
        if hard:
            self.kill9()
        else:
            code = self.stop()
            assert code == 0, f"flexlbd exited {code} on SIGTERM\n{self.log_tail()}"
        if new_port:
            self.port = free_port()
        self.start()

    def own_processes(self) -> list[int]:
        """Pids of processes (other than this test) whose command line names this server's
        private temp dir: flexlbd and the keepalived/HAProxy it spawned for our instances."""
        needle = str(self.root).encode()
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if needle in cmd:
                out.append(int(d))
        return out

    def reap_children(self, timeout: float = STOP_TIMEOUT) -> list[int]:
        """Ends the data-plane processes flexlbd left behind (by design they outlive it), one pid
        at a time: SIGTERM, then SIGKILL after the deadline. Returns the pids that were found."""
        pids = self.own_processes()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        alive = list(pids)
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if os.path.exists(f"/proc/{p}") and _not_zombie(p)]
            if alive:
                time.sleep(0.05)
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def signal(self, sig: int) -> None:
        assert self.alive()
        os.kill(self.pid, sig)

    def log_tail(self, chars: int = 6000) -> str:
        out = []
        for p in sorted(self.log_dir.glob("flexlbd.*.stderr")):
            try:
                text = p.read_text(errors="replace")
            except OSError:
                continue
            out.append(f"--- {p.name} (last {chars} chars) ---\n{text[-chars:]}")
        return "\n".join(out)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _new_root(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"flexlb-e2e-{prefix}-"))


_LIVE_SERVERS: list["Server"] = []


def _teardown(server: Server) -> None:
    try:
        server.stop()
        server.reap_children()
    finally:
        if server in _LIVE_SERVERS:
            _LIVE_SERVERS.remove(server)
        if os.environ.get("FLEXLB_E2E_SHOW_LOGS"):
            sys.stderr.write(f"\n==== flexlbd stderr ({server.root}) ====\n{server.log_tail()}\n")
        if not os.environ.get("FLEXLB_E2E_KEEP"):
            shutil.rmtree(server.root, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tail of every running flexlbd's stderr to the report."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"_flexlb_rep_{rep.when}", rep)
    if rep.failed:
        for srv in _LIVE_SERVERS:
            rep.sections.append((f"flexlbd stderr ({srv.root.name}, pid {srv.proc.pid if srv.proc else '-'})",
                                 srv.log_tail(3000)))


def make_server(prefix: str, request: pytest.FixtureRequest, start: bool = True, **kw) -> Server:
    server = Server(_new_root(prefix), **kw)
    request.addfinalizer(lambda: _teardown(server))
    _LIVE_SERVERS.append(server)
    server.init_certs()
    if start:
        server.start()
    return server


@pytest.fixture(scope="module")
def module_server(request) -> Server:
    """One running flexlbd per test module."""
    return make_server(request.module.__name__.rsplit(".", 1)[-1], request)


@pytest.fixture(scope="module")
def api(module_server, spec) -> Api:
    return Api(module_server, spec)


@pytest.fixture
def fresh_server(request) -> Server:
    """A flexlbd of this test alone (for tests that restart, kill or re-key it)."""
    return make_server(request.node.name[:40].replace("[", "-").replace("]", ""), request)


@pytest.fixture
def fresh_api(fresh_server, spec) -> Api:
    return Api(fresh_server, spec)


@pytest.fixture
def unstarted_server(request) -> Server:
    """Certificates and a config dir, no process yet."""
    return make_server("cfg", request, start=False)


def body_json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)[:3000]
