"""The test Kubernetes API server, judged by the real kubectl: discovery, apply of the deploy/
manifests (CRDs served once applied, schema validation, defaults, pruning, printer columns), CRUD
with resourceVersions, 409s, watches with 410 Gone, selectors, status subresources, finalizers,
and token authentication with RBAC."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.request

import pytest
import yaml

from conftest import DEPLOY
from kubelab import poll

SERVICE = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "front"}},
    "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
}


def raw(kube, path: str, method: str = "GET", body: bytes | None = None, ctype: str = "application/json",
        token: str | None = None) -> tuple[int, dict]:
    ctx = ssl.create_default_context(cafile=str(kube.pki / "ca.crt"))
    if token is None:
        ctx.load_cert_chain(str(kube.pki / "client-kubernetes-admin.crt"), str(kube.pki / "client-kubernetes-admin.key"))
    req = urllib.request.Request(kube.server + path, data=body, method=method, headers={"Content-Type": ctype})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_discovery_and_version(kube):
    out = kube.kubectl("version", "-o", "json").stdout
    assert json.loads(out)["serverVersion"]["minor"] == "32"
    resources = kube.kubectl("api-resources", "--no-headers").stdout
    for name in ("services", "nodes", "endpointslices", "leases", "customresourcedefinitions"):
        assert name in resources


def test_apply_deploy_manifests_serves_crds(kube):
    kube.kubectl("apply", "-f", str(DEPLOY))
    kube.kubectl("apply", "-f", str(DEPLOY / "samples" / "flexlbcluster.yaml"))
    resources = kube.kubectl("api-resources", "--api-group=crd.flexlb.flexlet.io", "--no-headers").stdout
    assert "flexlbclusters" in resources and "flexlbinstances" in resources and "fli" in resources
    crd = kube.get("crd", "flexlbinstances.crd.flexlb.flexlet.io")
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]}["Established"] == "True"
    kube.kubectl("wait", "--for=condition=Established", "crd/flexlbclusters.crd.flexlb.flexlet.io", "--timeout=10s")
    cluster = kube.get("flexlbcluster", "default", "-n", "flexlb-system")
    assert cluster["spec"]["ippools"][0]["start"] == "192.168.10.200"
    assert cluster["metadata"]["generation"] == 1 and cluster["metadata"]["uid"]
    # Re-applying the same files changes nothing.
    again = kube.kubectl("apply", "-f", str(DEPLOY)).stdout
    assert "unchanged" in again and "configured" not in again, again
    deploy = kube.get("deployment", "flexlb-kube-controller", "-n", "flexlb-system")
    assert deploy["spec"]["replicas"] == 2
    assert kube.get("deployment", "flexlb-kube-controller", "-n", "flexlb-system")["metadata"]["resourceVersion"] == \
        deploy["metadata"]["resourceVersion"]


def test_crd_schema_validates_defaults_and_prunes(kube):
    bad = yaml.safe_load((DEPLOY / "samples" / "flexlbcluster.yaml").read_text())
    bad["metadata"]["name"] = "bad"
    bad["spec"]["ippools"][0]["net_prefix"] = "24"
    del bad["spec"]["ippools"][0]["backend_network"]
    r = kube.kubectl("apply", "-f", "-", input=yaml.safe_dump(bad), check=False)
    assert r.returncode != 0
    assert "is invalid" in r.stderr and "spec.ippools[0].net_prefix" in r.stderr and "must be of type integer" in r.stderr
    assert "spec.ippools[0].backend_network: Required value" in r.stderr

    inst = {"apiVersion": "crd.flexlb.flexlet.io/v1", "kind": "FlexLBInstance",
            "metadata": {"name": "manual", "namespace": "default"},
            "spec": {"bogus": 1, "config": {"name": "manual", "frontend_interface": "eth0", "frontend_ipaddress": "10.0.0.9",
                                            "endpoints": [{"frontend_port": 80, "backend_servers": [{"name": "a", "ipaddress": "10.0.1.1", "port": 80}]}]}}}
    r = kube.kubectl("apply", "-f", "-", input=json.dumps(inst), check=False)
    assert r.returncode != 0 and 'unknown field "spec.bogus"' in r.stderr, "kubectl asks for strict validation"
    kube.apply(inst, "--validate=false")
    got = kube.get("fli", "manual")
    assert got["spec"]["cluster"] == "default" and got["spec"]["ippool"] == "default"
    assert "bogus" not in got["spec"], "unknown fields are pruned"
    assert got["spec"]["config"]["endpoints"][0]["backend_servers"][0]["port"] == 80, "preserved fields stay"
    table = kube.kubectl("get", "fli", "manual").stdout
    assert table.split("\n")[0].split() == ["NAME", "VIP", "PHASE", "CLUSTER", "AGE"]
    assert "10.0.0.9" in table
    kube.kubectl("delete", "fli", "manual")


def test_service_crud_resource_versions_and_conflicts(kube):
    kube.apply(SERVICE)
    svc = kube.get("svc", "web")
    port = svc["spec"]["ports"][0]
    assert 30000 <= port["nodePort"] <= 32767, "the API server allocates NodePorts for LoadBalancer Services"
    assert svc["spec"]["clusterIP"].startswith("10.96.")
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"
    rv = svc["metadata"]["resourceVersion"]

    # kubectl apply computes a strategic merge patch; the allocated nodePort survives it.
    changed = json.loads(json.dumps(SERVICE))
    changed["spec"]["ports"].append({"name": "https", "port": 443})
    changed["spec"]["externalTrafficPolicy"] = "Local"
    out = kube.apply(changed).stdout
    assert "configured" in out
    svc2 = kube.get("svc", "web")
    assert [p["port"] for p in svc2["spec"]["ports"]] == [80, 443]
    assert svc2["spec"]["ports"][0]["nodePort"] == port["nodePort"]
    assert svc2["spec"]["healthCheckNodePort"] > 0
    assert int(svc2["metadata"]["resourceVersion"]) > int(rv)

    # A replace with a stale resourceVersion: 409 Conflict.
    stale = svc
    stale["metadata"]["labels"]["x"] = "y"
    r = kube.kubectl("replace", "-f", "-", input=json.dumps(stale), check=False)
    assert r.returncode != 0 and "the object has been modified" in r.stderr

    # merge and JSON patches
    kube.kubectl("patch", "svc", "web", "--type=merge", "-p", '{"metadata":{"annotations":{"a":"1"}}}')
    kube.kubectl("patch", "svc", "web", "--type=json", "-p", '[{"op":"add","path":"/metadata/labels/extra","value":"z"}]')
    svc3 = kube.get("svc", "web")
    assert svc3["metadata"]["annotations"]["a"] == "1" and svc3["metadata"]["labels"]["extra"] == "z"

    # 404 and 409 Status objects as the real server shapes them
    code, status = raw(kube, "/api/v1/namespaces/default/services/nope")
    assert code == 404 and status["kind"] == "Status" and status["reason"] == "NotFound"
    assert status["message"] == 'services "nope" not found' and status["details"] == {"name": "nope", "group": "", "kind": "services"}
    code, status = raw(kube, "/api/v1/namespaces/default/services", "POST", json.dumps(SERVICE).encode())
    assert code == 409 and status["reason"] == "AlreadyExists"


def test_status_subresource_is_separate(kube):
    kube.kubectl("patch", "svc", "web", "--subresource=status", "--type=merge",
                 "-p", '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"}]}}}')
    assert kube.get("svc", "web")["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.1"}]
    # Writes to the main resource ignore status.
    kube.kubectl("patch", "svc", "web", "--type=merge", "-p", '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.99"}]}}}')
    assert kube.get("svc", "web")["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.1"}]
    # And status writes ignore the rest.
    kube.kubectl("patch", "svc", "web", "--subresource=status", "--type=merge", "-p", '{"metadata":{"labels":{"s":"1"}}}')
    assert "s" not in kube.get("svc", "web")["metadata"]["labels"]


def test_selectors(kube):
    db = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "labels": {"app": "db"}},
          "spec": {"ports": [{"port": 5432}]}}
    kube.apply(db)
    names = lambda *a: kube.kubectl("get", "svc", "-o", "name", *a).stdout.split()  # noqa: E731
    assert names("-l", "app=web") == ["service/web"]
    assert names("-l", "app in (web,db)") == ["service/db", "service/web"]
    assert names("-l", "app!=web,app") == ["service/db"]
    assert names("--field-selector", "metadata.name=db") == ["service/db"]
    assert names("--field-selector", "spec.type=LoadBalancer") == ["service/web"]
    r = kube.kubectl("get", "svc", "--field-selector", "spec.bogus=1", check=False)
    assert r.returncode != 0 and "field label not supported" in r.stderr


def test_watch_with_kubectl_get_w(kube):
    proc = subprocess.Popen(kube.kubectl_argv("get", "svc", "-w", "-o", "json", "--output-watch-events", "-l", "app=watched"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        kube.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "watched", "labels": {"app": "watched"}},
                    "spec": {"ports": [{"port": 81}]}})
        kube.kubectl("label", "svc", "watched", "step=two")
        kube.kubectl("delete", "svc", "watched")
        events = []
        decoder = json.JSONDecoder()
        buf = ""
        deadline = time.monotonic() + 20
        while len(events) < 3 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            buf += line
            try:
                obj, end = decoder.raw_decode(buf.strip())
                events.append(obj)
                buf = buf.strip()[end:]
            except ValueError:
                continue
        assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"], events
        assert events[1]["object"]["metadata"]["labels"]["step"] == "two"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_watch_too_old_resource_version_is_410(kube):
    rv = raw(kube, "/api/v1/services")[1]["metadata"]["resourceVersion"]
    kube.kubectl("annotate", "svc", "web", "bump=1", "--overwrite")
    code, _ = raw(kube, "/_test/compact", "POST", b"{}")
    assert code == 200
    out = kube.kubectl("get", "--raw", f"/api/v1/services?watch=1&resourceVersion={rv}&timeoutSeconds=2").stdout
    event = json.loads(out.splitlines()[0])
    assert event["type"] == "ERROR" and event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    # A watch from the current version works and ends at timeoutSeconds, with a BOOKMARK.
    rv = raw(kube, "/api/v1/services")[1]["metadata"]["resourceVersion"]
    out = kube.kubectl("get", "--raw", f"/api/v1/services?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3").stdout
    assert any(json.loads(l)["type"] == "BOOKMARK" for l in out.splitlines())


def test_finalizers_hold_deletion(kube):
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
                "data": {"a": "b"}})
    kube.kubectl("delete", "cm", "held", "--wait=false")
    cm = kube.get("cm", "held")
    assert cm["metadata"]["deletionTimestamp"]
    r = kube.kubectl("patch", "cm", "held", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold","new"]}}', check=False)
    assert r.returncode != 0 and "no new finalizers" in r.stderr
    kube.kubectl("patch", "cm", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    poll("configmap gone", lambda: kube.kubectl("get", "cm", "held", check=False).returncode != 0, 10)


def test_generate_name_and_namespaces(kube):
    out = kube.kubectl("create", "-f", "-", "-o", "name", input=json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}, "data": {}})).stdout.strip()
    assert out.startswith("configmap/gen-") and len(out) > len("configmap/gen-")
    r = kube.kubectl("create", "-n", "does-not-exist", "-f", "-", check=False, input=json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}))
    assert r.returncode != 0 and 'namespaces "does-not-exist" not found' in r.stderr


def test_token_auth_and_rbac_least_privilege(kube):
    as_controller = lambda *a: kube.kubectl(*a, kubeconfig=kube.controller_kubeconfig, check=False)  # noqa: E731
    assert as_controller("get", "svc", "-A").returncode == 0
    assert as_controller("get", "flexlbclusters", "-n", "flexlb-system").returncode == 0
    denied = as_controller("get", "secrets", "-n", "flexlb-system")
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()
    assert as_controller("delete", "svc", "web").returncode != 0, "the controller may not delete Services"
    assert as_controller("get", "flexlbclusters", "-n", "default").returncode != 0, "clusters only in its namespace"
    code, status = raw(kube, "/api/v1/services", token="not-a-token")
    assert code == 401 and status["reason"] == "Unauthorized"
