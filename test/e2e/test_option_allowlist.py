"""Tenant option strings are checked against an allowlist per field (issue 9, part 2).

Each body below was accepted with 200 by the denylist and was effective against the real HAProxy:
it must now be refused with 400 naming the field's JSON path and the keyword, and nothing is stored.
0.4's example bodies keep working.
"""

from __future__ import annotations

import pytest

from e2e_support import template_body, template_ssl_body, violation_paths

EP = "$.endpoints[0]"

ATTACKS = [
    # (id, mutate, path, word)
    ("tcp-check-unix-socket",
     lambda ep: ep.update(backend_check_commands={"check_type": "tcp-check",
                                                 "commands": ["connect addr unix@/var/lib/flexlb/run/other.sock",
                                                              "send 'disable server be_80/s1'"]}),
     f"{EP}.backend_check_commands.commands[0]", "unix@"),
    ("bind-namespace", lambda ep: ep.update(frontend_options="namespace ../../proc/1/ns/net"),
     f"{EP}.frontend_options", "namespace"),
    ("server-namespace", lambda ep: ep["backend_servers"][0].update(options="check namespace other"),
     f"{EP}.backend_servers[0].options", "namespace"),
    ("map-file", lambda ep: ep["backend_servers"][0].update(options="check sni str(a),map(/etc/shadow,none)"),
     f"{EP}.backend_servers[0].options", "sni"),
    ("sample-fetch-file",
     lambda ep: ep.update(backend_check_commands={"check_type": "http-check",
                                                 "commands": ["send hdr X %[str(a),map(/etc/shadow,none)]"]}),
     f"{EP}.backend_check_commands.commands[0]", "%["),
    ("tls-ticket-keys", lambda ep: ep.update(frontend_options="tls-ticket-keys /etc/shadow"),
     f"{EP}.frontend_options", "tls-ticket-keys"),
    ("verify-none", lambda ep: ep.update(frontend_options="verify none"), f"{EP}.frontend_options", "verify"),
    ("env", lambda ep: ep.update(backend_options=["httpchk GET /%[env(HOSTNAME)]"]), f"{EP}.backend_options[0]", "%["),
    ("usesrc", lambda ep: ep["backend_servers"][0].update(options="check source 10.0.0.1 usesrc clientip"),
     f"{EP}.backend_servers[0].options", "source"),
    ("interface", lambda ep: ep.update(frontend_options="interface lo"), f"{EP}.frontend_options", "interface"),
    ("balance-hash", lambda ep: ep.update(balance="hash str(a),map(/etc/shadow,none)"), f"{EP}.balance", "hash"),
    ("default-server-verify", lambda ep: ep.update(backend_default_server="ssl verify none"),
     f"{EP}.backend_default_server", "verify"),
    ("external-check", lambda ep: ep.update(backend_options=["external-check"]), f"{EP}.backend_options[0]",
     "external-check"),
]


@pytest.mark.parametrize("case,mutate,path,word", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_observed_option_attacks_are_refused(api, case, mutate, path, word):
    body = template_body(f"opt-{case}", vip="127.168.60.1")
    mutate(body["endpoints"][0])
    r = api.create(body, expect=400)
    payload = r.json()
    assert path in violation_paths(payload), payload
    messages = " ".join(v["message"] for v in payload["violations"] if v["path"] == path)
    assert word in messages, payload
    assert api.request("GET", f"/instances/opt-{case}").status_code == 404


def test_04_example_bodies_are_accepted(api):
    for body in (template_body("opt-ok-tcp", vip="127.168.60.2"), template_ssl_body("opt-ok-ssl", vip="127.168.60.3")):
        api.create(body, expect=200)
        api.request("DELETE", f"/instances/{body['name']}", expect=200)
