"""Every operation of openapi.yaml over mTLS against a real flexlbd.

Each response is checked by the Api client: documented status (documented=True), body valid
against the schema the spec gives for that operation and status, strong quoted ETag on instances.
"""

from __future__ import annotations

import copy
import json

import pytest

from e2e_support import DEFAULT_SERVER, template_body, template_ssl_body

ALL_OPERATIONS = {"readyz", "livez", "ready", "listNodes", "getOpenAPI", "create", "list", "modify",
                  "get", "delete", "stop", "start", "drainNode", "undrainNode"}
# Statuses a single node cannot produce: a drain succeeds only in cluster mode (test/failover
# drives it against three nodes).
CLUSTER_ONLY = {"drainNode 200", "undrainNode 200"}


def test_spec_lists_the_operations_this_suite_drives(spec):
    assert set(spec.operations()) == ALL_OPERATIONS


# -- node operations --------------------------------------------------------------------------


def test_livez(api):
    r = api.request("GET", "/livez", documented=True, expect=200)
    assert r.json()["status"] == "ok"


def test_ready(api):
    r = api.request("GET", "/ready", documented=True, expect=(200, 503))
    assert r.json()["status"] == ("ok" if r.status_code == 200 else "not_ready")


def test_readyz_lists_this_node(api, module_server):
    r = api.request("GET", "/readyz", documented=True, expect=200)
    body = r.json()
    assert module_server.name in body, f"readyz does not name this node {module_server.name!r}: {body}"


def test_list_nodes_has_self(api, module_server):
    r = api.request("GET", "/nodes", documented=True, expect=200)
    nodes = r.json()
    selves = [n for n in nodes if n.get("self")]
    assert len(selves) == 1, nodes
    assert selves[0]["name"] == module_server.name
    if "api_address" in selves[0]:
        assert selves[0]["api_address"].endswith(f":{module_server.port}"), selves[0]


@pytest.mark.parametrize("op", ["drain", "undrain"])
def test_drain_needs_cluster_mode_and_a_known_node(api, module_server, op):
    before = api.snapshot()
    r = api.request("POST", f"/nodes/{module_server.name}/{op}", documented=True, expect=400)
    assert "cluster mode" in r.json()["message"]
    api.request("POST", f"/nodes/no-such-node/{op}", documented=True, expect=404)
    r = api.request("POST", f"/nodes/bad%20name/{op}", documented=True, expect=400)
    assert r.json()["violations"], r.json()
    assert api.snapshot() == before


def test_get_openapi_returns_the_document(api, spec):
    r = api.request("GET", "/openapi.yaml", documented=True, expect=200)
    assert "yaml" in r.headers.get("Content-Type", ""), r.headers.get("Content-Type")
    assert r.content.decode("utf-8") == spec.text


# -- instance lifecycle -----------------------------------------------------------------------


def _strip_defaults_check(sent: dict, got: dict) -> None:
    """The stored config equals what was sent, plus the spec's defaults."""
    expected = copy.deepcopy(sent)
    for ep in expected["endpoints"]:
        ep.setdefault("frontend_options", "")
        ep.setdefault("backend_default_server", DEFAULT_SERVER)
        ep.setdefault("mode", "tcp")
        ep.setdefault("balance", "roundrobin")
        ep.get("frontend_ssl_options", {}).pop("server_key", None)
        for srv in ep["backend_servers"]:
            srv.setdefault("options", "")
            srv.get("check_ssl_options", {}).pop("client_key", None)
    # private keys are never returned; optional properties without defaults may be echoed as absent
    assert _normalize(got) == _normalize(expected), f"stored config differs:\nsent {expected}\ngot  {got}"


def _normalize(cfg: dict) -> dict:
    cfg = copy.deepcopy(cfg)
    for ep in cfg.get("endpoints", []):
        for k in ("backend_options",):
            if ep.get(k) == []:
                ep.pop(k)
    return cfg


def test_create_template_and_get(api, module_server):
    before = api.snapshot()
    body = template_body("conf-tpl", vip="127.168.10.1")
    r = api.create(body, documented=True, expect=200)
    inst = r.json()
    assert inst["config"]["name"] == "conf-tpl"
    assert 0 <= inst["id"] <= 255
    assert inst["status"].get(module_server.name) == "pending", inst["status"]
    assert inst.get("desired_state", "running") == "running"
    _strip_defaults_check(body, inst["config"])
    etag = r.headers["ETag"]

    g = api.get("conf-tpl", documented=True, expect=200)
    assert g.headers["ETag"] == etag
    assert g.json()["config"] == inst["config"]
    assert g.json()["id"] == inst["id"]
    assert len(api.snapshot()) == len(before) + 1


