"""Connections before any certificate (issue 9, part 1): handshake, request-head and idle timeouts,
and a cap on connections at which a legitimate client is still served."""

from __future__ import annotations

import os
import socket
import ssl
import time

import pytest

from conftest import make_server
from e2e_support import BASE_PATH, _complete, client_context, tls_request

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


# -- request heads after the handshake -------------------------------------------------------------

HEAD_TIMEOUT = 2.0
SLACK = 3.0
KEEP_ALIVE_REQ = f"GET {BASE_PATH}/livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


@pytest.fixture(scope="module")
def head_limited(request):
    # A long idle timeout, so only the request-head timeout can close a connection that trickles.
    server = make_server("heads", request, start=False)
    server.overrides = {"api": {"request_head_timeout": f"{HEAD_TIMEOUT:g}s", "idle_timeout": "60s"}}
    server.start()
    return server


def _trickle_head(s: ssl.SSLSocket, seconds: float, meanwhile=None) -> float | None:
    """Sends a request line, then one header byte a second (calling `meanwhile` after the first);
    returns when the server closed the connection, in seconds after the request line, or None if it
    was still open after `seconds`."""
    s.sendall(f"GET {BASE_PATH}/livez HTTP/1.1\r\n".encode())
    started = time.monotonic()
    header = b"X-Slow: " + b"a" * 1000
    sent = 0
    s.settimeout(0.1)
    while time.monotonic() - started < seconds:
        try:
            if s.recv(4096) == b"":
                return time.monotonic() - started
        except (socket.timeout, ssl.SSLWantReadError):
            pass
        except OSError:
            return time.monotonic() - started
        if time.monotonic() - started >= sent:
            try:
                s.send(header[sent:sent + 1])
            except OSError:
                return time.monotonic() - started
            sent += 1
            if sent == 1 and meanwhile is not None:
                meanwhile()
    return None


def _tls(server) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return _client_ctx(server).wrap_socket(raw, server_hostname="127.0.0.1")


def _read_response(s: ssl.SSLSocket, timeout: float = 10) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while not _complete(data) and time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_request_head_trickled_after_the_handshake_is_closed(head_limited):
    legit = []
    with _tls(head_limited) as s:
        # A legitimate client is served while the slow one holds its connection.
        closed_after = _trickle_head(s, HEAD_TIMEOUT + SLACK + 5, meanwhile=lambda: legit.append(
            tls_request("127.0.0.1", head_limited.port, _client_ctx(head_limited), REQ, timeout=10)))
    assert legit and legit[0].status == 200, f"a legitimate client was not served: {legit[0].describe() if legit else None}"
    assert closed_after is not None, "a connection trickling its request head was kept past the request-head timeout"
    assert closed_after <= HEAD_TIMEOUT + SLACK, f"closed only after {closed_after:.1f}s"
    assert head_limited.alive()


def test_a_request_head_trickled_after_a_response_is_closed_but_the_idle_gap_is_not(head_limited):
    with _tls(head_limited) as s:
        s.sendall(KEEP_ALIVE_REQ)
        assert b" 200 " in _read_response(s).split(b"\r\n", 1)[0]
        # Idle between requests for longer than the head timeout: still open (the idle timeout rules).
        time.sleep(HEAD_TIMEOUT + 1)
        s.sendall(KEEP_ALIVE_REQ)
        assert b" 200 " in _read_response(s).split(b"\r\n", 1)[0], "a keep-alive connection idle between requests was closed"
        closed_after = _trickle_head(s, HEAD_TIMEOUT + SLACK + 5)
    assert closed_after is not None, "a second request trickling its head was kept past the request-head timeout"
    assert closed_after <= HEAD_TIMEOUT + SLACK, f"closed only after {closed_after:.1f}s"
