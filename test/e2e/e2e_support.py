"""Shared helpers of the FlexLB end-to-end suite (no server needed to import this module).

- the OpenAPI document: loading, $ref resolution, response validation
- a mechanical walker over InstanceConfig that yields one violating body per constraint
- the FlexLB 0.4 example bodies (instance_template.json and its TLS variant)
- certificates made with `cryptography` (only the hostile ones; normal ones come from `flexlb certs init`)
- raw TLS / TCP probes used by the security and hostile tests
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import os
import re
import select
import socket
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
OPENAPI_PATH = REPO_ROOT / "openapi.yaml"
BASE_PATH = "/flexlb/v1"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


# --------------------------------------------------------------------------------------------
# OpenAPI document
# --------------------------------------------------------------------------------------------


def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """JSON Schema patterns are ECMA 262: `$` without the m flag matches only at the very end.

    Python's `$` also matches before a trailing newline, which would hide exactly the injection
    bugs these tests look for, so a trailing `$` becomes `\\Z`.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def is_ip(value: Any) -> bool:
    """An IP address as the spec means it (anyOf ipv4/ipv6): no zone, no surrounding whitespace."""
    if not isinstance(value, str):
        return True  # formats only constrain strings
    if "%" in value or value != value.strip() or not value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class Spec:
    """openapi.yaml, loaded once, with $ref resolution and schema validation."""

    def __init__(self, path: Path = OPENAPI_PATH):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.doc = yaml.safe_load(self.text)
        self._validator_cls = self._make_validator_class()
        import referencing
        import referencing.jsonschema

        resource = referencing.Resource.from_contents(
            self.doc, default_specification=referencing.jsonschema.DRAFT4
        )
        self._registry = referencing.Registry().with_resource("urn:flexlb:openapi", resource)
        self._format_checker = self._make_format_checker()

    # -- validation -----------------------------------------------------------------------

    @staticmethod
    def _make_validator_class():
        import jsonschema
        from openapi_schema_validator import OAS30Validator

        def pattern(validator, patrn, instance, schema):
            if validator.is_type(instance, "string") and not ecma_pattern(patrn).search(instance):
                yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

        return jsonschema.validators.extend(OAS30Validator, {"pattern": pattern})

    def _make_format_checker(self):
        from openapi_schema_validator import oas30_format_checker
        import jsonschema

        checker = jsonschema.FormatChecker()
        for name, func in oas30_format_checker.checkers.items():
            checker.checkers[name] = func
        checker.checkers["ip"] = (is_ip, ())
        return checker

    def validator(self, schema: dict):
        return self._validator_cls(
            schema, registry=self._registry, format_checker=self._format_checker
        )

    def schema_ref(self, name: str) -> dict:
        return {"$ref": f"urn:flexlb:openapi#/components/schemas/{name}"}

    def errors(self, schema: dict, instance: Any) -> list:
        """Validation errors of `instance` against `schema` (which may hold spec-local $refs)."""
        return list(self.validator(self._absolutize(schema)).iter_errors(instance))

    def is_valid(self, schema: dict, instance: Any) -> bool:
        return not self.errors(schema, instance)

    def _absolutize(self, node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str) and v.startswith("#/"):
                    out[k] = "urn:flexlb:openapi" + v
                else:
                    out[k] = self._absolutize(v)
            return out
        if isinstance(node, list):
            return [self._absolutize(v) for v in node]
        return node

    # -- structure ------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Follows local $refs until a non-$ref node."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target: Any = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            assert seen < 50, "reference loop"
        return node

    def flatten(self, schema: Any) -> dict:
        """Resolves $ref and merges allOf into one dict of constraints (enough for this spec).

        `anyOf: [{format: ipv4}, {format: ipv6}]` (the spec's IP address) becomes one string
        schema with `format: ip` and the longest maxLength, as flexlbd checks it."""
        schema = self.resolve(schema)
        out: dict = {}
        for part in schema.get("allOf", []):
            out.update(self.flatten(part))
        out.update({k: v for k, v in schema.items() if k not in ("allOf", "anyOf")})
        branches = [self.flatten(b) for b in schema.get("anyOf", [])]
        if branches and {b.get("format") for b in branches} == {"ipv4", "ipv6"}:
            out.update(type="string", format="ip", maxLength=max(b.get("maxLength", 0) for b in branches))
        elif branches:
            out["anyOf"] = schema["anyOf"]
        return out

    def operations(self) -> dict[str, tuple[str, str, dict]]:
        """operationId → (METHOD, path template, operation object)."""
        ops = {}
        for path, item in self.doc["paths"].items():
            for method in HTTP_METHODS:
                if method in item:
                    op = item[method]
                    ops[op["operationId"]] = (method.upper(), path, op)
        return ops

    def match(self, method: str, path: str) -> str | None:
        """operationId for a concrete request path under BASE_PATH (None for unknown paths)."""
        if not path.startswith(BASE_PATH):
            return None
        rel = path[len(BASE_PATH):].split("?", 1)[0]
        for op_id, (m, template, _) in self.operations().items():
            if m != method.upper():
                continue
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(rx, rel):
                return op_id
        return None

    def response_spec(self, op_id: str, status: int) -> dict | None:
        _, _, op = self.operations()[op_id]
        responses = op.get("responses", {})
        resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        return self.resolve(resp) if resp is not None else None

    def documented_statuses(self, op_id: str) -> list[str]:
        return list(self.operations()[op_id][2].get("responses", {}).keys())

    def response_schema(self, op_id: str, status: int, media: str = "application/json") -> dict | None:
        resp = self.response_spec(op_id, status)
        if resp is None:
            return None
        content = resp.get("content", {})
        if media in content:
            return content[media].get("schema")
        return None