def test_create_ssl_template(api):
    body = template_ssl_body("conf-ssl", vip="127.168.10.2")
    r = api.create(body, documented=True, expect=200)
    got = r.json()["config"]
    ep = got["endpoints"][0]
    # Private keys are stored but never returned (issue 9).
    sent_fe = {k: v for k, v in body["endpoints"][0]["frontend_ssl_options"].items() if k != "server_key"}
    sent_be = {k: v for k, v in body["endpoints"][0]["backend_servers"][0]["check_ssl_options"].items() if k != "client_key"}
    assert ep["frontend_ssl_options"] == sent_fe
    assert ep["backend_servers"][0]["check_ssl_options"] == sent_be
    assert ep["backend_servers"][0]["options"] == "ssl check"
    _strip_defaults_check(body, got)


def test_defaults_are_applied_and_returned(api):
    body = template_body("conf-defaults", vip="127.168.10.3")
    ep = body["endpoints"][0]
    ep.pop("backend_options")
    ep.pop("backend_check_commands")
    for s in ep["backend_servers"]:
        s.pop("options")
    r = api.create(body, documented=True, expect=200)
    got = r.json()["config"]["endpoints"][0]
    assert got["frontend_options"] == ""
    assert got["backend_default_server"] == DEFAULT_SERVER
    assert got["mode"] == "tcp" and got["balance"] == "roundrobin"
    assert all(s.get("options", "") == "" for s in got["backend_servers"])
    assert r.json().get("desired_state", "running") == "running"


def test_distinct_instances_get_distinct_ids(api):
    ids = [i["id"] for i in api.list()]
    assert len(ids) == len(set(ids)), ids


def test_create_existing_name_is_409(api):
    before = api.snapshot()
    api.create(template_body("conf-tpl", vip="127.168.10.9", port=18080), documented=True, expect=409)
    assert api.snapshot() == before


def test_create_vip_port_in_use_is_409(api):
    before = api.snapshot()
    api.create(template_body("conf-other", vip="127.168.10.1", port=8080), documented=True, expect=409)
    assert api.snapshot() == before


def test_create_invalid_is_400_with_every_violation(api):
    before = api.snapshot()
    body = template_body("conf-bad", vip="127.168.10.7")
    body["frontend_net_prefix"] = 200
    body["endpoints"][0]["frontend_port"] = 70000
    body["endpoints"][0]["backend_servers"][2]["ipaddress"] = "not-an-ip"
    r = api.create(body, documented=True, expect=400)
    paths = {v["path"] for v in r.json().get("violations", [])}
    assert {"$.frontend_net_prefix", "$.endpoints[0].frontend_port",
            "$.endpoints[0].backend_servers[2].ipaddress"} <= paths, r.json()
    assert api.snapshot() == before


def test_list_is_sorted_and_substring_filtered(api):
    for n, vip in (("xalpha-1", "127.168.11.1"), ("beta-alpha", "127.168.11.2"), ("gamma", "127.168.11.3")):
        api.create(template_body(n, vip=vip), expect=200)
    r = api.request("GET", "/instances", documented=True, expect=200)
    names = [i["config"]["name"] for i in r.json()]
    assert names == sorted(names), names
    assert {"xalpha-1", "beta-alpha", "gamma"} <= set(names)
    sub = [i["config"]["name"] for i in api.list(name="alpha")]
    assert sorted(sub) == ["beta-alpha", "xalpha-1"], sub
    assert [i["config"]["name"] for i in api.list(name="gamma")] == ["gamma"]
    assert api.list(name="no-such-substring") == []
    assert len(api.list(name="")) == len(names)


def test_list_bad_name_parameter_is_400(api):
    api.request("GET", "/instances", params={"name": "a b"}, documented=True, expect=400)
    api.request("GET", "/instances", params={"name": "x" * 33}, documented=True, expect=400)


def test_get_unknown_is_404(api):
    api.get("no-such-instance", documented=True, expect=404)


