"""flexlb-kube-controller end to end with real processes: the test Kubernetes API server, flexlbd
with real keepalived and HAProxy in network namespaces, "Kubernetes nodes" serving an app on a
NodePort, and the controller (authenticated by a service-account token, under the deploy/ RBAC).
The test plays kube-controller-manager and the kubelets: it writes Nodes and EndpointSlices.

The tests run in file order and share one lab (module fixture)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from e2e_lab import NODE_PORT, ControllerLab, dataplane
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from labs import attach_diagnostics, close_lab  # noqa: E402
from kubelab import compact, poll

_LAB: ControllerLab | None = None


@pytest.fixture(scope="module")
def lab(request):
    global _LAB
    dataplane.require_tools()
    lab = ControllerLab()
    failed_before = request.session.testsfailed
    try:
        lab.up()
        lab.start_backends()
        lab.init_certs()
        lab.start_flexlbd()
        lab.start_kube()
        lab.apply_world()
        lab.start_controller("c1")
        _LAB = lab
        yield lab
    finally:
        _LAB = None
        close_lab(lab, request, failed_before, "controller e2e")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    attach_diagnostics((yield), _LAB, "controller e2e logs")


def http_names(lab: ControllerLab, ip: str, count: int = 12) -> set[str]:
    result = lab.http(f"http://{ip}/", count)
    assert not result["errors"], result["errors"]
    return set(result["ok"])


def test_service_gets_an_ip_from_the_pool_and_traffic_reaches_the_app(lab):
    lab.kube.apply(lab.service("web"))
    ip = lab.wait_ip("web")
    assert ip == "10.99.1.100", "the first address of the pool"
    svc = lab.svc("web")
    assert svc["metadata"]["annotations"]["flexlb.flexlet.io/allocated-ip"] == ip
    assert svc["metadata"]["annotations"]["flexlb.flexlet.io/instance"] == "default.web"
    assert "flexlb.flexlet.io/finalizer" in svc["metadata"]["finalizers"]
    assert lab.condition("web")["status"] == "True"
    # The FlexLBInstance mirrors it, with 0.4's phase and node_status.
    inst = lab.kube.get("fli", "default.web")
    assert inst["status"]["phase"] == "ready" and inst["status"]["node_status"] == {"lb1": "up"}
    assert inst["metadata"]["annotations"]["flexlb.flexlet.io/service"] == "default/web"
    # Backends: every Ready node's address inside backend_network, on the NodePort.
    assert sorted(lab.backend_addrs("default.web")) == [f"10.99.2.{10 + i}:{NODE_PORT}" for i in (1, 2, 3)]
    assert http_names(lab, ip) == {"be1", "be2", "be3"}
    assert any(e["reason"] == "AddressAllocated" for e in lab.events("web"))


def test_node_and_endpoint_changes_change_the_backends(lab):
    # A node goes NotReady: it leaves the backends.
    lab.apply_node("be3", ready=False)
    poll("be3 removed", lambda: sorted(lab.backend_addrs("default.web")) == [f"10.99.2.11:{NODE_PORT}", f"10.99.2.12:{NODE_PORT}"], 30)
    lab.wait_up("default.web")
    poll("traffic only to be1 and be2", lambda: http_names(lab, "10.99.1.100") == {"be1", "be2"}, 30, 0.5)

    # externalTrafficPolicy: Local → only nodes with ready endpoints (from every slice), health-checked
    # on the healthCheckNodePort, which kube-proxy would serve: here a small server on each node.
    lab.kube.kubectl("patch", "svc", "web", "--type=merge", "-p", '{"spec":{"externalTrafficPolicy":"Local"}}')
    hcnp = lab.svc("web")["spec"]["healthCheckNodePort"]
    for n in ("be1", "be2"):
        lab.helpers.append(lab.popen(n, sys.executable, str(dataplane.BACKEND_PY), "healthz", str(hcnp), log=f"healthz-{n}.log"))
    lab.kube.apply(lab.endpoint_slice("web", {"be1": False}, "a"))
    lab.kube.apply(lab.endpoint_slice("web", {"be2": True}, "b"))
    poll("only be2 (ready endpoint in the second slice)", lambda: lab.backend_addrs("default.web") == [f"10.99.2.12:{NODE_PORT}"], 30)
    status, inst = lab.flexlb_instance("default.web")
    server = inst["config"]["endpoints"][0]["backend_servers"][0]
    assert server["options"] == f"check port {hcnp}"
    lab.wait_up("default.web")
    poll("traffic only to be2", lambda: http_names(lab, "10.99.1.100") == {"be2"}, 30, 0.5)

    lab.kube.apply(lab.endpoint_slice("web", {"be1": True}, "a"))
    poll("be1 back", lambda: sorted(lab.backend_addrs("default.web")) == [f"10.99.2.11:{NODE_PORT}", f"10.99.2.12:{NODE_PORT}"], 30)
    lab.apply_node("be3", ready=True)
    assert lab.ingress_ip("web") == "10.99.1.100", "backend changes never move the address"


def test_udp_ports_are_explained_and_tcp_still_served(lab):
    lab.kube.apply(lab.service("mixed", port=8080, node_port=None, extra_ports=[{"name": "dns", "protocol": "UDP", "port": 53}]))
    ip = lab.wait_ip("mixed")
    assert ip == "10.99.1.101"
    poll("UnsupportedProtocol event", lambda: any(e["reason"] == "UnsupportedProtocol" and "dns/UDP" in e["message"]
                                                  for e in lab.events("mixed")), 20)
    status, inst = lab.flexlb_instance("default.mixed")
    assert [e["frontend_port"] for e in inst["config"]["endpoints"]] == [8080]


def test_pool_exhaustion_is_explained_and_released_addresses_are_quarantined(lab):
    lab.kube.apply(lab.service("third", port=81, node_port=None))
    lab.kube.apply(lab.service("fourth", port=82, node_port=None))
    assert lab.wait_ip("third") == "10.99.1.102"
    assert lab.wait_ip("fourth") == "10.99.1.103", "the pool's end address is usable"
    lab.kube.apply(lab.service("fifth", port=83, node_port=None))
    cond = poll("exhausted condition", lambda: lab.condition("fifth").get("reason") == "AddressPoolExhausted" and lab.condition("fifth"), 30)
    assert "no free address" in cond["message"]
    assert any(e["reason"] == "AddressPoolExhausted" for e in lab.events("fifth"))
    assert lab.ingress_ip("fifth") is None

    released_at = time.monotonic()
    lab.kube.kubectl("delete", "svc", "fourth", "--wait=true", "--timeout=60s")
    assert lab.flexlb_instance("default.fourth")[0] == 404, "the FlexLB instance is deleted before the finalizer goes"
    assert lab.kube.kubectl("get", "fli", "default.fourth", check=False).returncode != 0
    ip = lab.wait_ip("fifth", 60)
    assert ip == "10.99.1.103"
    assert time.monotonic() - released_at >= 3, "released addresses wait the quarantine (3 s here)"


def test_restart_and_relist_keep_every_address(lab):
    before = {n: lab.ingress_ip(n) for n in ("web", "mixed", "third", "fifth")}
    assert lab.stop_controller("c1") == 0
    compact(lab.kube)  # and every old watch position is gone: the new process relists anyway
    lab.start_controller("c1")
    lab.kube.apply(lab.service("sixth", port=84, node_port=None))  # the pool is full: must not steal anyone's address
    poll("sixth explained", lambda: lab.condition("sixth").get("reason") == "AddressPoolExhausted", 30)
    compact(lab.kube)  # the running controller's watches get 410 Gone and relist
    time.sleep(6)  # more than a resync period (5 s)
    after = {n: lab.ingress_ip(n) for n in before}
    assert after == before
    for name, ip in before.items():
        assert lab.flexlb_instance(f"default.{name}")[1]["config"]["frontend_ipaddress"] == ip
    lab.kube.kubectl("delete", "svc", "sixth", "--wait=true", "--timeout=60s")


def test_two_replicas_one_acts(lab):
    lab.start_controller("c2", 1)
    time.sleep(3)
    lease = lab.kube.get("lease", "flexlb-kube-controller", "-n", "flexlb-system")
    assert lease["spec"]["holderIdentity"] == "c1"
    c2_token = lab.kube.controller_tokens[1]
    lab.kube.kubectl("annotate", "svc", "web", "touch=1", "--overwrite")
    time.sleep(2)
    assert lab.kube.writes_by_token(c2_token) == 0, "the follower writes nothing but its lease reads"

    # The leader dies without releasing: the follower takes over after the lease expires.
    lab.stop_controller("c1", signal.SIGKILL)
    poll("c2 leads", lambda: lab.kube.get("lease", "flexlb-kube-controller", "-n", "flexlb-system")["spec"]["holderIdentity"] == "c2", 30)
    lab.kube.kubectl("delete", "svc", "third", "--wait=true", "--timeout=60s")
    assert lab.kube.writes_by_token(c2_token) > 0
    assert lab.ingress_ip("web") == "10.99.1.100"


def test_flexlb_unreachable_retries_without_churn_and_recovers(lab):
    for n in ("be1", "be2", "be3"):  # the app behind the next Service's NodePort, as kube-proxy would route it
        lab.helpers.append(lab.popen(n, sys.executable, str(dataplane.BACKEND_PY), n, "30081", log=f"app30081-{n}.log"))
    os.kill(lab.flexlbd.pid, signal.SIGSTOP)
    try:
        lab.kube.apply(lab.service("late", port=85, node_port=30081))
        poll("address recorded while FlexLB is down",
             lambda: (lab.svc("late")["metadata"].get("annotations") or {}).get("flexlb.flexlet.io/allocated-ip"), 30)
        ip = lab.svc("late")["metadata"]["annotations"]["flexlb.flexlet.io/allocated-ip"]
        poll("unreachable explained", lambda: lab.condition("late").get("reason") == "FlexLBUnreachable", 40)
        assert lab.ingress_ip("late") is None, "no ingress before the instance serves"
        time.sleep(5)
        assert lab.svc("late")["metadata"]["annotations"]["flexlb.flexlet.io/allocated-ip"] == ip
        assert lab.ingress_ip("web") == "10.99.1.100"
    finally:
        os.kill(lab.flexlbd.pid, signal.SIGCONT)
    assert lab.wait_ip("late", 90) == ip
    assert http_names(lab, f"{ip}:85") == {"be1", "be2", "be3"}


def test_type_change_and_deletion_release_everything(lab):
    lab.kube.kubectl("patch", "svc", "mixed", "--type=merge", "-p", '{"spec":{"type":"ClusterIP"}}')
    poll("instance deleted on type change", lambda: lab.flexlb_instance("default.mixed")[0] == 404, 30)
    poll("marks removed", lambda: "flexlb.flexlet.io/allocated-ip" not in (lab.svc("mixed")["metadata"].get("annotations") or {})
         and not lab.svc("mixed")["metadata"].get("finalizers") and lab.ingress_ip("mixed") is None, 30)
    lab.kube.kubectl("delete", "svc", "web", "--wait=true", "--timeout=60s")
    assert lab.flexlb_instance("default.web")[0] == 404
    r = lab.run("cl", sys.executable, str(dataplane.CLIENT_PY), "http", "http://10.99.1.100/", "1", "1")
    assert '"ok": []' in r.stdout, "nothing answers on a released VIP"