# --------------------------------------------------------------------------------------------
# Certificates (cryptography) — hostile ones, and PEM material for request bodies
# --------------------------------------------------------------------------------------------


def _crypto():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    return x509, hashes, serialization, ec, ExtendedKeyUsageOID, NameOID


def load_ca(ca_crt: Path, ca_key: Path):
    x509, _, serialization, *_ = _crypto()
    cert = x509.load_pem_x509_certificate(ca_crt.read_bytes())
    key = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    return cert, key


def make_ca(common_name: str = "Foreign Test CA"):
    """A self-signed CA (cert, key)."""
    x509, hashes, _, ec, _, NameOID = _crypto()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue_cert(
    ca_cert,
    ca_key,
    common_name: str,
    *,
    client: bool,
    server: bool,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    ips: tuple[str, ...] = (),
    dns: tuple[str, ...] = (),
):
    """A leaf certificate (cert, key) signed by (ca_cert, ca_key)."""
    x509, hashes, _, ec, EKU, NameOID = _crypto()
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = not_before or now - datetime.timedelta(hours=1)
    not_after = not_after or now + datetime.timedelta(days=1)
    usages = []
    if client:
        usages.append(EKU.CLIENT_AUTH)
    if server:
        usages.append(EKU.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    sans = [x509.IPAddress(ipaddress.ip_address(i)) for i in ips] + [x509.DNSName(d) for d in dns]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def cert_pem(cert) -> str:
    _, _, serialization, *_ = _crypto()
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key) -> str:
    _, _, serialization, *_ = _crypto()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def write_pair(directory: Path, stem: str, cert, key) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    crt_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    crt_path.write_text(cert_pem(cert))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key_pem(key))
    return crt_path, key_path


_PEM_CACHE: dict[str, str] = {}


def body_pems() -> dict[str, str]:
    """PEM strings for the TLS example body (made once per process, never committed)."""
    if not _PEM_CACHE:
        ca, ca_key = make_ca("FlexLB e2e body CA")
        srv, srv_key = issue_cert(ca, ca_key, "vip.example.test", client=False, server=True,
                                  dns=("vip.example.test",))
        cli, cli_key = issue_cert(ca, ca_key, "haproxy-check", client=True, server=False)
        _PEM_CACHE.update(
            ca=cert_pem(ca), server_cert=cert_pem(srv), server_key=key_pem(srv_key),
            client_cert=cert_pem(cli), client_key=key_pem(cli_key),
        )
    return dict(_PEM_CACHE)


# --------------------------------------------------------------------------------------------
# Request bodies (FlexLB 0.4 examples)
# --------------------------------------------------------------------------------------------

DEFAULT_SERVER = "inter 2s downinter 5s rise 2 fall 2 slowstart 60s maxconn 2000 maxqueue 2000 weight 100"


# Network rule of these tests: nothing may leave the machine. flexlbd now runs keepalived and
# HAProxy for every instance, so VIPs go on `lo` inside 127.0.0.0/8 and backends are loopback
# addresses (HAProxy health-checks them); the body shapes are 0.4's, the addresses are local.
TEST_IFACE = "lo"


