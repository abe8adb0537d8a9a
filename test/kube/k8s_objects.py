"""Pure helpers of the test Kubernetes API server: selectors, merge patches (JSON merge, the part
of strategic merge that `kubectl apply` uses, JSON patch), structural-schema validation with
pruning and defaults, and Table rendering. No I/O here."""

from __future__ import annotations

import copy
import re
from typing import Any

# ---------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------


def _split_top(text: str) -> list[str]:
    """Splits a selector on commas that are not inside parentheses (`a in (x,y),b`)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


class SelectorError(ValueError):
    pass


def parse_label_selector(text: str | None):
    """Returns a predicate over a labels dict (equality- and set-based requirements)."""
    if not text:
        return lambda labels: True
    reqs = []
    for part in _split_top(text):
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((key, op, values))
            continue
        m = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)", part)
        if m:
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", m.group(3)))
            continue
        m = re.fullmatch(r"(!?)([\w./-]+)", part)
        if m:
            reqs.append((m.group(2), "!exists" if m.group(1) else "exists", None))
            continue
        raise SelectorError(f"unable to parse requirement: {part!r}")

    def match(labels: dict | None) -> bool:
        labels = labels or {}
        for key, op, value in reqs:
            have = key in labels
            if op == "=" and labels.get(key) != value:
                return False
            if op == "!=" and have and labels[key] == value:
                return False
            if op == "in" and (not have or labels[key] not in value):
                return False
            if op == "notin" and have and labels[key] in value:
                return False
            if op == "exists" and not have:
                return False
            if op == "!exists" and have:
                return False
        return True

    return match


def get_path(obj: Any, dotted: str) -> Any:
    cur = obj
    for part in [p for p in dotted.strip(".").split(".") if p]:
        if isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
    return cur


SUPPORTED_FIELDS = {"metadata.name", "metadata.namespace"}


def parse_field_selector(text: str | None, extra_fields: set[str]):
    if not text:
        return lambda obj: True
    reqs = []
    for part in _split_top(text):
        m = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", part)
        if not m:
            raise SelectorError(f"invalid field selector: {part!r}")
        field = m.group(1)
        if field not in SUPPORTED_FIELDS | extra_fields:
            raise SelectorError(f'field label not supported: {field}')
        reqs.append((field, m.group(2) != "!=", m.group(3)))

    def match(obj: dict) -> bool:
        for field, eq, value in reqs:
            have = get_path(obj, field)
            have = "" if have is None else str(have)
            if (have == value) != eq:
                return False
        return True

    return match


# ---------------------------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------------------------


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# Merge keys of the lists that strategic merge patch merges by key (the subset our manifests
# and kubectl apply touch); other lists are replaced, as in the Go implementation.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "env": "name", "volumes": "name", "volumeMounts": "mountPath",
    "ports": None,  # containerPort for containers, port for Services: decided by content
    "imagePullSecrets": "name", "tolerations": None, "conditions": "type",
}


def _merge_key(field: str, items: list) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """JSON merge patch plus keyed list merging, `$patch: delete|replace`, and the `$setElementOrder`
    / `$retainKeys` / `$deleteFromPrimitiveList` directives (the last applied; the others ignored)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and all(isinstance(v, dict) for v in value):
            mk = _merge_key(key, value + (result.get(key) or []))
            if mk is None:
                result[key] = copy.deepcopy(value)
                continue
            current = [copy.deepcopy(v) for v in result.get(key) or []]
            for item in value:
                idx = next((i for i, c in enumerate(current) if isinstance(c, dict) and c.get(mk) == item.get(mk)), None)
                if item.get("$patch") == "delete":
                    if idx is not None:
                        current.pop(idx)
                elif idx is None:
                    current.append({k: v for k, v in item.items() if not k.startswith("$")})
                else:
                    current[idx] = strategic_merge_patch(current[idx], item)
            result[key] = current
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class PatchError(ValueError):
    pass


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(target: Any, ops: list) -> Any:
    """RFC 6902: add, remove, replace, test, copy, move."""
    doc = copy.deepcopy(target)

    def parent(path):
        parts = _pointer(path)
        if not parts:
            raise PatchError("cannot address the document root")
        cur = doc
        for p in parts[:-1]:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur, parts[-1]

    def get(path):
        cur = doc
        for p in _pointer(path):
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        try:
            if kind == "test":
                if get(path) != op.get("value"):
                    raise PatchError(f"test failed at {path}")
                continue
            if kind in ("copy", "move"):
                value = copy.deepcopy(get(op["from"]))
                if kind == "move":
                    p, k = parent(op["from"])
                    p.pop(int(k)) if isinstance(p, list) else p.pop(k)
                kind, op = "add", {"path": path, "value": value}
            p, k = parent(path)
            if kind == "add":
                if isinstance(p, list):
                    p.insert(len(p) if k == "-" else int(k), copy.deepcopy(op["value"]))
                else:
                    p[k] = copy.deepcopy(op["value"])
            elif kind == "remove":
                p.pop(int(k)) if isinstance(p, list) else p.pop(k)
            elif kind == "replace":
                if isinstance(p, list):
                    p[int(k)] = copy.deepcopy(op["value"])
                else:
                    if k not in p:
                        raise PatchError(f"replace: missing path {path}")
                    p[k] = copy.deepcopy(op["value"])
            else:
                raise PatchError(f"unsupported op {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as e:
            if isinstance(e, PatchError):
                raise
            raise PatchError(f"{kind} {path}: {e}") from None
    return doc


# ---------------------------------------------------------------------------------------------
# Structural schemas (CRD openAPIV3Schema): validate, prune, default
# ---------------------------------------------------------------------------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def validate_schema(value: Any, schema: dict, path: str, errors: list[tuple[str, str, Any]]) -> Any:
    """Validates `value`; returns it pruned (unknown fields dropped) and defaulted.
    Errors are (field path, message, bad value)."""
    if schema.get("x-kubernetes-int-or-string") and isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    t = schema.get("type")
    if value is None:
        if schema.get("nullable"):
            return None
        if t:
            errors.append((path, f'Invalid value: "null": {path} in body must be of type {t}: "null"', None))
        return None
    if t and not _TYPES[t](value):
        errors.append((path, f'Invalid value: "{_type_name(value)}": {path} in body must be of type {t}: "{_type_name(value)}"', value))
        return value
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{e}"' for e in schema["enum"])
        errors.append((path, f'Unsupported value: {value!r}: supported values: {allowed}', value))
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((path, f"Too long: may not be more than {schema['maxLength']} bytes", value))
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append((path, f"Invalid value: {value!r}: {path} in body should be at least {schema['minLength']} chars long", value))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append((path, f"Invalid value: {value!r}: {path} in body should match '{schema['pattern']}'", value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((path, f"Invalid value: {value}: {path} in body should be greater than or equal to {schema['minimum']}", value))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((path, f"Invalid value: {value}: {path} in body should be less than or equal to {schema['maximum']}", value))
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append((path, f"Too many: {len(value)}: must have at most {schema['maxItems']} items", value))
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append((path, f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items", value))
        items = schema.get("items")
        if items:
            return [validate_schema(v, items, f"{path}[{i}]", errors) for i, v in enumerate(value)]
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        out = {}
        for key, sub in (props or {}).items():
            if key not in value and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
        for key, v in value.items():
            sub_path = f"{path}.{key}" if path else key
            if props is not None and key in props:
                out[key] = validate_schema(v, props[key], sub_path, errors)
            elif isinstance(addl, dict):
                out[key] = validate_schema(v, addl, sub_path, errors)
            elif preserve or addl is True:
                out[key] = v
            # else: pruned (structural schemas drop unknown fields)
        for req in schema.get("required", []):
            if req not in out:
                sub_path = f"{path}.{req}" if path else req
                errors.append((sub_path, "Required value", None))
        return out
    return value


# ---------------------------------------------------------------------------------------------
# Tables (kubectl get's default output)
# ---------------------------------------------------------------------------------------------


def jsonpath_simple(obj: Any, expr: str) -> Any:
    """`.a.b[0].c` — what additionalPrinterColumns use."""
    cur = obj
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", expr):
        key, idx = part
        if key:
            cur = cur.get(key) if isinstance(cur, dict) else None
        else:
            cur = cur[int(idx)] if isinstance(cur, list) and int(idx) < len(cur) else None
        if cur is None:
            return None
    return cur


def pruned_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Fields present in `before` but dropped from `after` (for strict field validation)."""
    out = []
    if isinstance(before, dict) and isinstance(after, dict):
        for k, v in before.items():
            p = f"{path}.{k}" if path else k
            if k not in after:
                out.append(p)
            else:
                out += pruned_paths(v, after[k], p)
    elif isinstance(before, list) and isinstance(after, list):
        for i, (b, a) in enumerate(zip(before, after)):
            out += pruned_paths(b, a, f"{path}[{i}]")
    return out
