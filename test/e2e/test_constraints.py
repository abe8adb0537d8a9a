"""Every constraint of InstanceConfig in openapi.yaml, walked mechanically, plus the cross-field rules.

For each (location, constraint) the walker in e2e_support builds a body that violates exactly that
constraint of a valid base body; the server must answer 400 naming that JSON path, and store nothing.
"""

from __future__ import annotations

import copy

import pytest

from e2e_support import (Spec, constraint_cases, full_body, get_at, set_at, template_body,
                         violation_paths)

_SPEC = Spec()
BASE = full_body("cons-base", vip="127.168.20.1", port=9443)
CASES = list(constraint_cases(_SPEC, BASE))


def _reject(api, body, expect_paths, *, status=400, method="create", case=None):
    """Sends `body`, expects `status` naming one of `expect_paths`, and that nothing was stored."""
    before = api.snapshot()
    send = api.create if method == "create" else api.modify
    r = send(body, documented=True)
    if r.status_code == 200 and case is not None and case.default is not None:
        # required-with-default in the spec: filling in the default is the accepted alternative
        got = get_at(r.json()["config"], case.field_parts)
        if method == "create":
            api.delete(body["name"], expect=200)
        assert got == case.default, f"missing {case.id} stored as {got!r}, not the default {case.default!r}"
        return r
    if r.status_code == 200:
        name = body.get("name") if isinstance(body, dict) else None
        if method == "create" and isinstance(name, str):
            api.request("DELETE", f"/instances/{name}")  # keep later cases independent
        pytest.fail(f"accepted a violating body (expected {status} at {expect_paths})")
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:2000]}"
    got = violation_paths(r.json())
    if expect_paths:
        assert any(p in got for p in expect_paths), (
            f"violations {got} name none of {list(expect_paths)}: {r.text[:2000]}")
    for v in r.json().get("violations", []):
        assert v["message"].strip(), f"empty violation message: {v}"
    assert api.snapshot() == before, "a rejected request changed the instance list"
    return r


def test_walker_covers_the_schema():
    kinds = {c.constraint for c in CASES}
    for k in ("type", "required", "pattern", "minimum", "maximum", "maxLength", "minItems",
              "maxItems", "enum", "additionalProperties"):
        assert k in kinds, f"walker produced no {k} case"
    assert any(c.constraint.startswith("format-ip") for c in CASES)
    # nested: both arrays of objects and the objects inside them are reached
    assert any(".backend_servers[0].check_ssl_options." in c.id for c in CASES)
    assert any(".frontend_ssl_options." in c.id for c in CASES)


def test_base_body_is_accepted(api):
    r = api.create(copy.deepcopy(BASE), documented=True, expect=200)
    assert r.json()["config"]["name"] == BASE["name"]
    api.delete(BASE["name"], expect=200)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_constraint_is_enforced(api, case):
    _reject(api, case.body, case.paths, case=case)


@pytest.mark.parametrize("case", [c for c in CASES if c.field_parts and c.field_parts[0] != "name"],
                         ids=[c.id for c in CASES if c.field_parts and c.field_parts[0] != "name"])
def test_each_constraint_is_enforced_on_modify(api, case):
    """Modify validates the same way (the instance exists, so only validation can refuse)."""
    if api.request("GET", f"/instances/{BASE['name']}").status_code == 404:
        api.create(copy.deepcopy(BASE), expect=200)
    body = copy.deepcopy(case.body)
    if isinstance(body, dict):
        body["name"] = BASE["name"]
    _reject(api, body, case.paths, method="modify", case=case)
    got = api.get(BASE["name"], expect=200).json()["config"]
    assert got["endpoints"][0]["frontend_ssl_options"] == {
        k: v for k, v in BASE["endpoints"][0]["frontend_ssl_options"].items() if k != "server_key"}


def test_several_violations_are_all_reported(api):
    body = copy.deepcopy(BASE)
    body["name"] = "several-bad"
    mutations = {
        ("frontend_interface",): "bad if name!",
        ("frontend_net_prefix",): 7,
        ("endpoints", 0, "frontend_port"): 0,
        ("endpoints", 0, "mode"): "sctp",
        ("endpoints", 0, "backend_check_commands", "check_type"): "smtp-check",
        ("endpoints", 0, "backend_servers", 0, "port"): "80",
        ("endpoints", 0, "backend_servers", 1, "ipaddress"): "300.1.1.1",
        ("endpoints", 0, "backend_servers", 2, "check_ssl_options", "verify"): "required",
        ("endpoints", 0, "frontend_ssl_options", "server_key"): "not a pem",
    }
    for parts, value in mutations.items():
        set_at(body, parts, value)
    body["endpoints"][0]["backend_servers"][0]["weight"] = 3  # unknown property
    r = _reject(api, body, None)
    got = set(violation_paths(r.json()))
    from e2e_support import jpath

    expected = {jpath(p) for p in mutations}
    missing = expected - got
    assert not missing, f"not reported: {sorted(missing)}; reported {sorted(got)}"
    unknown_ok = {"$.endpoints[0].backend_servers[0].weight", "$.endpoints[0].backend_servers[0]"}
    assert got & unknown_ok, f"unknown property not reported: {sorted(got)}"


