"""Secrets, identity, roles and 0.4-readable errors (issue 9, parts 5 and 6)."""

from __future__ import annotations

import json
import sqlite3

import pytest
import requests

from conftest import make_server
from e2e_support import BASE_PATH, issue_cert, load_ca, template_ssl_body, write_pair

KEYS = ("server_key", "client_key")


def _keys_in(doc) -> list[str]:
    text = json.dumps(doc)
    return [k for k in KEYS if f'"{k}"' in text]


def test_private_keys_are_never_returned(api):
    body = template_ssl_body("sec-keys", vip="127.168.80.1")
    created = api.create(body, expect=200).json()
    assert _keys_in(created) == [], "create's answer carries private keys"
    assert _keys_in(api.get("sec-keys", expect=200).json()) == [], "get returns private keys"
    assert _keys_in(api.list()) == [], "list returns private keys"
    api.request("DELETE", "/instances/sec-keys", expect=200)


def test_get_edit_modify_keeps_the_stored_keys(api, module_server):
    body = template_ssl_body("sec-roundtrip", vip="127.168.80.2")
    api.create(body, expect=200)
    config = api.get("sec-roundtrip", expect=200).json()["config"]
    config["endpoints"][0]["balance"] = "leastconn"
    api.modify(config, expect=200)
    with sqlite3.connect(f"file:{module_server.db_path}?mode=ro", uri=True) as db:
        blob = bytes(db.execute("SELECT config FROM records WHERE name = ?", ("sec-roundtrip",)).fetchone()[0])
    fe_key = body["endpoints"][0]["frontend_ssl_options"]["server_key"]
    be_key = body["endpoints"][0]["backend_servers"][0]["check_ssl_options"]["client_key"]
    for key in (fe_key, be_key):
        # The stored configuration (JSON text in the record) still holds each key's base64 body.
        line = next(x for x in key.splitlines() if x and not x.startswith("-----"))
        assert line.encode() in blob, "a modify without keys dropped a stored key"
    assert b"leastconn" in blob
    assert "PRIVATE KEY" not in module_server.log_tail(200_000), "a private key reached the log"
    api.request("DELETE", "/instances/sec-roundtrip", expect=200)


def test_a_create_without_a_key_is_refused(api):
    body = template_ssl_body("sec-nokey", vip="127.168.80.3")
    del body["endpoints"][0]["frontend_ssl_options"]["server_key"]
    r = api.create(body, expect=400)
    assert "$.endpoints[0].frontend_ssl_options.server_key" in r.json()["message"]


def test_404_bodies_carry_error_and_status(api):
    r = api.request("GET", "/instances/no-such-instance", expect=404)
    body = r.json()
    assert body["status"] == 404 and body["error"] and body["message"], body


def test_400_message_summarises_the_violations(api):
    body = template_ssl_body("sec-400", vip="127.168.80.4")
    body["endpoints"][0]["frontend_port"] = 0
    r = api.create(body, expect=400)
    payload = r.json()
    assert payload["violations"], payload
    first = payload["violations"][0]
    assert first["path"] in payload["message"] and first["message"] in payload["message"], payload
    assert payload["status"] == 400


def test_each_request_log_line_names_the_client_subject(api, module_server):
    api.request("GET", "/instances", expect=200)
    assert "CN=admin" in module_server.log_tail(20_000), module_server.log_tail(3000)


@pytest.fixture(scope="module")
def roles_server(request):
    server = make_server("roles", request, start=False)
    server.overrides = {"roles": {"admin": ["admin"], "read_only": ["viewer"]}}
    server.start()
    ca, ca_key = load_ca(server.certs / "ca.crt", server.certs / "ca.key")
    for cn in ("viewer", "stranger"):
        cert, key = issue_cert(ca, ca_key, cn, client=True, server=False)
        write_pair(server.certs, cn, cert, key)
    return server


def _session(server, stem):
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE must not override verify=ca.crt
    s.verify = str(server.certs / "ca.crt")
    s.cert = (str(server.certs / f"{stem}.crt"), str(server.certs / f"{stem}.key"))
    return s


def test_roles_by_certificate(roles_server):
    base = f"https://127.0.0.1:{roles_server.port}{BASE_PATH}"
    body = template_ssl_body("roles-1", vip="127.168.80.5")
    viewer, stranger, admin = (_session(roles_server, s) for s in ("viewer", "stranger", "client"))
    assert viewer.get(f"{base}/instances", timeout=10).status_code == 200
    r = viewer.post(f"{base}/instances", json=body, timeout=10)
    assert r.status_code == 403 and "viewer" in r.json()["message"], r.text
    assert stranger.get(f"{base}/instances", timeout=10).status_code == 403
    assert admin.post(f"{base}/instances", json=body, timeout=10).status_code == 200
    assert viewer.delete(f"{base}/instances/roles-1", timeout=10).status_code == 403
    assert admin.delete(f"{base}/instances/roles-1", timeout=10).status_code == 200
