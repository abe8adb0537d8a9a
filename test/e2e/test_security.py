"""mTLS on the only listener, certificate hygiene, file modes, SIGHUP certificate reload."""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import socket
import ssl
import stat
import time

import pytest

from conftest import certs_init
from e2e_support import (BASE_PATH, client_context, issue_cert, load_ca, make_ca, peer_certificate_der,
                         template_body, tls_request, wait_for, write_pair)

REQ = f"GET {BASE_PATH}/livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
LIST_REQ = f"GET {BASE_PATH}/instances HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def _refused(ex) -> bool:
    """No HTTP response at all: the handshake failed, or the server closed / alerted before answering."""
    return ex.status is None


# -- client authentication --------------------------------------------------------------------


def test_valid_client_certificate_is_served(module_server):
    c = module_server.certs
    ex = tls_request("127.0.0.1", module_server.port, client_context(c / "ca.crt", c / "client.crt", c / "client.key"), REQ)
    assert ex.status == 200, ex.describe()


def test_no_client_certificate_is_refused(module_server):
    ctx = client_context(module_server.certs / "ca.crt")
    for req in (REQ, LIST_REQ):
        ex = tls_request("127.0.0.1", module_server.port, ctx, req)
        assert _refused(ex), f"served without a client certificate: {ex.describe()}"


def test_client_certificate_from_a_foreign_ca_is_refused(module_server, tmp_path):
    ca, ca_key = make_ca("Evil CA")
    cert, key = issue_cert(ca, ca_key, "admin", client=True, server=False)
    crt, keyf = write_pair(tmp_path, "foreign", cert, key)
    ctx = client_context(module_server.certs / "ca.crt", crt, keyf)
    for req in (REQ, LIST_REQ):
        ex = tls_request("127.0.0.1", module_server.port, ctx, req)
        assert _refused(ex), f"served a foreign-CA client: {ex.describe()}"


def test_self_signed_client_certificate_with_the_same_subject_is_refused(module_server, tmp_path):
    """A self-signed cert that copies the real CA's subject name must not pass as CA-signed."""
    real_ca, _ = load_ca(module_server.certs / "ca.crt", module_server.certs / "ca.key")
    cn = real_ca.subject.rfc4514_string().split("CN=")[-1].split(",")[0] or "FlexLB CA"
    fake_ca, fake_key = make_ca(cn)
    cert, key = issue_cert(fake_ca, fake_key, "admin", client=True, server=False)
    crt, keyf = write_pair(tmp_path, "impostor", cert, key)
    ex = tls_request("127.0.0.1", module_server.port,
                     client_context(module_server.certs / "ca.crt", crt, keyf), LIST_REQ)
    assert _refused(ex), ex.describe()


def test_expired_client_certificate_signed_by_the_real_ca_is_refused(module_server, tmp_path):
    ca, ca_key = load_ca(module_server.certs / "ca.crt", module_server.certs / "ca.key")
    now = datetime.datetime.now(datetime.timezone.utc)
    cert, key = issue_cert(ca, ca_key, "admin", client=True, server=False,
                           not_before=now - datetime.timedelta(days=10),
                           not_after=now - datetime.timedelta(days=1))
    crt, keyf = write_pair(tmp_path, "expired", cert, key)
    ex = tls_request("127.0.0.1", module_server.port,
                     client_context(module_server.certs / "ca.crt", crt, keyf), LIST_REQ)
    assert _refused(ex), f"served an expired client certificate: {ex.describe()}"


def test_not_yet_valid_client_certificate_is_refused(module_server, tmp_path):
    ca, ca_key = load_ca(module_server.certs / "ca.crt", module_server.certs / "ca.key")
    now = datetime.datetime.now(datetime.timezone.utc)
    cert, key = issue_cert(ca, ca_key, "admin", client=True, server=False,
                           not_before=now + datetime.timedelta(days=1),
                           not_after=now + datetime.timedelta(days=10))
    crt, keyf = write_pair(tmp_path, "future", cert, key)
    ex = tls_request("127.0.0.1", module_server.port,
                     client_context(module_server.certs / "ca.crt", crt, keyf), LIST_REQ)
    assert _refused(ex), ex.describe()


