"""Address policy (issue 9, part 4): what a VIP, a backend and a check target may be.

flexlbd here runs with the default policy (no loopback allowance) and with interface checks on, so
the refusals are the node's, not the schema's. Every body below was accepted with 200 before.
"""

from __future__ import annotations

import socket

import pytest

from conftest import Api, make_server
from e2e_support import template_body, violation_paths


def _host_iface_and_address() -> tuple[str, str]:
    """A non-loopback interface of this host and one of its IPv4 addresses (read only; no traffic)."""
    import subprocess

    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts[1] != "lo":
            return parts[1], parts[3].split("/")[0]
    pytest.fail("this host has no non-loopback IPv4 address to test the node-address rule with")


@pytest.fixture(scope="module")
def strict_api(request, spec) -> Api:
    server = make_server("addrpol", request, start=False)
    server.overrides = {"address_policy": {"check_interfaces": True}}
    server.start()
    return Api(server, spec)


def _body(name, vip="10.250.1.10", iface=None):
    body = template_body(name, vip=vip)
    body["frontend_interface"] = iface or _host_iface_and_address()[0]
    for i, s in enumerate(body["endpoints"][0]["backend_servers"]):
        s["ipaddress"] = f"10.250.2.{10 + i}"
    return body


def _refused(api, body, path, word):
    r = api.create(body, expect=400)
    payload = r.json()
    assert path in violation_paths(payload), payload
    assert any(word in v["message"] for v in payload["violations"] if v["path"] == path), payload
    assert word in payload["message"], f"400 message does not summarise the violation: {payload['message']}"


def test_a_valid_body_is_accepted(strict_api):
    strict_api.create(_body("pol-ok"), expect=200)
    strict_api.request("DELETE", "/instances/pol-ok", expect=200)


@pytest.mark.parametrize("vip,word", [
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("127.0.0.5", "loopback"), ("::1", "loopback"),
    ("224.0.0.18", "multicast"), ("255.255.255.255", "broadcast"), ("169.254.10.10", "link-local"), ("fe80::1", "link-local"),
])
def test_vip_classes_are_refused(strict_api, vip, word):
    body = _body("pol-vip", vip=vip)
    if ":" in vip:
        body["frontend_net_prefix"] = 64
    _refused(strict_api, body, "$.frontend_ipaddress", word)


def test_vip_equal_to_the_nodes_own_address_is_refused(strict_api):
    iface, address = _host_iface_and_address()
    _refused(strict_api, _body("pol-own", vip=address, iface=iface), "$.frontend_ipaddress", "this node")


@pytest.mark.parametrize("iface,word", [(".", "interface"), ("..", "interface"), ("nosuch0", "no interface"), ("lo", "loopback")])
def test_bad_interfaces_are_refused(strict_api, iface, word):
    _refused(strict_api, _body("pol-if", iface=iface), "$.frontend_interface", word)


@pytest.mark.parametrize("address,word", [("127.0.0.1", "loopback"), ("169.254.169.254", "metadata"), ("::1", "loopback"),
                                          ("fe80::1", "link-local"), ("0.0.0.0", "unspecified")])
def test_backends_may_not_be_loopback_or_link_local(strict_api, address, word):
    body = _body("pol-be")
    body["endpoints"][0]["backend_servers"][1]["ipaddress"] = address
    _refused(strict_api, body, "$.endpoints[0].backend_servers[1].ipaddress", word)


def test_check_targets_follow_the_backend_rule(strict_api):
    body = _body("pol-chk")
    body["endpoints"][0]["backend_servers"][0]["options"] = "check addr 169.254.169.254 port 80"
    _refused(strict_api, body, "$.endpoints[0].backend_servers[0].options", "169.254.169.254")
    body = _body("pol-chk2")
    body["endpoints"][0]["backend_check_commands"] = {"check_type": "tcp-check", "commands": ["connect addr 127.0.0.1 port 22"]}
    _refused(strict_api, body, "$.endpoints[0].backend_check_commands.commands[0]", "127.0.0.1")


def test_vip_ranges_per_interface(request, spec):
    iface, _ = _host_iface_and_address()
    server = make_server("addrrng", request, start=False)
    server.overrides = {"address_policy": {"vip_ranges": {iface: ["10.250.1.0/24"]}}}
    server.start()
    api = Api(server, spec)
    api.create(_body("rng-in", vip="10.250.1.20", iface=iface), expect=200)
    _refused(api, _body("rng-out", vip="10.250.9.20", iface=iface), "$.frontend_ipaddress", "10.250.1.0/24")


def test_limits_are_enforced_with_clear_errors(request, spec):
    server = make_server("limits", request, start=False)
    server.overrides = {"limits": {"instances": 2, "endpoints_per_instance": 1, "servers_per_instance": 2}}
    server.start()
    api = Api(server, spec)
    r = api.create(template_body("lim-srv", vip="127.168.70.1"), expect=400)  # three servers
    assert "limits.servers_per_instance" in r.json()["message"]
    body = template_body("lim-ep", vip="127.168.70.2")
    body["endpoints"][0]["backend_servers"] = body["endpoints"][0]["backend_servers"][:2]
    body["endpoints"].append(dict(body["endpoints"][0], frontend_port=8081))
    assert "limits.endpoints_per_instance" in api.create(body, expect=400).json()["message"]
    for i in range(2):
        ok = template_body(f"lim-{i}", vip=f"127.168.70.{10 + i}")
        ok["endpoints"][0]["backend_servers"] = ok["endpoints"][0]["backend_servers"][:2]
        api.create(ok, expect=200)
    extra = template_body("lim-3", vip="127.168.70.20")
    extra["endpoints"][0]["backend_servers"] = extra["endpoints"][0]["backend_servers"][:2]
    assert "limits.instances" in api.create(extra, expect=400).json()["message"]
