"""Checks of the suite's own machinery (no server): the spec loads, the example bodies are valid,
and every case the constraint walker builds is invalid for the reason it claims."""

from __future__ import annotations

import pytest

from e2e_support import (Spec, constraint_cases, full_body, is_ip, jpath, string_locations,
                         template_body, template_ssl_body)

_SPEC = Spec()
CASES = list(constraint_cases(_SPEC, full_body()))


@pytest.mark.parametrize("body", [template_body(), template_ssl_body(), full_body()],
                         ids=["template", "template_ssl", "full"])
def test_example_bodies_are_valid(body):
    errs = _SPEC.errors(_SPEC.schema_ref("InstanceConfig"), body)
    assert not errs, [e.message for e in errs]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_walker_case_is_invalid_at_its_path(case):
    errs = _SPEC.errors(_SPEC.schema_ref("InstanceConfig"), case.body)
    assert errs, "walker built a valid body"
    paths = {jpath(tuple(e.absolute_path)) for e in errs}
    assert paths & set(case.paths), f"{paths} vs {case.paths}"


def test_walker_reaches_every_property_of_every_object_schema():
    """Every property declared under InstanceConfig appears in some case id."""
    seen = " ".join(c.id for c in CASES)
    schemas = _SPEC.doc["components"]["schemas"]
    for name in ("InstanceConfig", "Endpoint", "FrontendSSLOptions", "BackendCheckCommands",
                 "BackendServer", "CheckSSLOptions"):
        for prop in schemas[name]["properties"]:
            assert f".{prop}" in seen or f"[{prop}]" in seen, f"{name}.{prop} never mutated"


def test_string_locations_found():
    assert len(string_locations(_SPEC, full_body())) >= 20


@pytest.mark.parametrize("value,ok", [("10.0.0.1", True), ("::1", True), ("fd00::10", True),
                                      ("fe80::1%eth0", False), (" 10.0.0.1", False), ("10.0.0.1\n", False),
                                      ("010.0.0.1", False), ("host", False), ("", False)])
def test_ip_format(value, ok):
    assert is_ip(value) is ok


def test_ecma_dollar_does_not_accept_trailing_newline():
    assert not _SPEC.is_valid(_SPEC.schema_ref("Name"), "abc\n")
    assert _SPEC.is_valid(_SPEC.schema_ref("Name"), "abc")


def test_operation_matcher():
    assert _SPEC.match("POST", "/flexlb/v1/instances/a/stop") == "stop"
    assert _SPEC.match("PUT", "/flexlb/v1/instances") == "modify"
    assert _SPEC.match("GET", "/flexlb/v1/instances/a") == "get"
    assert _SPEC.match("GET", "/flexlb/v1/instances?name=x") == "list"
    assert _SPEC.match("PATCH", "/flexlb/v1/instances") is None
