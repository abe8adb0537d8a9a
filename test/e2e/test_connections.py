"""Connections before any certificate (issue 9, part 1): handshake and idle timeouts, and a cap on
connections at which a legitimate client is still served."""

from __future__ import annotations

import os
import socket
import ssl
import time

import pytest

from conftest import make_server
from e2e_support import BASE_PATH, client_context, tls_request

REQ = f"GET {BASE_PATH}/livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
CAP = 40


@pytest.fixture(scope="module")
def limited(request):
    server = make_server("conns", request, start=False)
    server.overrides = {"api": {"max_connections": CAP, "handshake_timeout": "1s", "idle_timeout": "1s"}}
    server.start()
    return server


def _closed_within(sock: socket.socket, seconds: float, drip: bytes | None = None) -> bool:
    """True if the server closes `sock` within `seconds` (dripping `drip` one byte at a time)."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.25)
    sent = 0
    while time.monotonic() < deadline:
        if drip is not None and sent < len(drip):
            try:
                sock.send(drip[sent:sent + 1])
            except OSError:
                return True
            sent += 1
        try:
            data = sock.recv(4096)
            if data == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def _client_ctx(server) -> ssl.SSLContext:
    c = server.certs
    return client_context(c / "ca.crt", c / "client.crt", c / "client.key")


def test_an_idle_tcp_connection_is_closed(limited):
    with socket.create_connection(("127.0.0.1", limited.port), timeout=5) as s:
        assert _closed_within(s, 6), "a connection that never started TLS is still open"


def test_a_slow_drip_client_hello_is_closed(limited):
    # A real ClientHello's first bytes, one every 0.25 s: the handshake never completes.
    hello = bytes.fromhex("16030100f4010000f00303") + os.urandom(32) + b"\x00" * 200
    with socket.create_connection(("127.0.0.1", limited.port), timeout=5) as s:
        assert _closed_within(s, 8, drip=hello), "a slow-drip ClientHello kept its connection"


def test_an_idle_authenticated_connection_is_closed(limited):
    raw = socket.create_connection(("127.0.0.1", limited.port), timeout=5)
    with _client_ctx(limited).wrap_socket(raw, server_hostname="127.0.0.1") as s:
        assert _closed_within(s, 8), "an idle TLS connection was kept"


def _fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_many_idle_connections_do_not_block_a_real_client(limited):
    baseline = _fd_count(limited.pid)
    held = []
    try:
        for _ in range(CAP * 4):
            held.append(socket.create_connection(("127.0.0.1", limited.port), timeout=5))
        time.sleep(0.3)
        ex = tls_request("127.0.0.1", limited.port, _client_ctx(limited), REQ, timeout=10)
        assert ex.status == 200, f"a legitimate client was not served at the cap: {ex.describe()}"
        # The cap holds: the server does not keep a descriptor per attacker connection.
        assert _fd_count(limited.pid) <= baseline + CAP + 10, (baseline, _fd_count(limited.pid))
    finally:
        for s in held:
            s.close()
    assert limited.alive()