def test_get_invalid_name_is_400(api):
    api.get("x" * 33, documented=True, expect=400)
    api.request("GET", "/instances/bad%20name", documented=True, expect=400)


def test_modify_changes_version_etag_and_config(api):
    g = api.get("conf-tpl", expect=200)
    old = g.json()
    body = copy.deepcopy(old["config"])
    body["endpoints"][0]["backend_servers"].append(
        {"name": "server4", "ipaddress": "127.0.2.14", "port": 30080, "options": "check"})
    r = api.modify(body, documented=True, expect=200)
    new = r.json()
    assert new["config"] == body
    assert new["id"] == old["id"], "modify must keep the VRRP id"
    assert r.headers["ETag"] != g.headers["ETag"]
    if "version" in old:
        assert new["version"] > old["version"]
    if "last_modified" in old:
        assert new["last_modified"] >= old["last_modified"]
    assert api.get("conf-tpl", expect=200).json()["config"] == body


def test_modify_unknown_is_404(api):
    before = api.snapshot()
    api.modify(template_body("conf-none", vip="127.168.12.1"), documented=True, expect=404)
    assert api.snapshot() == before


def test_modify_into_used_vip_port_is_409(api):
    before = api.snapshot()
    body = template_body("gamma", vip="127.168.11.1", port=8080)  # xalpha-1's VIP:port
    api.modify(body, documented=True, expect=409)
    assert api.snapshot() == before


def test_modify_invalid_is_400(api):
    before = api.snapshot()
    body = template_body("gamma", vip="127.168.11.3")
    body["endpoints"][0]["frontend_port"] = 0
    r = api.modify(body, documented=True, expect=400)
    assert "$.endpoints[0].frontend_port" in [v["path"] for v in r.json().get("violations", [])]
    assert api.snapshot() == before


def test_if_match_flows_on_modify(api):
    r0 = api.get("gamma", expect=200)
    etag0 = r0.headers["ETag"]
    body = r0.json()["config"]
    body["endpoints"][0]["backend_servers"][0]["port"] = 30081
    r1 = api.modify(body, if_match=etag0, documented=True, expect=200)
    etag1 = r1.headers["ETag"]
    assert etag1 != etag0
    body["endpoints"][0]["backend_servers"][0]["port"] = 30082
    before = api.snapshot()
    api.modify(body, if_match=etag0, documented=True, expect=412)  # stale
    api.modify(body, if_match='W/' + etag1, documented=True, expect=412)  # weak never matches strongly
    api.modify(body, if_match='"definitely-not-an-etag"', documented=True, expect=412)
    assert api.snapshot() == before
    r2 = api.modify(body, if_match="*", documented=True, expect=200)
    assert r2.json()["config"]["endpoints"][0]["backend_servers"][0]["port"] == 30082
    r3 = api.modify(body, if_match=f'"nope", {r2.headers["ETag"]}', expect=(200, 412))
    # a list of tags (RFC 9110) may be supported; if it is, the write went through
    if r3.status_code == 200:
        assert r3.headers["ETag"] != r2.headers["ETag"]


def test_stop_and_start(api, module_server):
    r = api.get("xalpha-1", expect=200)
    s = api.stop("xalpha-1", documented=True, expect=200)
    assert s.json().get("desired_state") == "stopped", s.json()
    assert s.headers["ETag"] != r.headers["ETag"]
    assert api.get("xalpha-1", expect=200).json().get("desired_state") == "stopped"
    st = api.start("xalpha-1", documented=True, expect=200)
    assert st.json().get("desired_state", "running") == "running"
    assert st.json()["config"] == r.json()["config"], "start/stop must not touch the declaration"
    assert module_server.name in st.json()["status"]


def test_stop_start_if_match(api):
    etag = api.get("xalpha-1", expect=200).headers["ETag"]
    api.stop("xalpha-1", if_match='"stale"', documented=True, expect=412)
    s = api.stop("xalpha-1", if_match=etag, documented=True, expect=200)
    api.start("xalpha-1", if_match=etag, documented=True, expect=412)
    api.start("xalpha-1", if_match=s.headers["ETag"], documented=True, expect=200)


def test_stop_start_unknown_is_404(api):
    api.stop("no-such-instance", documented=True, expect=404)
    api.start("no-such-instance", documented=True, expect=404)


