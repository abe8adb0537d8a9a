"""Hostile input: every request gets a clear 4xx with a message, nothing is stored, no 5xx, no crash."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from e2e_support import (BASE_PATH, Spec, client_context, full_body, get_at, jpath, parse_json_body,
                         send_streaming_body, set_at, string_locations, template_body, violation_paths)

_SPEC = Spec()
BASE = full_body("hostile-base", vip="127.168.40.1", port=9443)
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def baseline(api):
    """One real instance, so 'unchanged' compares a non-empty list."""
    api.create(template_body("hostile-keep", vip="127.168.40.200"), expect=200)
    return api.snapshot()


@pytest.fixture(autouse=True)
def unchanged_and_alive(request, api, module_server, baseline):
    yield
    assert module_server.alive(), f"flexlbd (pid {module_server.pid}) died\n{module_server.log_tail()}"
    now = api.snapshot()
    if now != baseline:
        keep = {i["config"]["name"] for i in baseline}
        extra = [i["config"]["name"] for i in now if i["config"]["name"] not in keep]
        for name in extra:  # undo, so one accepted body does not fail every later test
            api.request("DELETE", f"/instances/{name}")
        call = getattr(request.node, "_flexlb_rep_call", None)
        if call is not None and call.failed:
            return  # the test itself already failed for this; do not count it twice
        pytest.fail(f"a hostile request changed the instance list (added {extra})")


def _expect_4xx(resp, allowed=(400,)):
    assert resp.status_code in allowed, f"expected {allowed}, got {resp.status_code}: {resp.text[:1000]}"
    body = resp.json()
    assert isinstance(body.get("message"), str) and body["message"].strip(), body


# -- malformed bodies -------------------------------------------------------------------------

MALFORMED = [
    b'{"name": ', b"{", b"}", b"nul", b'{"name":"a",}', b"{'name':'a'}", b"[1,2",
    b'{"name":"a"}{"name":"b"}', b'{"frontend_net_prefix": NaN}', b'{"frontend_net_prefix": Infinity}',
    b'{"name":"a" "x":1}', b'{"name":"\\x41"}', b'{"name":"\\u12"}', b"\x00", b"   ",
    b"// comment\n{}", b'{"name":"unterminated}',
]


@pytest.mark.parametrize("data", MALFORMED, ids=[repr(d)[:40] for d in MALFORMED])
def test_malformed_json(api, data):
    _expect_4xx(api.post_raw(data))


def test_malformed_json_on_modify(api):
    _expect_4xx(api.post_raw(b'{"name": ', method="PUT"))


@pytest.mark.parametrize("doc", [[], "x", None, 42, True, 1.5, [template_body("arr")]],
                         ids=["array", "string", "null", "number", "bool", "float", "array-of-body"])
def test_wrong_top_level_type(api, doc):
    r = api.post_raw(json.dumps(doc).encode())
    _expect_4xx(r)
    assert "$" in violation_paths(r.json()) or not r.json().get("violations")


def test_empty_body(api):
    _expect_4xx(api.post_raw(b""))
    _expect_4xx(api.post_raw(b"", method="PUT"))
    _expect_4xx(api.post_raw(b"", content_type=None), allowed=(400, 415))


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/xml", "application/jsonx"])
def test_wrong_content_type(api, ctype):
    data = json.dumps(template_body("ctype-x", vip="127.168.40.2")).encode()
    _expect_4xx(api.post_raw(data, content_type=ctype), allowed=(400, 415))


def test_json_with_charset_is_accepted(api, baseline):
    data = json.dumps(template_body("ctype-ok", vip="127.168.40.3")).encode()
    api.post_raw(data, content_type="application/json; charset=utf-8", expect=200)
    api.delete("ctype-ok", expect=200)


@pytest.mark.parametrize("data", [
    b'{"name":"\xff\xfe"}',
    b'{"name":"ok\xc0\xaf"}',                 # overlong '/'
    b'{"na\xffme":"x"}',
    b'{"name":"\xed\xa0\x80"}',               # encoded surrogate
    b'{"name":"\\ud800"}',                    # lone surrogate escape
    b'\xef\xbb\xbf{"name":"bom"}',
], ids=["ff-fe", "overlong", "in-key", "surrogate-bytes", "lone-surrogate-escape", "bom"])
def test_invalid_utf8(api, data):
    _expect_4xx(api.post_raw(data))


def test_invalid_utf8_in_a_full_body(api):
    raw = json.dumps(template_body("utf8-bad", vip="127.168.40.4")).encode()
    raw = raw.replace(b'"roundrobin"', b'"round\xffrobin"')
    _expect_4xx(api.post_raw(raw))


# -- unknown fields ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", [(), ("endpoints", 0), ("endpoints", 0, "backend_servers", 0),
                                   ("endpoints", 0, "frontend_ssl_options"),
                                   ("endpoints", 0, "backend_check_commands"),
                                   ("endpoints", 0, "backend_servers", 0, "check_ssl_options")],
                         ids=jpath)
@pytest.mark.parametrize("key", ["unknown", "__proto__", "Name", "name ", "n\u00e4me"])
def test_unknown_fields(api, where, key):
    body = copy.deepcopy(BASE)
    get_at(body, where)[key] = "x"
    r = api.create(body)
    _expect_4xx(r)
    assert any(p.startswith(jpath(where)) for p in violation_paths(r.json())), r.json()


# -- control characters in every string field -------------------------------------------------

BAD_CHARS = ["\n", "\r", "\x00", "\x01", "\t", "\x1b", "\x7f", "\u0085", "\u2028", "\ufeff"]


def _control_cases():
    out = []
    for parts, schema in string_locations(_SPEC, BASE):
        value = get_at(BASE, parts)
        for ch in BAD_CHARS:
            for where in ("mid", "end"):
                if where == "end" and ch not in ("\n", "\r"):
                    continue
                mid = min(5, len(value) // 2)
                bad = value[:mid] + ch + value[mid:] if where == "mid" else value + ch
                if where == "end" and ch == "\n" and "BEGIN" in value:
                    bad = value.rstrip("\n") + "\nglobal\n"
                body = copy.deepcopy(BASE)
                set_at(body, parts, bad)
                if _SPEC.is_valid(_SPEC.schema_ref("InstanceConfig"), body):
                    continue  # allowed by the spec there (e.g. newlines between PEM lines)
                out.append(pytest.param(parts, body, id=f"{jpath(parts)}:{where}:{ch.encode('unicode_escape').decode()}"))
    return out


CONTROL_CASES = _control_cases()


def test_control_cases_cover_every_string_field():
    covered = {c.values[0] for c in CONTROL_CASES}
    assert covered == {p for p, _ in string_locations(_SPEC, BASE)}
    assert len(CONTROL_CASES) > 150


@pytest.mark.parametrize("parts,body", CONTROL_CASES)
def test_control_characters_in_string_fields(api, parts, body):
    r = api.create(body)
    _expect_4xx(r)
    assert jpath(parts) in violation_paths(r.json()), r.json()


def test_newline_injection_into_haproxy_directives(api):
    """The 0.4 hole: option strings carried whole HAProxy directives; each must be refused."""
    body = template_body("inject", vip="127.168.40.5")
    ep = body["endpoints"][0]
    ep["frontend_options"] = "ssl\n  acl x always_true\nglobal\n  daemon"
    ep["backend_options"] = ["httpchk GET /\n    option external-check\n    external-check command /bin/sh"]
    ep["backend_check_commands"]["commands"] = ["expect status 200\nbackend evil"]
    ep["backend_servers"][0]["options"] = "check\nserver evil 6.6.6.6:22"
    ep["balance"] = "roundrobin\nlisten evil"
    r = api.create(body)
    _expect_4xx(r)
    got = set(violation_paths(r.json()))
    for p in ("$.endpoints[0].frontend_options", "$.endpoints[0].backend_options[0]",
              "$.endpoints[0].backend_check_commands.commands[0]", "$.endpoints[0].backend_servers[0].options",
              "$.endpoints[0].balance"):
        assert p in got, f"{p} not reported: {sorted(got)}"


# -- huge arrays, deep nesting, huge numbers --------------------------------------------------


def _big_array_body(kind: str) -> bytes:
    body = template_body(f"big-{kind}", vip="127.168.40.6")
    ep = body["endpoints"][0]
    if kind == "endpoints":
        body["endpoints"] = [{"frontend_port": 1 + i % 65535, "mode": "tcp", "balance": "roundrobin",
                              "backend_servers": [{"name": "a", "ipaddress": "127.0.0.1", "port": 1}]}
                             for i in range(10_000)]
    elif kind == "backend_servers":
        ep["backend_servers"] = [{"name": f"s{i}", "ipaddress": "127.0.0.1", "port": 1} for i in range(10_000)]
    elif kind == "backend_options":
        ep["backend_options"] = [f"o{i}" for i in range(10_000)]
    elif kind == "commands":
        ep["backend_check_commands"]["commands"] = [f"c{i}" for i in range(10_000)]
    return json.dumps(body).encode()


@pytest.mark.parametrize("kind,path", [
    ("endpoints", "$.endpoints"), ("backend_servers", "$.endpoints[0].backend_servers"),
    ("backend_options", "$.endpoints[0].backend_options"),
    ("commands", "$.endpoints[0].backend_check_commands.commands"),
])
def test_ten_thousand_element_arrays(api, kind, path):
    data = _big_array_body(kind)
    r = api.post_raw(data)
    _expect_4xx(r, allowed=(400, 413))
    if r.status_code == 400:
        assert path in violation_paths(r.json()), violation_paths(r.json())[:10]
        assert len(r.content) < 2 * MIB, "error body larger than the request"


def test_ten_thousand_element_array_in_a_scalar_field(api):
    body = template_body("scalar-arr", vip="127.168.40.7")
    body["name"] = list(range(10_000))
    r = api.create(body)
    _expect_4xx(r)
    assert "$.name" in violation_paths(r.json())


@pytest.mark.parametrize("depth", [1_000, 100_000, 500_000])
def test_deeply_nested_arrays(api, module_server, depth):
    data = b'{"name":"deep","endpoints":' + b"[" * depth + b"]" * depth + b"}"
    assert len(data) < MIB
    _expect_4xx(api.post_raw(data), allowed=(400, 413))


@pytest.mark.parametrize("depth", [1_000, 150_000])
def test_deeply_nested_objects(api, depth):
    data = b'{"name":"deep","frontend_interface":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    assert len(data) < MIB
    _expect_4xx(api.post_raw(data), allowed=(400, 413))


def test_unterminated_deep_nesting(api):
    _expect_4xx(api.post_raw(b"[" * 900_000), allowed=(400, 413))


HUGE_NUMBERS = [
    ("$.endpoints[0].frontend_port", "1e400"),
    ("$.endpoints[0].frontend_port", "-1e400"),
    ("$.endpoints[0].frontend_port", "18446744073709551616"),
    ("$.endpoints[0].frontend_port", "4294967376"),          # 2^32 + 80: truncation would give 80
    ("$.endpoints[0].frontend_port", "65616"),               # 2^16 + 80
    ("$.endpoints[0].frontend_port", "-65456"),              # -2^16 + 80
    ("$.endpoints[0].frontend_port", "-9223372036854775809"),
    ("$.endpoints[0].frontend_port", "9" * 5000),
    ("$.endpoints[0].frontend_port", "8080.5"),
    ("$.endpoints[0].frontend_port", "1e-400"),
    ("$.frontend_net_prefix", "4294967320"),                 # 2^32 + 24
    ("$.frontend_net_prefix", "-4294967272"),
    ("$.endpoints[0].backend_servers[0].port", "1" + "0" * 400),
]


@pytest.mark.parametrize("path,literal", HUGE_NUMBERS, ids=[f"{p}={n[:24]}" for p, n in HUGE_NUMBERS])
def test_huge_numbers(api, path, literal):
    body = template_body("numbers", vip="127.168.40.8")
    parts = tuple(int(x) if x.isdigit() else x for x in path[2:].replace("[", ".").replace("]", "").split("."))
    set_at(body, parts, "__NUMBER__")
    data = json.dumps(body).replace('"__NUMBER__"', literal).encode()
    r = api.post_raw(data)
    _expect_4xx(r)
    assert path in violation_paths(r.json()) or not r.json().get("violations"), r.json()


# -- oversized requests -----------------------------------------------------------------------


def _raw_head(method: str, extra: str) -> bytes:
    return (f"{method} {BASE_PATH}/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\n{extra}Connection: close\r\n\r\n").encode()


def _ctx(server):
    c = server.certs
    return client_context(c / "ca.crt", c / "client.crt", c / "client.key")


def test_ten_mib_body_with_content_length_is_413(module_server):
    total = 10 * MIB
    ex = send_streaming_body("127.0.0.1", module_server.port, _ctx(module_server),
                             _raw_head("POST", f"Content-Length: {total}\r\n"), total)
    assert ex.status == 413, f"no 413 for a 10 MiB body: {ex.describe()}"
    body = parse_json_body(ex.response)
    assert isinstance(body, dict) and body.get("message"), ex.response[:500]


def test_ten_mib_chunked_body_is_413(module_server):
    payload = b"A" * 65536
    frame = f"{len(payload):x}\r\n".encode() + payload + b"\r\n"
    total = len(frame) * 160  # 10 MiB of payload
    ex = send_streaming_body("127.0.0.1", module_server.port, _ctx(module_server),
                             _raw_head("POST", "Transfer-Encoding: chunked\r\n"), total, chunk=frame,
                             tail=b"0\r\n\r\n")
    assert ex.status == 413, f"no 413 for a 10 MiB chunked body: {ex.describe()}"


def test_ten_mib_modify_is_413(module_server):
    total = 10 * MIB
    ex = send_streaming_body("127.0.0.1", module_server.port, _ctx(module_server),
                             _raw_head("PUT", f"Content-Length: {total}\r\n"), total)
    assert ex.status == 413, ex.describe()


def test_server_serves_after_oversized_bodies(api):
    api.request("GET", "/livez", expect=200)
    assert api.get("hostile-keep", expect=200).json()["config"]["name"] == "hostile-keep"


# -- paths, queries and headers ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "%00", "a%00b", "x" * 5000, "%C3%A4",
                                  "%FF", "a%0Ab", "FLEXLB%00", "%2E%2E"])
def test_hostile_instance_names_in_paths(api, name):
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/stop"), ("POST", "/start")):
        r = api.request(method, f"/instances/{name}{suffix}")
        assert 400 <= r.status_code < 500, f"{method} {name}{suffix}: {r.status_code}"


@pytest.mark.parametrize("value", ["%00", "x" * 5000, "%FF", "a%0Ab", "' OR 1=1 --", "%25"])
def test_hostile_list_queries(api, value):
    r = api.session.get(api.base + f"{BASE_PATH}/instances?name={value}", timeout=30)
    api.check("GET", f"{BASE_PATH}/instances", r)
    assert r.status_code in (200, 400), r.status_code
    if r.status_code == 200:
        assert r.json() == [], "a hostile substring matched instances"


@pytest.mark.parametrize("value", ["W/\"1\"", "x" * 200, "\"a\"" * 60, ",,,", "\"unterminated"])
def test_hostile_if_match(api, value):
    body = copy.deepcopy(api.get("hostile-keep", expect=200).json()["config"])
    body["endpoints"][0]["backend_servers"][0]["port"] = 30099
    r = api.modify(body, if_match=value)
    assert r.status_code in (400, 412), f"If-Match {value[:40]!r}: {r.status_code} {r.text[:300]}"


def test_huge_header_does_not_hurt(api, module_server):
    try:
        r = api.session.get(api.base + f"{BASE_PATH}/livez", headers={"X-Big": "a" * 200_000}, timeout=30)
        assert r.status_code < 500
    except requests.ConnectionError:
        pass  # closing the connection is an acceptable answer to a 200 kB header
    assert module_server.alive()
    api.request("GET", "/livez", expect=200)


def test_many_headers(api, module_server):
    headers = {f"X-H{i}": "v" for i in range(2000)}
    try:
        r = api.session.get(api.base + f"{BASE_PATH}/livez", headers=headers, timeout=30)
        assert r.status_code < 500
    except requests.ConnectionError:
        pass
    api.request("GET", "/livez", expect=200)


def test_zz_still_alive_and_unchanged(api, module_server, baseline):
    assert module_server.alive()
    assert api.snapshot() == baseline
    api.request("GET", "/readyz", expect=200)