def test_fresh_client_certificate_signed_by_the_real_ca_is_served(module_server, tmp_path):
    """Control for the two tests above: the same construction, valid dates, is accepted."""
    ca, ca_key = load_ca(module_server.certs / "ca.crt", module_server.certs / "ca.key")
    cert, key = issue_cert(ca, ca_key, "operator", client=True, server=False)
    crt, keyf = write_pair(tmp_path, "fresh", cert, key)
    ex = tls_request("127.0.0.1", module_server.port,
                     client_context(module_server.certs / "ca.crt", crt, keyf), LIST_REQ)
    assert ex.status == 200, ex.describe()


def test_plain_http_gets_no_http_success(module_server):
    s = socket.create_connection(("127.0.0.1", module_server.port), timeout=10)
    data = b""
    try:
        s.sendall(LIST_REQ)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    assert not data.startswith(b"HTTP/1.1 2") and not data.startswith(b"HTTP/1.0 2"), data[:200]
    assert b'"instances"' not in data and b"frontend_ipaddress" not in data


def test_only_the_configured_address_listens(module_server):
    """tls_host 127.0.0.1: nothing answers on another loopback address at that port."""
    s = socket.socket()
    s.settimeout(2)
    try:
        code = s.connect_ex(("127.0.0.2", module_server.port))
    finally:
        s.close()
    assert code != 0, "flexlbd listens beyond tls_host"


# -- server certificate -----------------------------------------------------------------------


def test_server_certificate_verifies_for_ip_and_dns(module_server):
    c = module_server.certs
    for hostname in ("127.0.0.1", "localhost"):
        ctx = client_context(c / "ca.crt", c / "client.crt", c / "client.key", check_hostname=True)
        ex = tls_request("127.0.0.1", module_server.port, ctx, REQ, server_hostname=hostname)
        assert ex.handshake_ok and ex.status == 200, f"{hostname}: {ex.describe()}"
    ctx = client_context(c / "ca.crt", c / "client.crt", c / "client.key", check_hostname=True)
    ex = tls_request("127.0.0.1", module_server.port, ctx, REQ, server_hostname="not-this-host.example")
    assert not ex.handshake_ok and isinstance(ex.error, ssl.SSLCertVerificationError), ex.describe()


def test_certs_init_issues_p256_with_ip_and_dns_sans(module_server):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    c = module_server.certs
    ca = x509.load_pem_x509_certificate((c / "ca.crt").read_bytes())
    srv = x509.load_pem_x509_certificate((c / "server.crt").read_bytes())
    cli = x509.load_pem_x509_certificate((c / "client.crt").read_bytes())
    for cert in (ca, srv, cli):
        pk = cert.public_key()
        assert isinstance(pk, ec.EllipticCurvePublicKey) and pk.curve.name == "secp256r1"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = srv.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert not srv.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ExtendedKeyUsageOID.SERVER_AUTH in srv.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in cli.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert srv.issuer == ca.subject and cli.issuer == ca.subject
    assert srv.not_valid_after_utc > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)


def test_certs_init_refuses_to_overwrite_without_force(module_server):
    c = module_server.certs
    before = {f: (c / f).read_bytes() for f in ("ca.key", "server.key", "client.key")}
    r = certs_init(c)
    assert r.returncode != 0, "certs init overwrote an existing CA without --force"
    assert (r.stderr + r.stdout).strip(), "refusal without a message"
    assert {f: (c / f).read_bytes() for f in before} == before


# -- file modes -------------------------------------------------------------------------------


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_key_files_are_0600(module_server):
    for f in ("ca.key", "server.key", "client.key"):
        assert _mode(module_server.certs / f) == 0o600, f"{f}: {oct(_mode(module_server.certs / f))}"


def test_data_dir_0700_and_db_files_0600(api, module_server):
    api.create(template_body("mode-check", vip="127.168.30.1"), expect=200)
    assert _mode(module_server.data_dir) == 0o700, oct(_mode(module_server.data_dir))
    assert module_server.db_path.is_file(), f"no database at {module_server.db_path}"
    files = [p for p in module_server.data_dir.iterdir() if p.name.startswith("flexlb.db")]
    assert files
    for p in files:
        assert _mode(p) == 0o600, f"{p.name}: {oct(_mode(p))}"