def template_body(name: str = "inst1", vip: str = "127.168.1.100", port: int = 8080) -> dict:
    """FlexLB 0.4 `release/hack/instance_template.json` (shape; loopback addresses)."""
    return {
        "name": name,
        "frontend_interface": TEST_IFACE,
        "frontend_ipaddress": vip,
        "frontend_net_prefix": 24,
        "endpoints": [
            {
                "frontend_port": port,
                "mode": "tcp",
                "balance": "roundrobin",
                "backend_options": ["httpchk GET /"],
                "backend_check_commands": {
                    "check_type": "http-check",
                    "commands": ["expect status 200"],
                },
                "backend_servers": [
                    {"name": f"server{i}", "ipaddress": f"127.0.2.{10 + i}", "port": 30080,
                     "options": "check"}
                    for i in range(1, 4)
                ],
            }
        ],
    }


def template_ssl_body(name: str = "inst-ssl", vip: str = "127.168.1.101", port: int = 8443) -> dict:
    """FlexLB 0.4 `release/hack/instance_template_ssl.json` (shape; certificates generated)."""
    p = body_pems()
    return {
        "name": name,
        "frontend_interface": TEST_IFACE,
        "frontend_ipaddress": vip,
        "frontend_net_prefix": 24,
        "endpoints": [
            {
                "frontend_port": port,
                "frontend_ssl_options": {
                    "server_cert": p["server_cert"],
                    "server_key": p["server_key"],
                    "ca_cert": p["ca"],
                    "verify": "optional",
                },
                "mode": "http",
                "balance": "roundrobin",
                "backend_options": ["httpchk GET /"],
                "backend_check_commands": {
                    "check_type": "http-check",
                    "commands": ["expect status 200"],
                },
                "backend_servers": [
                    {
                        "name": f"server{i}",
                        "ipaddress": f"127.0.2.{20 + i}",
                        "port": 30443,
                        "options": "ssl check",
                        "check_ssl_options": {
                            "client_cert": p["client_cert"],
                            "client_key": p["client_key"],
                            "ca_cert": p["ca"],
                            "verify": "none",
                        },
                    }
                    for i in range(1, 4)
                ],
            }
        ],
    }


def full_body(name: str = "full1", vip: str = "127.168.1.102", port: int = 9443) -> dict:
    """A valid body that sets every optional property, so every constraint is reachable."""
    body = template_ssl_body(name, vip, port)
    ep = body["endpoints"][0]
    ep["frontend_options"] = "accept-proxy"
    ep["backend_default_server"] = DEFAULT_SERVER
    return body


# --------------------------------------------------------------------------------------------
# JSON paths and the constraint walker
# --------------------------------------------------------------------------------------------


def jpath(parts: tuple) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def get_at(doc: Any, parts: tuple) -> Any:
    for p in parts:
        doc = doc[p]
    return doc


def set_at(doc: Any, parts: tuple, value: Any) -> None:
    get_at(doc, parts[:-1])[parts[-1]] = value


def del_at(doc: Any, parts: tuple) -> None:
    del get_at(doc, parts[:-1])[parts[-1]]


@dataclass
class Case:
    """One violating body: `paths` are the JSON paths any of which the server may report."""

    id: str
    body: Any
    paths: tuple[str, ...]
    constraint: str
    field_parts: tuple = field(default=())
    default: Any = None  # set for a missing required property that also has a spec default


# Candidate strings tried, in order, to violate a `pattern` while keeping the length legal.
PATTERN_CANDIDATES = [
    "bad value!",
    "Bad Value!",
    "",
    "a\tb",
    "not a pem",
    "x" * 20,
    "caf\u00e9",
    "a\nb",
    "\u2028",
]


def _uniquify(items: list, base: dict, count: int) -> list:
    """Copies `base` count times, keeping names and ports distinct so only maxItems is violated."""
    out = []
    for i in range(count):
        item = copy.deepcopy(base)
        if isinstance(item, dict):
            if "name" in item:
                item["name"] = f"n{i}"
            if "frontend_port" in item:
                item["frontend_port"] = 1000 + i
        elif isinstance(item, str):
            item = f"{item} {i}" if item else f"x{i}"
        out.append(item)
    return out


def constraint_cases(spec: Spec, base: dict, schema_name: str = "InstanceConfig") -> Iterator[Case]:
    """Yields one Case per (location in `base`, constraint of that location's schema)."""
    yield from _walk(spec, spec.doc["components"]["schemas"][schema_name], base, ())