def test_stop_start_invalid_name_is_400(api):
    api.stop("x" * 33, documented=True, expect=400)
    api.start("x" * 33, documented=True, expect=400)


def test_delete_with_if_match(api):
    g = api.get("beta-alpha", expect=200)
    before = api.snapshot()
    api.delete("beta-alpha", if_match='"stale"', documented=True, expect=412)
    assert api.snapshot() == before
    r = api.delete("beta-alpha", if_match=g.headers["ETag"], documented=True, expect=200)
    assert r.json()["name"] == "beta-alpha"
    api.get("beta-alpha", documented=True, expect=404)
    api.delete("beta-alpha", documented=True, expect=404)
    assert len(api.snapshot()) == len(before) - 1


def test_delete_without_if_match_and_recreate(api):
    r = api.delete("conf-defaults", documented=True, expect=200)
    assert r.json() == {"name": "conf-defaults"} or r.json()["name"] == "conf-defaults"
    # the name and the VIP:port are free again
    again = api.create(template_body("conf-defaults", vip="127.168.10.3"), documented=True, expect=200)
    assert again.json()["config"]["name"] == "conf-defaults"


def test_delete_invalid_name_is_400(api):
    api.delete("x" * 33, documented=True, expect=400)


def test_payload_too_large_is_413(api):
    before = api.snapshot()
    body = template_body("conf-big", vip="127.168.13.1")
    body["endpoints"][0]["frontend_options"] = "x" * (1024 * 1024 + 10)
    api.stream("POST", "/instances", json.dumps(body).encode(), documented=True, expect=413)
    body["name"] = "gamma"
    api.stream("PUT", "/instances", json.dumps(body).encode(), documented=True, expect=413)
    assert api.snapshot() == before


def test_body_that_is_not_json_media_type_is_415(api):
    before = api.snapshot()
    body = json.dumps(template_body("conf-media", vip="127.168.13.2")).encode()
    api.stream("POST", "/instances", body, content_type="text/plain", documented=True, expect=415)
    api.stream("PUT", "/instances", body, content_type="application/x-www-form-urlencoded",
               documented=True, expect=415)
    assert api.snapshot() == before


# -- the cluster-endpoint instance ------------------------------------------------------------


def test_flexlb_name_is_forbidden(api):
    before = api.snapshot()
    body = template_body("FLEXLB", vip="127.168.14.1")
    api.create(body, documented=True, expect=403)
    api.modify(body, documented=True, expect=403)
    api.modify(body, if_match="*", documented=True, expect=403)
    api.delete("FLEXLB", documented=True, expect=403)
    api.stop("FLEXLB", documented=True, expect=403)
    api.start("FLEXLB", documented=True, expect=403)
    assert api.snapshot() == before


# -- outside the spec's paths -----------------------------------------------------------------


def test_unknown_path_is_404(api):
    api.request("GET", "/no-such-path", expect=404)
    api.request("GET", "/instances/a/b/c", expect=404)
    r = api.session.get(api.base + "/not-flexlb", timeout=10)
    assert r.status_code == 404


@pytest.mark.parametrize("method,path", [
    ("PATCH", "/instances"), ("DELETE", "/instances"), ("PUT", "/instances/gamma"),
    ("POST", "/instances/gamma"), ("GET", "/instances/gamma/stop"), ("POST", "/livez"),
    ("DELETE", "/openapi.yaml"),
])
def test_wrong_method_is_405(api, method, path):
    before = api.snapshot()
    api.request(method, path, json={} if method in ("PATCH", "PUT", "POST") else None, expect=405)
    assert api.snapshot() == before


# -- every operation was driven ---------------------------------------------------------------


def test_zz_every_operation_and_documented_error_was_exercised(api, spec):
    seen_ops = {s.split()[0] for s in api.seen_operations}
    assert ALL_OPERATIONS <= seen_ops, f"never called: {ALL_OPERATIONS - seen_ops}"
    # every documented status except 500 (a server fault) and 503 (not-ready) was triggered
    missing = []
    for op in ALL_OPERATIONS:
        for status in spec.documented_statuses(op):
            if status in ("500", "503") or f"{op} {status}" in CLUSTER_ONLY:
                continue
            if f"{op} {status}" not in api.seen_operations:
                missing.append(f"{op} {status}")
    assert not missing, f"documented responses never triggered: {missing}"
