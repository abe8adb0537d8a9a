"""The end-to-end lab of the controller: the data-plane Lab (network namespaces, real flexlbd with
keepalived and HAProxy in PREFIX-lb1, backends be1..be3 that play the Kubernetes nodes and serve
an app on NodePort 30080), the test Kubernetes API server in PREFIX-lb1, and controller processes
started and stopped by pid."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from kubelab import KubeAPI, poll  # noqa: E402

_spec = importlib.util.spec_from_file_location("flexlb_dataplane_conftest", REPO_ROOT / "test" / "dataplane" / "conftest.py")
dataplane = importlib.util.module_from_spec(_spec)
sys.path.insert(0, str(REPO_ROOT / "test" / "dataplane"))
_spec.loader.exec_module(dataplane)
e2e = dataplane.e2e

NODE_PORT = dataplane.HTTP_PORT  # the app on every "Kubernetes node"
POOL_START, POOL_END = "10.99.1.100", "10.99.1.103"


def controller_path() -> Path:
    return e2e.require_binary(Path(os.environ.get("FLEXLB_KUBE_CONTROLLER") or e2e._bin_dir() / "flexlb-kube-controller"))


class ControllerLab(dataplane.Lab):
    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"fxk8s{secrets.token_hex(3)}"
        self.kube: KubeAPI | None = None
        self.controllers: dict[str, subprocess.Popen] = {}
        self.controller_logs: dict[str, Path] = {}

    def start_kube(self) -> None:
        self.kube = KubeAPI(self.root / "kube", netns=self.ns("lb1"), bookmark_interval=2.0)
        self.kube.start()

    # -- the controller ---------------------------------------------------------------------------------

    def start_controller(self, identity: str, replica: int = 0, *extra: str) -> subprocess.Popen:
        assert identity not in self.controllers or self.controllers[identity].poll() is not None
        log = self.logs / f"controller-{identity}.{int(time.time() * 1000)}.log"
        self.controller_logs[identity] = log
        argv = [str(controller_path()), "--kubeconfig", str(self.kube.controller_kubeconfigs[replica]),
                "--identity", identity, "--lease-duration", "4", "--renew-deadline", "3", "--retry-period", "1",
                "--refresh-interval", "5", "--quarantine", "3", "--workers", "4", "--flexlb-timeout", "2",
                "--tls-ca-cert", str(self.certs / "ca.crt"), "--tls-client-cert", str(self.certs / "client.crt"),
                "--tls-client-key", str(self.certs / "client.key"), *extra]
        out = open(log, "ab")
        try:
            proc = subprocess.Popen(self.exec_argv("lb1", *argv), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        finally:
            out.close()
        self.controllers[identity] = proc
        return proc

    def stop_controller(self, identity: str, sig: int = signal.SIGTERM) -> int | None:
        proc = self.controllers[identity]
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        return proc.returncode

    # -- Kubernetes objects the test writes (it plays kube-controller-manager and the kubelets) ----------------

    def apply_world(self) -> None:
        k = self.kube
        k.kubectl("apply", "-f", str(REPO_ROOT / "deploy" / "kubernetes"))
        k.apply({"apiVersion": "crd.flexlb.flexlet.io/v1", "kind": "FlexLBCluster",
                 "metadata": {"name": "default", "namespace": "flexlb-system"},
                 # A dead endpoint first: the controller fails over to the live one.
                 "spec": {"endpoint": "https://127.0.0.1:1", "endpoints": [f"https://127.0.0.1:{self.port}"],
                          "ippools": [{"name": "default", "interface": "eth0", "net_prefix": 24, "start": POOL_START,
                                       "end": POOL_END, "backend_network": "10.99.2.0/24"}]}})
        for i in (1, 2, 3):
            self.apply_node(f"be{i}")

    def apply_node(self, name: str, ready: bool = True) -> None:
        i = int(name[2:])
        self.kube.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{name}"},
                         "status": {"addresses": [{"type": "ExternalIP", "address": f"192.0.2.{i}"},
                                                  {"type": "InternalIP", "address": f"10.99.2.{10 + i}"},
                                                  {"type": "Hostname", "address": f"node-{name}"}],
                                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}})
        # Node status is a subresource: set it there, as the kubelet does.
        self.kube.kubectl("patch", "node", f"node-{name}", "--subresource=status", "--type=merge", "-p", json.dumps(
            {"status": {"addresses": [{"type": "ExternalIP", "address": f"192.0.2.{i}"},
                                      {"type": "InternalIP", "address": f"10.99.2.{10 + i}"}],
                        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}))

    def service(self, name: str, port: int = 80, node_port: int | None = NODE_PORT, local: bool = False,
                extra_ports: list | None = None, annotations: dict | None = None) -> dict:
        p = {"name": "http", "protocol": "TCP", "port": port}
        if node_port:
            p["nodePort"] = node_port
        spec = {"type": "LoadBalancer", "selector": {"app": name}, "ports": [p] + (extra_ports or [])}
        if local:
            spec["externalTrafficPolicy"] = "Local"
        meta = {"name": name, "namespace": "default"}
        if annotations:
            meta["annotations"] = annotations
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}

    def endpoint_slice(self, service: str, ready_nodes: dict[str, bool], suffix: str = "a") -> dict:
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": f"{service}-{suffix}", "namespace": "default",
                             "labels": {"kubernetes.io/service-name": service}},
                "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                "endpoints": [{"addresses": [f"10.244.{i}.5"], "nodeName": f"node-{n}", "conditions": {"ready": r}}
                              for i, (n, r) in enumerate(sorted(ready_nodes.items()), start=1)]}

    def svc(self, name: str) -> dict:
        return self.kube.get("svc", name)

    def ingress_ip(self, name: str) -> str | None:
        ing = ((self.svc(name).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        return ing[0].get("ip") if ing else None

    def condition(self, name: str) -> dict:
        for c in (self.svc(name).get("status") or {}).get("conditions") or []:
            if c["type"] == "flexlb.flexlet.io/Ready":
                return c
        return {}

    def events(self, name: str) -> list[dict]:
        return self.kube.get("events", "--field-selector", f"involvedObject.name={name}")["items"]

    def wait_ip(self, name: str, timeout: float = 60) -> str:
        return poll(f"ingress IP of {name}", lambda: self.ingress_ip(name), timeout, 0.2)

    def flexlb_instance(self, name: str) -> tuple[int, dict]:
        return self.api("GET", f"/instances/{name}")

    def backend_addrs(self, instance: str) -> list[str]:
        status, inst = self.flexlb_instance(instance)
        assert status == 200, inst
        return [f"{s['ipaddress']}:{s['port']}" for s in inst["config"]["endpoints"][0]["backend_servers"]]

    def diagnostics(self) -> str:
        out = [super().diagnostics()]
        for p in sorted(self.logs.glob("controller-*.log")):
            out.append(f"---- {p.name} (tail) ----\n{p.read_text(errors='replace')[-6000:]}")
        if self.kube:
            log = self.kube.root / "apiserver.log"
            if log.exists():
                out.append(f"---- apiserver.log (tail) ----\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(out)

    def down(self) -> None:
        for proc in self.controllers.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        if self.kube:
            self.kube.stop()
        super().down()