def _walk(spec: Spec, schema: Any, base: dict, parts: tuple) -> Iterator[Case]:
    s = spec.flatten(schema)
    value = get_at(base, parts)
    here = jpath(parts)

    def case(constraint: str, bad: Any, *, paths: tuple[str, ...] | None = None, remove=False) -> Case:
        body = copy.deepcopy(base)
        if remove:
            del_at(body, parts)
        elif parts:
            set_at(body, parts, bad)
        else:
            body = bad
        return Case(f"{here}:{constraint}", body, paths or (here,), constraint, parts)

    typ = s.get("type")
    # type
    if typ in ("object", "array"):
        yield case("type", "not-an-" + typ)
    elif typ == "string":
        yield case("type", 12345)
    elif typ == "integer":
        yield case("type", str(value))
        yield case("type-float", value + 0.5)
    # enum
    if "enum" in s:
        yield case("enum", "bogus-" + str(s["enum"][0]))
    # numbers
    if "minimum" in s:
        yield case("minimum", s["minimum"] - 1)
    if "maximum" in s:
        yield case("maximum", s["maximum"] + 1)
    # strings
    if typ == "string":
        if "maxLength" in s:
            yield case("maxLength", "A" * (s["maxLength"] + 1))
        if "minLength" in s and s["minLength"] > 0:
            yield case("minLength", "")
        if "pattern" in s:
            rx = ecma_pattern(s["pattern"])
            cand = next(
                c for c in PATTERN_CANDIDATES
                if not rx.search(c) and len(c) <= s.get("maxLength", 1 << 30)
                and len(c) >= s.get("minLength", 0)
            )
            yield case("pattern", cand)
        if s.get("format") == "ip":
            for bad in ("999.1.1.1", "fe80::1%eth0", " 10.0.0.1", "vip.example.com", "10.0.0"):
                yield case(f"format-ip[{bad!r}]", bad)
    # arrays
    if typ == "array":
        items = s.get("items", {})
        if "minItems" in s and s["minItems"] > 0:
            yield case("minItems", [])
        if "maxItems" in s:
            small = _minimal(spec, items, value[0])
            yield case("maxItems", _uniquify(value, small, s["maxItems"] + 1), paths=(here,))
        for i in range(len(value)):
            if i > 0:
                break  # the first element covers the item schema
            yield from _walk(spec, items, base, parts + (i,))
    # objects
    if typ == "object":
        props = s.get("properties", {})
        for req in s.get("required", []):
            yield _required_case(base, parts, req, spec.flatten(props.get(req, {})))
        if s.get("additionalProperties") is False:
            body = copy.deepcopy(base)
            target = get_at(body, parts)
            target["unknown_field"] = 1
            yield Case(f"{here}:additionalProperties", body,
                       (jpath(parts + ("unknown_field",)), here), "additionalProperties", parts)
        for name, sub in props.items():
            if isinstance(value, dict) and name in value:
                yield from _walk(spec, sub, base, parts + (name,))


def _minimal(spec: Spec, schema: Any, value: Any) -> Any:
    """`value` with only the properties its schema requires (recursively), to keep bodies small."""
    s = spec.flatten(schema)
    if s.get("type") == "object" and isinstance(value, dict):
        props = s.get("properties", {})
        return {k: _minimal(spec, props.get(k, {}), v) for k, v in value.items() if k in s.get("required", [])}
    if s.get("type") == "array" and isinstance(value, list):
        return [_minimal(spec, s.get("items", {}), v) for v in value[:1]]
    return copy.deepcopy(value)


def _required_case(base: dict, parts: tuple, req: str, prop_schema: dict) -> Case:
    body = copy.deepcopy(base)
    target = get_at(body, parts)
    target.pop(req, None)
    c = Case(f"{jpath(parts)}:required[{req}]", body, (jpath(parts + (req,)), jpath(parts)),
             "required", parts + (req,))
    if "default" in prop_schema:
        # openapi.yaml lists it as required AND gives a default: a server may refuse the body
        # or fill in the default; both are checked (the test asserts which one happened).
        c.default = prop_schema["default"]
    return c


