"""The shared conformance scenarios (test/conformance/scenarios.json) over raw HTTP.

The same file is run by the Swift client (Tests/FlexLBIntegrationTests/ScenarioTests.swift) and the
Go client (Sources/Client/Go/flexlb/scenarios_test.go); this runner is the reference: plain
`requests` over mutual TLS, every response checked against openapi.yaml by the Api client.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from e2e_support import REPO_ROOT, get_at, violation_paths

SCENARIO_FILE = REPO_ROOT / "test" / "conformance" / "scenarios.json"
DOC = json.loads(SCENARIO_FILE.read_text())
SCENARIOS = DOC["scenarios"]

# operationId -> (method, path template)
ROUTES = {
    "readyz": ("GET", "/readyz"), "livez": ("GET", "/livez"), "ready": ("GET", "/ready"),
    "listNodes": ("GET", "/nodes"), "getOpenAPI": ("GET", "/openapi.yaml"),
    "create": ("POST", "/instances"), "list": ("GET", "/instances"), "modify": ("PUT", "/instances"),
    "get": ("GET", "/instances/{name}"), "delete": ("DELETE", "/instances/{name}"),
    "stop": ("POST", "/instances/{name}/stop"), "start": ("POST", "/instances/{name}/start"),
    "drainNode": ("POST", "/nodes/{name}/drain"), "undrainNode": ("POST", "/nodes/{name}/undrain"),
}
# A drain succeeds only in cluster mode; test/failover drives it against three nodes.
CLUSTER_ONLY = {("drainNode", "200"), ("undrainNode", "200")}


def expand(value: Any) -> Any:
    """`{"$repeat": [s, n]}` is s repeated n times; `{"$fill": [v, n]}` is n copies of v."""
    if isinstance(value, dict) and len(value) == 1:
        if "$repeat" in value:
            s, n = value["$repeat"]
            return s * n
        if "$fill" in value:
            v, n = value["$fill"]
            return [copy.deepcopy(v) for _ in range(n)]
    return value


def materialize(spec: dict) -> Any:
    if "literal" in spec:
        return copy.deepcopy(spec["literal"])
    doc = copy.deepcopy(DOC["bodies"][spec["base"]])
    for s in spec.get("set", []):
        at = s["at"]
        target = get_at(doc, tuple(at[:-1]))
        value = expand(s["value"])
        if isinstance(target, list) and at[-1] == len(target):
            target.append(value)
        else:
            target[at[-1]] = value
    for r in spec.get("remove", []):
        del get_at(doc, tuple(r[:-1]))[r[-1]]
    return doc


def shape_schema(spec, shape: str) -> dict | None:
    if shape == "text":
        return None
    if shape.endswith("[]"):
        return {"type": "array", "items": spec.schema_ref(shape[:-2])}
    return spec.schema_ref(shape)


def run_step(api, spec, step: dict, state: dict) -> None:
    method, template = ROUTES[step["op"]]
    path = template.replace("{name}", requests.utils.quote(step.get("name", ""), safe=""))
    headers = {}
    if "if_match" in step:
        headers["If-Match"] = state["etag"] if step["if_match"] == "$etag" else step["if_match"]
    base = api.base
    if step.get("endpoints") == "dead-first":
        # The raw runner has no failover: it checks the dead endpoint is dead, then uses the live one.
        with pytest.raises(requests.ConnectionError):
            requests.get(f"https://127.0.0.1:{state['dead_port']}/flexlb/v1/livez", timeout=5,
                         verify=api.session.verify, cert=api.session.cert)
    want = step["expect"]
    kw: dict = {"headers": headers, "params": step.get("query")}
    if "body" in step:
        data = json.dumps(materialize(step["body"])).encode()
        headers["Content-Type"] = step.get("content_type", "application/json")
        if len(data) > 512 * 1024:
            ex = api.stream(method, path, data, content_type=headers["Content-Type"], documented=True)
            assert ex.status == want["status"], ex.describe()
            return
        kw["data"] = data
    r = api.request(method, path, documented=True, **kw)
    assert base == api.base
    assert r.status_code == want["status"], f"{step['op']}: expected {want['status']}, got {r.status_code}: {r.text[:1500]}"
    if want.get("body") and want["body"] != "text":
        body = r.json()
        errs = spec.errors(shape_schema(spec, want["body"]), body)
        assert not errs, f"{step['op']}: body is not {want['body']}: {[e.message for e in errs][:3]}"
        for f in want.get("fields", []):
            assert get_at(body, tuple(f["at"])) == f["value"], f"{f['at']}: {get_at(body, tuple(f['at']))!r}"
    elif want.get("body") == "text":
        assert r.text.startswith("openapi:"), r.text[:200]
    if "violations" in want:
        assert sorted(set(violation_paths(r.json()))) == sorted(set(want["violations"])), r.text[:2000]
    if want.get("etag"):
        etag = r.headers.get("ETag")
        assert etag and etag.startswith('"'), f"no strong ETag: {etag!r}"
        state["etag"] = etag


def test_scenarios_cover_every_operation_and_documented_status(spec):
    ops = {s["op"] for sc in SCENARIOS for s in sc["steps"]}
    assert ops == set(spec.operations()), sorted(set(spec.operations()) - ops)
    seen = {(s["op"], str(s["expect"]["status"])) for sc in SCENARIOS for s in sc["steps"]}
    for op in spec.operations():
        for status in spec.documented_statuses(op):
            if status in ("500", "503") or (op, status) in CLUSTER_ONLY:
                continue  # faults, an unready node, and what only a cluster can do
            assert (op, status) in seen, f"no scenario for {op} {status}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario(api, spec, scenario):
    from conftest import free_port

    state: dict = {"dead_port": free_port()}
    for step in scenario["steps"]:
        run_step(api, spec, step, state)
