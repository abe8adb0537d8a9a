#!/usr/bin/env python3
"""A Kubernetes API server for tests: small, in memory, but faithful to the API conventions that
kubectl and controllers rely on (see docs/kubernetes.md of the shared docs). Judged by the real
kubectl in test/kube/test_apiserver.py.

  apiserver.py --port 0 --cert server.crt --key server.key --client-ca ca.crt \
               --token-file tokens.csv --port-file PORTFILE [--rbac] [--history 1000]

Discovery; CRUD with resourceVersion/uid/generation/creationTimestamp/generateName; 409 on stale
resourceVersion; Status objects; list + watch (chunked JSON lines) with bookmarks, label/field
selectors and 410 Gone; status subresources; finalizers + deletionTimestamp; CRDs served once
applied (structural schema validation, pruning, defaults, printer columns); JSON merge, strategic
merge (what kubectl apply uses) and JSON patches; Tables for kubectl get; TLS with client
certificates (superusers) or bearer tokens (subject to RBAC with --rbac); Service registry
behaviour (clusterIP, nodePort and healthCheckNodePort allocation).
"""

from __future__ import annotations

import argparse
import bisect
import collections
import copy
import datetime
import ipaddress
import json
import re
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import k8s_objects as ko

# ---------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------


@dataclass
class Resource:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    has_status: bool = False
    short_names: list = field(default_factory=list)
    schema: dict | None = None
    printer_columns: list = field(default_factory=list)
    fields: set = field(default_factory=set)
    crd: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def gr(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def rid(self) -> tuple:
        return (self.group, self.version, self.plural)


VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

BUILTIN = [
    Resource("", "v1", "namespaces", "namespace", "Namespace", False, True, ["ns"], fields={"status.phase"}),
    Resource("", "v1", "services", "service", "Service", True, True, ["svc"], fields={"spec.type", "spec.clusterIP"}),
    Resource("", "v1", "nodes", "node", "Node", False, True, ["no"], fields={"spec.unschedulable"}),
    Resource("", "v1", "pods", "pod", "Pod", True, True, ["po"], fields={"spec.nodeName", "status.phase"}),
    Resource("", "v1", "events", "event", "Event", True, False, ["ev"],
             fields={"involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "involvedObject.uid", "reason", "type"}),
    Resource("", "v1", "secrets", "secret", "Secret", True, False, fields={"type"}),
    Resource("", "v1", "configmaps", "configmap", "ConfigMap", True, False, ["cm"]),
    Resource("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, False, ["sa"]),
    Resource("apps", "v1", "deployments", "deployment", "Deployment", True, True, ["deploy"]),
    Resource("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", True, False),
    Resource("coordination.k8s.io", "v1", "leases", "lease", "Lease", True, False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", False),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", True),
    Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
             "CustomResourceDefinition", False, True, ["crd", "crds"]),
]


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def not_found(res: Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{res.gr} "{name}" not found', {"name": name, "group": res.group, "kind": res.plural})


def invalid(res: Resource, name: str, errors: list) -> ApiError:
    causes = [{"reason": "FieldValueInvalid" if "Invalid" in m else "FieldValueRequired", "message": m, "field": p}
              for p, m, _ in errors]
    text = ", ".join(f"{p}: {m}" for p, m, _ in errors)
    kind = res.kind if not res.group else f"{res.kind}.{res.group}"
    if len(errors) > 1:
        text = "[" + text + "]"
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {text}',
                    {"name": name, "group": res.group, "kind": res.kind, "causes": causes})


# ---------------------------------------------------------------------------------------------
# Storage with a change history for watches
# ---------------------------------------------------------------------------------------------


class Store:
    def __init__(self, history: int):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 1
        self.objects: dict[tuple, dict] = {}
        self.history: list = []      # (rv, resource id, type, object), ascending rv
        self.history_rvs: list = []  # the rvs alone, for bisect
        self.history_limit = history
        self.compacted = 1  # events at or below this rv are gone
        self.resources: dict[tuple, Resource] = {r.rid: r for r in BUILTIN}
        self.service_ips = ipaddress.ip_network("10.96.0.0/16").hosts()
        next(self.service_ips)  # 10.96.0.1 is the kubernetes Service
        self.node_ports: set[int] = set()
        self.requests = collections.Counter()

    def next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def record(self, res: Resource, kind: str, obj: dict) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        self.history.append((rv, res.rid, kind, copy.deepcopy(obj)))
        self.history_rvs.append(rv)
        if len(self.history) > 2 * self.history_limit:
            drop = len(self.history) - self.history_limit
            self.compacted = self.history_rvs[drop - 1]
            del self.history[:drop]
            del self.history_rvs[:drop]
        self.changed.notify_all()

    def events_after(self, rv: int) -> list:
        """History entries with a version above `rv` (caller holds the lock)."""
        return self.history[bisect.bisect_right(self.history_rvs, rv):]

    def compact(self) -> None:
        with self.lock:
            self.history.clear()
            self.history_rvs.clear()
            self.compacted = self.rv
            self.changed.notify_all()

    def find(self, group: str, version: str, plural: str) -> Resource | None:
        res = self.resources.get((group, version, plural))
        if res is None:
            for r in self.resources.values():
                if r.group == group and r.version == version and plural in r.short_names + [r.singular]:
                    return None  # only plural names are paths
        return res


# ---------------------------------------------------------------------------------------------
# The API semantics
# ---------------------------------------------------------------------------------------------


def spec_of(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Api:
    def __init__(self, store: Store):
        self.s = store

    # -- helpers ------------------------------------------------------------------------------

    def key(self, res: Resource, ns: str | None, name: str) -> tuple:
        return (res.rid, ns if res.namespaced else None, name)

    def get(self, res: Resource, ns: str | None, name: str) -> dict:
        with self.s.lock:
            obj = self.s.objects.get(self.key(res, ns, name))
            if obj is None:
                raise not_found(res, name)
            return copy.deepcopy(obj)

    def list(self, res: Resource, ns: str | None, label_sel: str | None, field_sel: str | None) -> tuple[list, str]:
        try:
            lmatch = ko.parse_label_selector(label_sel)
            fmatch = ko.parse_field_selector(field_sel, res.fields)
        except ko.SelectorError as e:
            raise ApiError(400, "BadRequest", str(e))
        with self.s.lock:
            items = [copy.deepcopy(o) for (rid, ons, _), o in sorted(self.s.objects.items(), key=lambda kv: (kv[0][1] or "", kv[0][2]))
                     if rid == res.rid and (ns is None or ons == ns)
                     and lmatch(o["metadata"].get("labels")) and fmatch(o)]
            return items, str(self.s.rv)

    def require_namespace(self, res: Resource, ns: str | None) -> None:
        if not res.namespaced:
            return
        ns_res = self.s.resources[("", "v1", "namespaces")]
        if (ns_res.rid, None, ns) not in self.s.objects:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})

    # -- create ---------------------------------------------------------------------------------

    def create(self, res: Resource, ns: str | None, body: dict, strict: bool = False) -> dict:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
        meta = body.setdefault("metadata", {})
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if body.get("kind") and body["kind"] != res.kind:
            raise ApiError(400, "BadRequest", f"the kind {body['kind']} does not match {res.kind}")
        with self.s.lock:
            self.require_namespace(res, ns)
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise invalid(res, "", [("metadata.name", "Required value: name or generateName is required", None)])
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            name = meta["name"]
            if self.key(res, ns, name) in self.s.objects:
                raise ApiError(409, "AlreadyExists", f'{res.gr} "{name}" already exists', {"name": name, "group": res.group, "kind": res.plural})
            body["apiVersion"], body["kind"] = res.api_version, res.kind
            for k in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "generation", "managedFields"):
                meta.pop(k, None)
            if res.has_status and res.plural not in ("customresourcedefinitions",):
                body.pop("status", None)
            body = self.admit(res, None, body, strict)
            meta = body["metadata"]
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
            meta["resourceVersion"] = self.s.next_rv()
            self.s.objects[self.key(res, ns, name)] = body
            self.s.record(res, "ADDED", body)
            self.after_write(res, None, body)
            return copy.deepcopy(body)

    # -- update (PUT, PATCH, status) ------------------------------------------------------------

    def update(self, res: Resource, ns: str | None, name: str, new: dict, subresource: str | None, strict: bool = False) -> dict:
        with self.s.lock:
            old = self.s.objects.get(self.key(res, ns, name))
            if old is None:
                raise not_found(res, name)
            if not isinstance(new, dict):
                raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
            meta = new.setdefault("metadata", {})
            if meta.get("name", name) != name:
                raise ApiError(400, "BadRequest", f'the name of the object ({meta.get("name")}) does not match the name on the URL ({name})')
            rv = meta.get("resourceVersion")
            if rv not in (None, "") and rv != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict",
                               f'Operation cannot be fulfilled on {res.gr} "{name}": the object has been modified; '
                               "please apply your changes to the latest version and try again",
                               {"name": name, "group": res.group, "kind": res.plural})
            if subresource == "status":
                merged = copy.deepcopy(old)
                if "status" in new:
                    merged["status"] = new["status"]
                else:
                    merged.pop("status", None)
                new = merged
            else:
                if res.has_status:
                    if "status" in old:
                        new["status"] = copy.deepcopy(old["status"])
                    else:
                        new.pop("status", None)
                for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
                    if k in old["metadata"]:
                        meta[k] = old["metadata"][k]
                    else:
                        meta.pop(k, None)
                if res.namespaced:
                    meta["namespace"] = ns
                if old["metadata"].get("deletionTimestamp"):
                    added = set(meta.get("finalizers") or []) - set(old["metadata"].get("finalizers") or [])
                    if added:
                        raise ApiError(422, "Invalid", f'{res.kind} "{name}" is invalid: metadata.finalizers: Forbidden: '
                                       "no new finalizers can be added if the object is being deleted")
            new["apiVersion"], new["kind"] = res.api_version, res.kind
            new = self.admit(res, old, new, strict)
            if spec_of(new) != spec_of(old):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            if new == old:
                return copy.deepcopy(old)  # no-op updates do not bump the resourceVersion
            new["metadata"]["resourceVersion"] = self.s.next_rv()
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                del self.s.objects[self.key(res, ns, name)]
                self.s.record(res, "DELETED", new)
                self.after_delete(res, new)
                return copy.deepcopy(new)
            self.s.objects[self.key(res, ns, name)] = new
            self.s.record(res, "MODIFIED", new)
            self.after_write(res, old, new)
            return copy.deepcopy(new)

    def patch(self, res: Resource, ns: str | None, name: str, ctype: str, body: bytes, subresource: str | None, strict: bool = False) -> dict:
        with self.s.lock:
            current = self.get(res, ns, name)
            try:
                doc = json.loads(body)
            except ValueError as e:
                raise ApiError(400, "BadRequest", f"error decoding patch: {e}")
            base = ctype.split(";")[0].strip()
            try:
                if base == "application/merge-patch+json":
                    patched = ko.json_merge_patch(current, doc)
                elif base == "application/strategic-merge-patch+json":
                    if res.crd:
                        raise ApiError(415, "UnsupportedMediaType",
                                       "strategic merge patch is not supported for custom resources; use a merge patch")
                    patched = ko.strategic_merge_patch(current, doc)
                elif base == "application/json-patch+json":
                    if not isinstance(doc, list):
                        raise ApiError(400, "BadRequest", "a JSON patch is a list of operations")
                    patched = ko.json_patch(current, doc)
                else:
                    raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: "
                                   "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")
            except ko.PatchError as e:
                raise ApiError(422, "Invalid", str(e))
            if not isinstance(patched, dict):
                raise ApiError(400, "BadRequest", "the patch must produce an object")
            # A resourceVersion in the patch is a precondition; otherwise the patch applies to the current version.
            patch_rv = ((doc.get("metadata") or {}).get("resourceVersion") if isinstance(doc, dict) else None)
            patched.setdefault("metadata", {})["resourceVersion"] = patch_rv or current["metadata"]["resourceVersion"]
            return self.update(res, ns, name, patched, subresource, strict)

    # -- delete ---------------------------------------------------------------------------------

    def delete(self, res: Resource, ns: str | None, name: str, options: dict) -> dict:
        with self.s.lock:
            old = self.s.objects.get(self.key(res, ns, name))
            if old is None:
                raise not_found(res, name)
            pre = options.get("preconditions") or {}
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.gr} "{name}": '
                               f'Precondition failed: ResourceVersion in precondition: {pre["resourceVersion"]}, '
                               f'ResourceVersion in object meta: {old["metadata"]["resourceVersion"]}')
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.gr} "{name}": Precondition failed: UID')
            if old["metadata"].get("finalizers"):
                if old["metadata"].get("deletionTimestamp"):
                    return copy.deepcopy(old)
                new = copy.deepcopy(old)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                new["metadata"]["resourceVersion"] = self.s.next_rv()
                self.s.objects[self.key(res, ns, name)] = new
                self.s.record(res, "MODIFIED", new)
                return copy.deepcopy(new)
            del self.s.objects[self.key(res, ns, name)]
            gone = copy.deepcopy(old)
            gone["metadata"]["resourceVersion"] = self.s.next_rv()
            self.s.record(res, "DELETED", gone)
            self.after_delete(res, gone)
            return gone

    # -- admission: defaults, validation, registries ------------------------------------------------

    def admit(self, res: Resource, old: dict | None, new: dict, strict: bool = False) -> dict:
        name = new["metadata"].get("name", "")
        if res.crd and res.schema:
            errors: list = []
            schema = copy.deepcopy(res.schema)
            props = schema.get("properties") or {}
            for k in ("apiVersion", "kind", "metadata"):
                props.pop(k, None)
            meta, api_version, kind = new["metadata"], new["apiVersion"], new["kind"]
            body = {k: v for k, v in new.items() if k not in ("apiVersion", "kind", "metadata")}
            pruned = ko.validate_schema(body, schema, "", errors)
            if errors:
                raise invalid(res, name, errors)
            if strict:
                unknown = ko.pruned_paths(body, pruned)
                if unknown:
                    raise ApiError(400, "BadRequest", "strict decoding error: " + ", ".join(f'unknown field "{u}"' for u in unknown))
            body = pruned
            new = {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}
        if res.plural == "services":
            new = self.admit_service(res, old, new)
        if res.plural == "customresourcedefinitions":
            self.validate_crd(res, new)
            new.setdefault("status", {})
            names = new["spec"]["names"]
            new["status"] = {
                "acceptedNames": {k: v for k, v in names.items()},
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found",
                     "lastTransitionTime": now_rfc3339()},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted", "lastTransitionTime": now_rfc3339()},
                ],
                "storedVersions": [v["name"] for v in new["spec"]["versions"] if v.get("storage")],
            }
        if res.plural == "namespaces":
            new.setdefault("status", {})["phase"] = "Active"
            new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        return new

    def admit_service(self, res: Resource, old: dict | None, new: dict) -> dict:
        spec = new.setdefault("spec", {})
        name = new["metadata"].get("name", "")
        errors = []
        stype = spec.setdefault("type", "ClusterIP")
        if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
            errors.append(("spec.type", f'Unsupported value: "{stype}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"', stype))
        ports = spec.get("ports") or []
        if not ports and stype != "ExternalName":
            errors.append(("spec.ports", "Required value", None))
        old_spec = (old or {}).get("spec") or {}
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
        needs_node_ports = stype in ("NodePort", "LoadBalancer")
        in_use = set()
        with self.s.lock:
            for (rid, _, _), o in self.s.objects.items():
                if rid == res.rid and o is not old:
                    for p in (o.get("spec") or {}).get("ports") or []:
                        if p.get("nodePort"):
                            in_use.add(p["nodePort"])
                    if (o.get("spec") or {}).get("healthCheckNodePort"):
                        in_use.add(o["spec"]["healthCheckNodePort"])
        for i, p in enumerate(ports):
            p.setdefault("protocol", "TCP")
            if not isinstance(p.get("port"), int) or not 1 <= p["port"] <= 65535:
                errors.append((f"spec.ports[{i}].port", "Required value" if "port" not in p else f"Invalid value: {p.get('port')}: must be between 1 and 65535, inclusive", p.get("port")))
                continue
            p.setdefault("targetPort", p["port"])
            if needs_node_ports:
                if not p.get("nodePort"):
                    prev = old_ports.get((p["port"], p["protocol"]), {}).get("nodePort")
                    p["nodePort"] = prev or self.allocate_node_port(in_use)
                elif p["nodePort"] in in_use:
                    errors.append((f"spec.ports[{i}].nodePort", f"Invalid value: {p['nodePort']}: provided port is already allocated", p["nodePort"]))
                in_use.add(p["nodePort"])
            else:
                p.pop("nodePort", None)
        if stype != "ExternalName":
            if not spec.get("clusterIP"):
                spec["clusterIP"] = old_spec.get("clusterIP") or str(next(self.s.service_ips))
            spec["clusterIPs"] = [spec["clusterIP"]]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("sessionAffinity", "None")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        if needs_node_ports:
            spec.setdefault("externalTrafficPolicy", "Cluster")
        else:
            spec.pop("externalTrafficPolicy", None)
        if stype == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
            if spec.get("externalTrafficPolicy") == "Local":
                if not spec.get("healthCheckNodePort"):
                    spec["healthCheckNodePort"] = old_spec.get("healthCheckNodePort") or self.allocate_node_port(in_use)
            else:
                spec.pop("healthCheckNodePort", None)
        else:
            spec.pop("healthCheckNodePort", None)
            spec.pop("allocateLoadBalancerNodePorts", None)
            if spec.get("loadBalancerClass") is not None:
                errors.append(("spec.loadBalancerClass", "Invalid value: may only be used when `type` is 'LoadBalancer'", None))
        if old and old_spec.get("type") == "LoadBalancer" and stype == "LoadBalancer" and \
                old_spec.get("loadBalancerClass") != spec.get("loadBalancerClass"):
            errors.append(("spec.loadBalancerClass", "Invalid value: may not change once set", None))
        if errors:
            raise invalid(res, name, errors)
        return new

    def allocate_node_port(self, in_use: set) -> int:
        for port in range(30000, 32768):
            if port not in in_use:
                in_use.add(port)
                return port
        raise ApiError(500, "InternalError", "range of valid nodePorts is full")

    def validate_crd(self, res: Resource, crd: dict) -> None:
        spec = crd.get("spec") or {}
        name = crd["metadata"].get("name", "")
        errors = []
        names = spec.get("names") or {}
        for req in ("group", "scope", "names", "versions"):
            if not spec.get(req):
                errors.append((f"spec.{req}", "Required value", None))
        if names and (not names.get("plural") or not names.get("kind")):
            errors.append(("spec.names", "Required value: plural and kind", None))
        if names.get("plural") and spec.get("group") and name != f"{names['plural']}.{spec['group']}":
            errors.append(("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group', name))
        for i, v in enumerate(spec.get("versions") or []):
            schema = ((v.get("schema") or {}).get("openAPIV3Schema"))
            if not schema:
                errors.append((f"spec.versions[{i}].schema.openAPIV3Schema", "Required value: schemas are required", None))
            elif schema.get("type") != "object":
                errors.append((f"spec.versions[{i}].schema.openAPIV3Schema.type", 'Required value: must be object at the root', None))
        if errors:
            raise invalid(res, name, errors)

    # -- hooks ------------------------------------------------------------------------------------

    def after_write(self, res: Resource, old: dict | None, new: dict) -> None:
        if res.plural == "customresourcedefinitions":
            self.register_crd(new)

    def after_delete(self, res: Resource, obj: dict) -> None:
        if res.plural == "customresourcedefinitions":
            spec = obj["spec"]
            for v in spec["versions"]:
                rid = (spec["group"], v["name"], spec["names"]["plural"])
                gone = self.s.resources.pop(rid, None)
                if gone:
                    for key in [k for k in self.s.objects if k[0] == rid]:
                        dead = self.s.objects.pop(key)
                        dead["metadata"]["resourceVersion"] = self.s.next_rv()
                        self.s.record(gone, "DELETED", dead)

    def register_crd(self, crd: dict) -> None:
        spec = crd["spec"]
        names = spec["names"]
        for v in spec["versions"]:
            if not v.get("served", True):
                continue
            self.s.resources[(spec["group"], v["name"], names["plural"])] = Resource(
                spec["group"], v["name"], names["plural"], names.get("singular", names["kind"].lower()), names["kind"],
                spec["scope"] == "Namespaced", "status" in (v.get("subresources") or {}),
                list(names.get("shortNames") or []), v["schema"]["openAPIV3Schema"],
                list(v.get("additionalPrinterColumns") or []), set(), True)


# ---------------------------------------------------------------------------------------------
# RBAC (only for token users when --rbac)
# ---------------------------------------------------------------------------------------------


def rbac_allows(store: Store, user: str, groups: list, verb: str, res: Resource, sub: str | None, ns: str | None, name: str | None) -> bool:
    resource = f"{res.plural}/{sub}" if sub else res.plural

    def rule_ok(rule: dict) -> bool:
        return ((res.group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", []))
                and (resource in rule.get("resources", []) or "*" in rule.get("resources", []))
                and (verb in rule.get("verbs", []) or "*" in rule.get("verbs", []))
                and (not rule.get("resourceNames") or (name is not None and name in rule["resourceNames"])))

    def subject_ok(subjects: list) -> bool:
        for s in subjects or []:
            if s.get("kind") == "User" and s.get("name") == user:
                return True
            if s.get("kind") == "Group" and s.get("name") in groups:
                return True
            if s.get("kind") == "ServiceAccount" and user == f"system:serviceaccount:{s.get('namespace')}:{s.get('name')}":
                return True
        return False

    def role_rules(ref: dict, binding_ns: str | None) -> list:
        kind, rname = ref.get("kind"), ref.get("name")
        rid = ("rbac.authorization.k8s.io", "v1", "clusterroles" if kind == "ClusterRole" else "roles")
        role = store.objects.get((rid, None if kind == "ClusterRole" else binding_ns, rname))
        return (role or {}).get("rules") or []

    with store.lock:
        for (rid, bns, _), b in store.objects.items():
            if rid == ("rbac.authorization.k8s.io", "v1", "clusterrolebindings") and subject_ok(b.get("subjects")):
                if any(rule_ok(r) for r in role_rules(b.get("roleRef") or {}, None)):
                    return True
            if rid == ("rbac.authorization.k8s.io", "v1", "rolebindings") and bns == ns and ns is not None and subject_ok(b.get("subjects")):
                if any(rule_ok(r) for r in role_rules(b.get("roleRef") or {}, bns)):
                    return True
    return False


# ---------------------------------------------------------------------------------------------
# Tables for kubectl get
# ---------------------------------------------------------------------------------------------


def age(ts: str | None) -> str:
    if not ts:
        return "<unknown>"
    then = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    secs = int((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())
    return f"{secs}s" if secs < 120 else f"{secs // 60}m" if secs < 7200 else f"{secs // 3600}h"


def columns_for(res: Resource) -> list[tuple[str, str, Any]]:
    """(name, type, fn(obj)) — built-in kinds get a few of kubectl's usual columns."""
    cols: list = [("Name", "string", lambda o: o["metadata"]["name"])]
    if res.plural == "services":
        def ports(o):
            return ",".join(f"{p['port']}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
                            for p in o["spec"].get("ports") or [])
        cols += [("Type", "string", lambda o: o["spec"].get("type")),
                 ("Cluster-IP", "string", lambda o: o["spec"].get("clusterIP")),
                 ("External-IP", "string", lambda o: ",".join(i.get("ip", "") for i in ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []) or "<pending>"),
                 ("Port(s)", "string", ports)]
    elif res.plural == "nodes":
        cols += [("Status", "string", lambda o: "Ready" if any(c.get("type") == "Ready" and c.get("status") == "True"
                                                                 for c in (o.get("status") or {}).get("conditions") or []) else "NotReady")]
    elif res.plural == "leases":
        cols += [("Holder", "string", lambda o: (o.get("spec") or {}).get("holderIdentity"))]
    for c in res.printer_columns:
        if c.get("name", "").lower() == "age":
            continue
        cols.append((c["name"], c.get("type", "string"), lambda o, p=c["jsonPath"]: ko.jsonpath_simple(o, p)))
    cols.append(("Age", "date", lambda o: age(o["metadata"].get("creationTimestamp"))))
    return cols


def table(res: Resource, objs: list[dict], rv: str) -> dict:
    cols = columns_for(res)
    rows = []
    for o in objs:
        cells = []
        for _, _, fn in cols:
            v = fn(o)
            cells.append("<none>" if v is None else v)
        partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
        rows.append({"cells": cells, "object": partial})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
            "columnDefinitions": [{"name": n, "type": t, "format": "name" if n == "Name" else "", "description": n, "priority": 0}
                                  for n, t, _ in cols],
            "rows": rows}


def openapi_v3(resources) -> dict:
    """A minimal OpenAPI v3 document per group-version: the PATCH operations with their GVK and
    the `fieldValidation` parameter, which is what kubectl looks for before it leaves validation
    to the server (schemas are not published: kubectl falls back to its built-in types)."""
    paths = {}
    for r in resources:
        base = "/api/v1" if not r.group else f"/apis/{r.group}/{r.version}"
        item = f"{base}/namespaces/{{namespace}}/{r.plural}/{{name}}" if r.namespaced else f"{base}/{r.plural}/{{name}}"
        params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}}]
        op = {"operationId": f"patch{r.kind}", "parameters": params, "responses": {"200": {"description": "OK"}},
              "x-kubernetes-action": "patch",
              "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind}}
        paths[item] = {"patch": op}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0-flexlb-test"}, "paths": paths}


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flexlb-test-apiserver"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    @property
    def api(self) -> Api:
        return self.server.api

    @property
    def store(self) -> Store:
        return self.server.store

    # -- plumbing ---------------------------------------------------------------------------------

    def send_json(self, code: int, body: Any, ctype: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(n) if n else b""

    def authenticate(self) -> tuple[str, list, bool]:
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            subject = dict(x[0] for x in cert.get("subject", ()))
            orgs = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "organizationName"]
            return subject.get("commonName", ""), orgs, True
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()
            entry = self.server.tokens.get(token)
            if entry:
                user, groups, superuser = entry
                return user, groups, superuser
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def wants_table(self) -> bool:
        return "as=Table" in (self.headers.get("Accept") or "")

    # -- dispatch -----------------------------------------------------------------------------------

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        try:
            body = self.read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
            if url.path in ("/healthz", "/readyz", "/livez"):
                data = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(data)
                return
            user, groups, superuser = self.authenticate()
            if url.path == "/_test/compact" and superuser:
                self.store.compact()
                return self.send_json(200, {"compactedTo": self.store.compacted})
            if url.path == "/_test/requests" and superuser:
                return self.send_json(200, dict(self.store.requests))
            token = self.headers.get("Authorization", "")[len("Bearer "):][:8] or "cert"
            self.store.requests[f"{user}|{token}|{method}|{url.path.split('/')[-1] if method == 'POST' else url.path}"] += 1
            if method == "GET" and self.discovery(url.path):
                return
            self.resource_request(method, url.path, query, body, user, groups, superuser)
        except ApiError as e:
            self.send_json(e.code, e.status())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    # -- discovery ------------------------------------------------------------------------------

    def discovery(self, path: str) -> bool:
        resources = list(self.store.resources.values())
        if path == "/version":
            self.send_json(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-flexlb-test", "gitCommit": "0",
                                 "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23",
                                 "compiler": "gc", "platform": "linux/amd64"})
            return True
        if path == "/api":
            self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                 "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.server.address}]})
            return True
        groups = collections.OrderedDict()
        for r in resources:
            if r.group:
                groups.setdefault(r.group, [])
                if r.version not in groups[r.group]:
                    groups[r.group].append(r.version)

        def group_doc(g, versions):
            vs = [{"groupVersion": f"{g}/{v}", "version": v} for v in versions]
            return {"name": g, "versions": vs, "preferredVersion": vs[0]}

        if path == "/apis":
            self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group_doc(g, v) for g, v in groups.items()]})
            return True
        m = re.fullmatch(r"/apis/([^/]+)", path)
        if m and m.group(1) in groups:
            self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1", **group_doc(m.group(1), groups[m.group(1)])})
            return True
        m = re.fullmatch(r"/api/(v1)|/apis/([^/]+)/([^/]+)", path)
        if m:
            group, version = ("", "v1") if m.group(1) else (m.group(2), m.group(3))
            listed = [r for r in resources if r.group == group and r.version == version]
            if not listed:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            out = []
            for r in listed:
                entry = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": VERBS}
                if r.short_names:
                    entry["shortNames"] = r.short_names
                if r.crd:
                    entry["categories"] = ["all"] if False else []
                out.append(entry)
                if r.has_status:
                    out.append({"name": f"{r.plural}/status", "singularName": "", "namespaced": r.namespaced, "kind": r.kind,
                                "verbs": ["get", "patch", "update"]})
            self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                 "groupVersion": f"{group}/{version}" if group else version, "resources": out})
            return True
        if path == "/openapi/v3":
            gvs = sorted({("api/v1" if not r.group else f"apis/{r.group}/{r.version}") for r in resources})
            self.send_json(200, {"paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={self.store.rv}"} for gv in gvs}})
            return True
        m = re.fullmatch(r"/openapi/v3/(api/v1|apis/([^/]+)/([^/]+))", path)
        if m:
            group, version = ("", "v1") if m.group(1) == "api/v1" else (m.group(2), m.group(3))
            self.send_json(200, openapi_v3(r for r in resources if r.group == group and r.version == version))
            return True
        if path.startswith("/openapi/"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource (the test server serves only /openapi/v3 paths)")
        return False

    # -- resources ---------------------------------------------------------------------------------

    def parse_resource_path(self, path: str):
        m = re.fullmatch(r"/api/v1/(.*)", path)
        if m:
            group, version, rest = "", "v1", m.group(1)
        else:
            m = re.fullmatch(r"/apis/([^/]+)/([^/]+)/(.*)", path)
            if not m:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            group, version, rest = m.groups()
        parts = [urllib.parse.unquote(p) for p in rest.split("/") if p]
        ns = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            candidate = self.store.find(group, version, parts[2])
            if candidate is not None and candidate.namespaced:
                ns, parts = parts[1], parts[2:]
        if not parts:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        res = self.store.find(group, version, parts[0])
        if res is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = parts[1] if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else None
        if sub is not None and (sub != "status" or not res.has_status or len(parts) > 3):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return res, ns, name, sub

    def resource_request(self, method, path, query, body, user, groups, superuser):
        res, ns, name, sub = self.parse_resource_path(path)
        watch = query.get("watch") in ("1", "true")
        strict = query.get("fieldValidation") == "Strict"
        verb = {"GET": "watch" if watch else ("get" if name else "list"), "POST": "create", "PUT": "update",
                "PATCH": "patch", "DELETE": "delete" if name else "deletecollection"}[method]
        if self.server.rbac and not superuser and not rbac_allows(self.store, user, groups, verb, res, sub, ns, name):
            scope = f' in the namespace "{ns}"' if ns else " at the cluster scope"
            raise ApiError(403, "Forbidden", f'{res.gr} is forbidden: User "{user}" cannot {verb} resource "{res.plural}" '
                           f'in API group "{res.group}"{scope}', {"kind": res.plural, "group": res.group, "name": name or ""})
        if method == "POST" and name:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if res.namespaced and method == "POST" and ns is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET" and watch:
            return self.watch(res, ns, name, query)
        if method == "GET" and name:
            obj = self.api.get(res, ns, name)
            return self.send_json(200, table(res, [obj], obj["metadata"]["resourceVersion"]) if self.wants_table() else obj)
        if method == "GET":
            items, rv = self.api.list(res, ns, query.get("labelSelector"), query.get("fieldSelector"))
            if self.wants_table():
                return self.send_json(200, table(res, items, rv))
            return self.send_json(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                                        "metadata": {"resourceVersion": rv}, "items": items})
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if method in ("POST", "PUT") and ctype != "application/json":
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format ({ctype}) - "
                           "accepted media types include: application/json (the test server speaks JSON only)")
        if method == "POST":
            obj = self.api.create(res, ns, self.decode(body), strict)
            return self.send_json(201, obj)
        if method == "PUT":
            return self.send_json(200, self.api.update(res, ns, name, self.decode(body), sub, strict))
        if method == "PATCH":
            return self.send_json(200, self.api.patch(res, ns, name, self.headers.get("Content-Type", ""), body, sub, strict))
        if method == "DELETE":
            options = self.decode(body) if body.strip() else {}
            if name is None:
                items, _ = self.api.list(res, ns, query.get("labelSelector"), query.get("fieldSelector"))
                for o in items:
                    self.api.delete(res, o["metadata"].get("namespace"), o["metadata"]["name"], {})
                return self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
            return self.send_json(200, self.api.delete(res, ns, name, options))

    @staticmethod
    def decode(body: bytes) -> Any:
        try:
            return json.loads(body or b"null")
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"the body of the request was in an unknown format: {e}")

    # -- watch -----------------------------------------------------------------------------------

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, res: Resource, ns: str | None, name: str | None, query: dict) -> None:
        try:
            lmatch = ko.parse_label_selector(query.get("labelSelector"))
            fsel = query.get("fieldSelector")
            if name:
                fsel = f"metadata.name={name}" + (f",{fsel}" if fsel else "")
            fmatch = ko.parse_field_selector(fsel, res.fields)
        except ko.SelectorError as e:
            raise ApiError(400, "BadRequest", str(e))
        as_table = self.wants_table()
        timeout = float(query.get("timeoutSeconds") or 1800)
        bookmarks = query.get("allowWatchBookmarks") in ("1", "true")
        rv_text = query.get("resourceVersion", "")
        deadline = time.monotonic() + timeout

        def matches(obj):
            return (ns is None or obj["metadata"].get("namespace") == ns) and lmatch(obj["metadata"].get("labels")) and fmatch(obj)

        def encode(kind, obj):
            if kind in ("ADDED", "MODIFIED", "DELETED") and as_table:
                obj = table(res, [obj], obj["metadata"]["resourceVersion"])
            return json.dumps({"type": kind, "object": obj}).encode() + b"\n"

        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        with self.store.lock:
            if rv_text in ("", "0"):
                items, rv = self.api.list(res, ns, query.get("labelSelector"), fsel)
                initial = [encode("ADDED", o) for o in items]
                last = int(rv)
            else:
                try:
                    last = int(rv_text)
                except ValueError:
                    last = -1
                initial = []
                if last < self.store.compacted or last > self.store.rv:
                    status = ApiError(410, "Expired", f"too old resource version: {rv_text} ({self.store.rv})").status()
                    initial = [json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"]
                    last = None
        try:
            for line in initial:
                self.write_chunk(line)
            if last is None:
                self.write_chunk(b"")
                return
            last_bookmark = time.monotonic()
            while True:
                with self.store.lock:
                    pending = [(rv, kind, obj) for rv, rid, kind, obj in self.store.events_after(last)
                               if rid == res.rid and matches(obj)]
                    if last < self.store.compacted:
                        status = ApiError(410, "Expired", f"too old resource version: {last} ({self.store.rv})").status()
                        pending, last = None, None
                    elif not pending:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        self.store.changed.wait(timeout=min(remaining, 1.0))
                        pending = [(rv, kind, obj) for rv, rid, kind, obj in self.store.events_after(last)
                                   if rid == res.rid and matches(obj)]
                    current = self.store.rv
                if pending is None:
                    self.write_chunk(json.dumps({"type": "ERROR", "object": status}).encode() + b"\n")
                    break
                for rv, kind, obj in pending:
                    self.write_chunk(encode(kind, obj))
                    last = rv
                if not pending:
                    last = max(last, current) if last is not None else last
                if bookmarks and time.monotonic() - last_bookmark > self.server.bookmark_interval:
                    last_bookmark = time.monotonic()
                    mark = {"kind": res.kind, "apiVersion": res.api_version, "metadata": {"resourceVersion": str(last)}}
                    self.write_chunk(json.dumps({"type": "BOOKMARK", "object": mark}).encode() + b"\n")
                if time.monotonic() >= deadline:
                    break
            self.write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", required=True, help="CA whose client certificates authenticate (as superusers)")
    ap.add_argument("--token-file", help="CSV lines: token,user[,groups separated by |][,superuser]")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--rbac", action="store_true", help="enforce RBAC for token users")
    ap.add_argument("--history", type=int, default=5000, help="watch history length (older versions get 410 Gone)")
    ap.add_argument("--bookmark-interval", type=float, default=5.0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    store = Store(args.history)
    api = Api(store)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        api.create(store.resources[("", "v1", "namespaces")], None, {"metadata": {"name": ns}})

    server = Server((args.host, args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    ctx.load_verify_locations(args.client_ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.api, server.store, server.rbac, server.verbose = api, store, args.rbac, args.verbose
    server.bookmark_interval = args.bookmark_interval
    server.tokens = {}
    if args.token_file:
        for line in open(args.token_file):
            parts = [p.strip() for p in line.strip().split(",")]
            if len(parts) >= 2 and parts[0]:
                groups = parts[2].split("|") if len(parts) > 2 and parts[2] else []
                server.tokens[parts[0]] = (parts[1], groups, len(parts) > 3 and parts[3] == "superuser")
    port = server.server_address[1]
    server.address = f"{args.host}:{port}"
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    sys.stderr.write(f"test apiserver listening on https://{args.host}:{port}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