def test_violations_in_every_array_element_are_reported(api):
    body = template_body("arr-bad", vip="127.168.20.2")
    for s in body["endpoints"][0]["backend_servers"]:
        s["port"] = 0
    r = _reject(api, body, None)
    got = set(violation_paths(r.json()))
    for i in range(3):
        assert f"$.endpoints[0].backend_servers[{i}].port" in got, got


# -- cross-field rules ------------------------------------------------------------------------


def test_ipv4_prefix_above_32_is_rejected(api):
    for prefix in (33, 64, 128):
        body = template_body("v4-prefix", vip="127.168.21.1")
        body["frontend_net_prefix"] = prefix
        _reject(api, body, ("$.frontend_net_prefix",))


def test_ipv4_prefix_32_and_ipv6_prefix_128_are_accepted(api):
    body = template_body("v4-32", vip="127.168.21.2")
    body["frontend_net_prefix"] = 32
    api.create(body, documented=True, expect=200)
    body6 = template_body("v6-128", vip="fd00:99::10")
    body6["frontend_net_prefix"] = 128
    body6["endpoints"][0]["backend_servers"][0]["ipaddress"] = "::1"
    r = api.create(body6, documented=True, expect=200)
    assert r.json()["config"]["frontend_net_prefix"] == 128


def test_duplicate_frontend_port_in_one_instance(api):
    body = template_body("dup-port", vip="127.168.21.3")
    body["endpoints"].append(copy.deepcopy(body["endpoints"][0]))
    _reject(api, body, ("$.endpoints[1].frontend_port", "$.endpoints[0].frontend_port", "$.endpoints[1]",
                        "$.endpoints"))


def test_duplicate_backend_server_names_in_one_endpoint(api):
    body = template_body("dup-srv", vip="127.168.21.4")
    body["endpoints"][0]["backend_servers"][2]["name"] = "server1"
    _reject(api, body, ("$.endpoints[0].backend_servers[2].name", "$.endpoints[0].backend_servers[0].name",
                        "$.endpoints[0].backend_servers[2]", "$.endpoints[0].backend_servers"))


def test_same_backend_name_in_different_endpoints_is_fine(api):
    body = template_body("two-eps", vip="127.168.21.5")
    ep2 = copy.deepcopy(body["endpoints"][0])
    ep2["frontend_port"] = 8081
    body["endpoints"].append(ep2)
    api.create(body, documented=True, expect=200)


def test_vip_port_in_use_by_another_instance_is_409(api):
    api.create(template_body("vip-owner", vip="127.168.22.1", port=80), expect=200)
    before = api.snapshot()
    api.create(template_body("vip-thief", vip="127.168.22.1", port=80), documented=True, expect=409)
    # the same VIP:port as any endpoint, not only the first
    body = template_body("vip-thief", vip="127.168.22.1", port=81)
    ep = copy.deepcopy(body["endpoints"][0])
    ep["frontend_port"] = 80
    body["endpoints"].append(ep)
    api.create(body, documented=True, expect=409)
    assert api.snapshot() == before
    # same VIP other port, and other VIP same port, are fine
    api.create(template_body("vip-neighbour", vip="127.168.22.1", port=81), documented=True, expect=200)
    api.create(template_body("vip-other", vip="127.168.22.2", port=80), documented=True, expect=200)


def test_vip_port_conflict_compares_addresses_not_text(api):
    owner = template_body("v6-owner", vip="fd00:77::10", port=443)
    owner["frontend_net_prefix"] = 128
    api.create(owner, expect=200)
    before = api.snapshot()
    for text in ("fd00:77:0:0:0:0:0:10", "FD00:77::10"):
        thief = template_body("v6-thief", vip=text, port=443)
        thief["frontend_net_prefix"] = 128
        api.create(thief, documented=True, expect=409)
    assert api.snapshot() == before


def test_vip_port_of_a_deleted_instance_is_free(api):
    api.create(template_body("vip-tmp", vip="127.168.22.9", port=80), expect=200)
    api.delete("vip-tmp", expect=200)
    api.create(template_body("vip-next", vip="127.168.22.9", port=80), documented=True, expect=200)


def test_modify_keeps_own_vip_port(api):
    """An instance's own VIP:port is not a conflict with itself."""
    g = api.get("vip-owner", expect=200).json()["config"]
    g["endpoints"][0]["balance"] = "leastconn"
    api.modify(g, documented=True, expect=200)