def string_locations(spec: Spec, base: dict, schema_name: str = "InstanceConfig") -> list[tuple[tuple, dict]]:
    """Every location in `base` whose schema is a string: (parts, flattened schema)."""
    out: list[tuple[tuple, dict]] = []

    def walk(schema: Any, parts: tuple) -> None:
        s = spec.flatten(schema)
        value = get_at(base, parts)
        t = s.get("type")
        if t == "string":
            out.append((parts, s))
        elif t == "array" and value:
            walk(s.get("items", {}), parts + (0,))
        elif t == "object" and isinstance(value, dict):
            for name, sub in s.get("properties", {}).items():
                if name in value:
                    walk(sub, parts + (name,))

    walk(spec.doc["components"]["schemas"][schema_name], ())
    return out


def violation_paths(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    return [v.get("path") for v in body.get("violations", []) or [] if isinstance(v, dict)]


# --------------------------------------------------------------------------------------------
# Raw TLS / TCP probes
# --------------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """What happened when a request was sent on a raw connection."""

    response: bytes = b""
    error: BaseException | None = None
    handshake_ok: bool = False

    @property
    def status(self) -> int | None:
        m = re.match(rb"HTTP/1\.[01] (\d{3})", self.response)
        return int(m.group(1)) if m else None

    def describe(self) -> str:
        return f"handshake_ok={self.handshake_ok} status={self.status} error={self.error!r} head={self.response[:200]!r}"


def client_context(ca: Path | None, cert: Path | None = None, key: Path | None = None,
                   check_hostname: bool = True) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is not None:
        ctx.load_verify_locations(cafile=str(ca))
        ctx.check_hostname = check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def tls_request(host: str, port: int, ctx: ssl.SSLContext, request: bytes,
                server_hostname: str | None = "127.0.0.1", timeout: float = 10.0) -> Exchange:
    """Handshake, send `request`, read until the server closes or a full response is in."""
    ex = Exchange()
    deadline = time.monotonic() + timeout
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        ex.error = e
        return ex
    try:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as s:
            ex.handshake_ok = True
            s.sendall(request)
            while time.monotonic() < deadline:
                s.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = s.recv(65536)
                if not chunk:
                    break
                ex.response += chunk
                if _complete(ex.response):
                    break
    except (ssl.SSLError, OSError) as e:
        ex.error = e
    finally:
        raw.close()
    return ex


def _complete(data: bytes) -> bool:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if m:
        return len(rest) >= int(m.group(1))
    return False


def peer_certificate_der(host: str, port: int, ctx: ssl.SSLContext) -> bytes:
    raw = socket.create_connection((host, port), timeout=10)
    try:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.getpeercert(binary_form=True)
    finally:
        raw.close()


def send_streaming_body(host: str, port: int, ctx: ssl.SSLContext, head: bytes, total: int,
                        chunk: bytes = b" " * 65536, tail: bytes = b"", timeout: float = 30.0,
                        body: bytes | None = None) -> Exchange:
    """Sends `head` then `total` bytes of body, looking for an early response between chunks.

    A server that refuses an oversized body may answer and close before the body is sent; the
    response is read as soon as it is readable so a reset afterwards does not hide it.
    """
    ex = Exchange()
    deadline = time.monotonic() + timeout
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        ex.handshake_ok = True
        try:
            # A server that stops reading after refusing the body leaves sendall blocked once the
            # buffers fill: give up writing after a few seconds and leave time to read its answer.
            s.settimeout(min(5.0, timeout))
            s.sendall(head)
            sent = 0
            while sent < total and time.monotonic() < deadline:
                r, _, _ = select.select([s], [], [], 0)
                if r or s.pending():
                    break
                if body is not None:
                    piece = body[sent: sent + 65536]
                else:
                    piece = chunk[: min(len(chunk), total - sent)]
                s.sendall(piece)
                sent += len(piece)
            else:
                if tail and sent >= total:
                    s.sendall(tail)
        except (ssl.SSLError, OSError) as e:
            ex.error = e
        try:
            deadline = max(deadline, time.monotonic() + 5.0)   # always some time to read the answer
            while time.monotonic() < deadline:
                s.settimeout(max(0.05, deadline - time.monotonic()))
                data = s.recv(65536)
                if not data:
                    break
                ex.response += data
                if _complete(ex.response):
                    break
        except (ssl.SSLError, OSError) as e:
            ex.error = ex.error or e
        try:
            s.close()
        except OSError:
            pass
    finally:
        raw.close()
    return ex


def parse_json_body(data: bytes) -> Any:
    _, _, rest = data.partition(b"\r\n\r\n")
    try:
        return json.loads(rest.decode("utf-8", "replace") or "null")
    except ValueError:
        return None


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition") -> Any:
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last={last!r})")
        time.sleep(interval)