# -- SIGHUP certificate reload ----------------------------------------------------------------


def _serial(server) -> int:
    from cryptography import x509

    c = server.certs
    der = peer_certificate_der("127.0.0.1", server.port, client_context(c / "ca.crt", c / "client.crt", c / "client.key"))
    return x509.load_der_x509_certificate(der).serial_number


def _replace_atomically(path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def test_sighup_reloads_the_server_certificate(fresh_server, fresh_api):
    from e2e_support import cert_pem, key_pem

    srv = fresh_server
    pid = srv.pid
    old_serial = _serial(srv)
    fresh_api.create(template_body("before-hup", vip="127.168.31.1"), expect=200)

    ca, ca_key = load_ca(srv.certs / "ca.crt", srv.certs / "ca.key")
    cert, key = issue_cert(ca, ca_key, "flexlbd-rotated", client=False, server=True,
                           ips=("127.0.0.1",), dns=("localhost",))
    _replace_atomically(srv.certs / "server.key", key_pem(key).encode())
    _replace_atomically(srv.certs / "server.crt", cert_pem(cert).encode(), 0o644)
    assert _serial(srv) == old_serial, "certificate changed before SIGHUP (reload must be explicit)"

    srv.signal(signal.SIGHUP)
    wait_for(lambda: _serial(srv) == cert.serial_number, timeout=15, what="the rotated certificate to be served")
    assert srv.alive() and srv.pid == pid, "SIGHUP restarted the process"
    # still the same store, still mTLS
    names = [i["config"]["name"] for i in fresh_api.list()]
    assert "before-hup" in names
    ex = tls_request("127.0.0.1", srv.port, client_context(srv.certs / "ca.crt"), LIST_REQ)
    assert ex.status is None, f"after reload a client without a certificate was served: {ex.describe()}"


def test_sighup_with_a_broken_certificate_keeps_serving(fresh_server, fresh_api):
    srv = fresh_server
    pid = srv.pid
    old_serial = _serial(srv)
    good = (srv.certs / "server.crt").read_bytes()
    _replace_atomically(srv.certs / "server.crt", b"-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n", 0o644)
    srv.signal(signal.SIGHUP)
    # the process must neither die nor stop serving with the old certificate
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert srv.alive(), f"flexlbd died on SIGHUP with a broken certificate\n{srv.log_tail()}"
        assert _serial(srv) == old_serial
        time.sleep(0.2)
    fresh_api.request("GET", "/livez", expect=200)
    _replace_atomically(srv.certs / "server.crt", good, 0o644)
    srv.signal(signal.SIGHUP)
    fresh_api.request("GET", "/livez", expect=200)
    assert srv.pid == pid


def test_sighup_with_a_new_ca_trusts_only_the_new_ca(fresh_server, tmp_path):
    """certs init --force makes a NEW CA: after SIGHUP old-CA clients are refused, new ones served."""
    srv = fresh_server
    pid = srv.pid
    old = tmp_path / "old"
    old.mkdir()
    for f in ("ca.crt", "client.crt", "client.key"):
        (old / f).write_bytes((srv.certs / f).read_bytes())
    r = certs_init(srv.certs, "--force")
    assert r.returncode == 0, r.stderr
    assert (srv.certs / "ca.crt").read_bytes() != (old / "ca.crt").read_bytes(), "--force did not make a new CA"
    srv.signal(signal.SIGHUP)
    new_ctx = client_context(srv.certs / "ca.crt", srv.certs / "client.crt", srv.certs / "client.key")
    wait_for(lambda: tls_request("127.0.0.1", srv.port, new_ctx, REQ).status == 200, timeout=15,
             what="the new CA's client to be served")
    old_client_new_trust = client_context(srv.certs / "ca.crt", old / "client.crt", old / "client.key")
    ex = tls_request("127.0.0.1", srv.port, old_client_new_trust, LIST_REQ)
    assert ex.status is None, f"a client of the replaced CA is still served: {ex.describe()}"
    assert srv.alive() and srv.pid == pid
