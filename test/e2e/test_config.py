"""flexlbd's configuration file and process lifecycle: strict keys, clear startup errors, SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from conftest import flexlbd_path, require_binary


def _run(server, cfg: dict, timeout: float = 30) -> subprocess.CompletedProcess:
    path = server.write_config(cfg, server.root / "bad.yaml")
    argv = [str(require_binary(flexlbd_path())), "--config", str(path)]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:  # the child was killed by subprocess.run
        pytest.fail(f"flexlbd started with an invalid config instead of exiting: {e.stderr!r}")


@pytest.mark.parametrize("key,value", [
    ("unknown_key", 1),
    ("host", "127.0.0.1"),      # 0.4's plaintext listener: we have none, so the key is unknown
    ("tls_portt", 1234),
])
def test_unknown_key_is_refused_by_name(unstarted_server, key, value):
    cfg = unstarted_server.config()
    cfg[key] = value
    r = _run(unstarted_server, cfg)
    assert r.returncode != 0
    assert key in r.stderr + r.stdout, f"message does not name {key!r}: {r.stderr[-2000:]}"


@pytest.mark.parametrize("key,value", [
    ("log_level", "verbose"),
    ("tls_port", "not-a-port"),
    ("tls_port", 70000),
    ("tls_cert", "/nonexistent/server.crt"),
    ("tls_ca_cert", "/nonexistent/ca.crt"),
    ("name", ""),
])
def test_bad_value_is_refused_by_name(unstarted_server, key, value):
    cfg = unstarted_server.config()
    cfg[key] = value
    r = _run(unstarted_server, cfg)
    assert r.returncode != 0
    assert key in r.stderr + r.stdout, f"message does not name {key!r}: {r.stderr[-2000:]}"


@pytest.mark.parametrize("haproxy,key", [
    ({"user": "nobody"}, "haproxy.user"),  # nobody is the default check_user
    ({"user": "haproxy", "check_user": "haproxy"}, "haproxy.check_user"),
])
def test_one_account_for_haproxy_workers_and_checks_is_refused(unstarted_server, haproxy, key):
    cfg = unstarted_server.config()
    cfg["haproxy"] = {**cfg.get("haproxy", {}), **haproxy}
    r = _run(unstarted_server, cfg)
    assert r.returncode != 0
    assert key in r.stderr and "its own account" in r.stderr, f"message does not name {key!r}: {r.stderr[-2000:]}"


def test_unparseable_yaml_is_refused(unstarted_server):
    p = unstarted_server.root / "broken.yaml"
    p.write_text("name: [unclosed\n")
    r = subprocess.run([str(require_binary(flexlbd_path())), "--config", str(p)], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode != 0 and r.stderr.strip()


def test_sigterm_exits_zero(fresh_server, fresh_api):
    fresh_api.request("GET", "/livez", expect=200)
    fresh_server.signal(signal.SIGTERM)
    code = fresh_server.proc.wait(timeout=15)
    assert code == 0, f"exit {code}\n{fresh_server.log_tail()}"


def test_logs_go_to_stderr(fresh_server, fresh_api):
    fresh_api.request("GET", "/livez", expect=200)
    assert fresh_server.stop() == 0
    assert fresh_server.log_path.read_text(errors="replace").strip(), "flexlbd logged nothing"


def _listeners(port: int) -> str:
    r = subprocess.run(["ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True, timeout=30)
    return r.stdout


# That keepalived and HAProxy do not inherit the API socket is tested where the data plane runs:
# test/dataplane (network namespaces), by restarting flexlbd on the same port while they keep running.


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "sigkill"])
def test_restart_on_the_same_port(fresh_server, fresh_api, hard):
    from e2e_support import template_body

    fresh_api.create(template_body("same-port", vip="127.169.0.2"), expect=200)
    fresh_server.restart(hard=hard)
    assert [i["config"]["name"] for i in fresh_api.list()] == ["same-port"]
