"""Benchmarks of flexlb-kube-controller (docs/benchmarks.md, "Kubernetes controller").

  python bench_kube.py latency [N]    Service created -> IP in status -> first request through the VIP,
                                      N Services one after another (real data plane in namespaces)
  python bench_kube.py scale [N]      N Services at once: time until all have an address and a FlexLB
                                      instance (flexlbd with the data plane off, on loopback), controller
                                      RSS, and API calls per Service change

Prints JSON results. Needs root (namespaces) for `latency`.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from e2e_lab import ControllerLab, controller_path, dataplane, e2e  # noqa: E402
from kubelab import KubeAPI, poll  # noqa: E402


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def helper(lab_or_kube, netns_argv):
    kube = lab_or_kube
    argv = [*netns_argv, sys.executable, str(HERE / "kubeclient_helper.py"), kube.server, str(kube.pki / "ca.crt"),
            str(kube.pki / "client-kubernetes-admin.crt"), str(kube.pki / "client-kubernetes-admin.key")]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def ask(proc, cmd):
    proc.stdin.write(json.dumps(cmd) + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def service(name, port, node_port=30080):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": port, "nodePort": node_port}]}}


def latency(n: int) -> dict:
    lab = ControllerLab()
    try:
        lab.up()
        lab.start_backends()
        lab.init_certs()
        lab.start_flexlbd()
        lab.start_kube()
        lab.apply_world()
        lab.kube.kubectl("patch", "flexlbcluster", "default", "-n", "flexlb-system", "--type=json", "-p",
                         '[{"op":"replace","path":"/spec/ippools/0/end","value":"10.99.1.199"}]')
        lab.start_controller("c1")
        h = helper(lab.kube, lab.exec_argv("lb1"))
        to_ip, to_request = [], []
        for i in range(n):
            created = ask(h, {"op": "create", "path": "/api/v1/namespaces/default/services", "body": service(f"s{i}", 80, 30080)})
            assert created["status"] == 201, created
            got = ask(h, {"op": "wait", "path": f"/api/v1/namespaces/default/services/s{i}",
                          "jsonpath": ["status", "loadBalancer", "ingress", 0, "ip"]})
            assert got["value"], got
            # A client learns the VIP from the status, then connects.
            prober = subprocess.run(lab.exec_argv("cl", sys.executable, str(HERE / "probe_first_request.py"),
                                                  f"http://{got['value']}:80/", "60"), capture_output=True, text=True)
            assert prober.returncode == 0, "no request went through"
            to_ip.append(got["t"] - created["t0"])
            to_request.append(float(prober.stdout.strip()) - created["t0"])
            # Free NodePort 30080 (the nodes' app) for the next Service.
            assert ask(h, {"op": "delete", "path": f"/api/v1/namespaces/default/services/s{i}"})["gone"]
        h.stdin.close()
        return {"n": n, "to_ip_s": {"p50": pct(to_ip, 50), "p99": pct(to_ip, 99), "max": max(to_ip)},
                "to_first_request_s": {"p50": pct(to_request, 50), "p99": pct(to_request, 99), "max": max(to_request)}}
    finally:
        lab.down()
        shutil.rmtree(lab.root, ignore_errors=True)


def scale(n: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="flexlb-kube-bench-"))
    procs = []
    try:
        certs = root / "certs"
        assert e2e.certs_init(certs).returncode == 0
        port = e2e.free_port()
        cfg = {"name": "bench", "tls_host": "127.0.0.1", "tls_port": port, "tls_cert": str(certs / "server.crt"),
               "tls_key": str(certs / "server.key"), "tls_ca_cert": str(certs / "ca.crt"), "data_dir": str(root / "data"),
               "log_level": "warning", "data_plane": {"enabled": False}}
        import yaml
        (root / "flexlbd.yaml").write_text(yaml.safe_dump(cfg))
        log = open(root / "flexlbd.log", "ab")
        procs.append(subprocess.Popen([str(e2e.flexlbd_path()), "--config", str(root / "flexlbd.yaml")], stdout=log, stderr=log))
        kube = KubeAPI(root / "kube", history=50000)
        kube.start()
        kube.kubectl("apply", "-f", str(HERE.parent.parent / "deploy" / "kubernetes"))
        kube.apply({"apiVersion": "crd.flexlb.flexlet.io/v1", "kind": "FlexLBCluster",
                    "metadata": {"name": "default", "namespace": "flexlb-system"},
                    "spec": {"endpoint": f"https://127.0.0.1:{port}",
                             "ippools": [{"name": "default", "interface": "eth0", "net_prefix": 16, "start": "10.200.0.1",
                                          "end": "10.200.15.254", "backend_network": "10.99.2.0/24"}]}})
        kube.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}})
        kube.kubectl("patch", "node", "node-1", "--subresource=status", "--type=merge", "-p",
                     '{"status":{"addresses":[{"type":"InternalIP","address":"10.99.2.11"}],"conditions":[{"type":"Ready","status":"True"}]}}')
        clog = open(root / "controller.log", "ab")
        controller = subprocess.Popen([str(controller_path()), "--kubeconfig", str(kube.controller_kubeconfig), "--identity", "bench",
                                       "--tls-ca-cert", str(certs / "ca.crt"), "--tls-client-cert", str(certs / "client.crt"),
                                       "--tls-client-key", str(certs / "client.key"), "--log-level", "warning"],
                                      stdout=clog, stderr=clog)
        procs.append(controller)
        time.sleep(3)
        rss_idle = rss_kb(controller.pid)
        h = helper(kube, [])
        t0 = time.monotonic()
        for i in range(n):
            r = ask(h, {"op": "create", "path": "/api/v1/namespaces/default/services", "body": service(f"s{i}", 80, None)})
            assert r["status"] == 201, r
        t_created = time.monotonic() - t0

        def allocated():
            items = json.loads(kube.kubectl("get", "--raw", "/api/v1/namespaces/default/services").stdout)["items"]
            return sum(1 for s in items if "flexlb.flexlet.io/allocated-ip" in (s["metadata"].get("annotations") or {}))

        poll("all allocated", lambda: allocated() == n, 1800, 0.5)
        t_allocated = time.monotonic() - t0

        def instances():
            r = subprocess.run(["curl", "-sS", "--cacert", str(certs / "ca.crt"), "--cert", str(certs / "client.crt"),
                                "--key", str(certs / "client.key"), f"https://127.0.0.1:{port}/flexlb/v1/instances"],
                               capture_output=True, text=True)
            return len(json.loads(r.stdout)) if r.returncode == 0 else 0

        poll("all FlexLB instances", lambda: instances() == n, 1800, 1.0)
        t_instances = time.monotonic() - t0
        ips = [json.loads(kube.kubectl("get", "--raw", f"/api/v1/namespaces/default/services/s{i}").stdout)["metadata"]["annotations"]["flexlb.flexlet.io/allocated-ip"] for i in (0, n - 1)]
        time.sleep(5)
        rss_loaded = rss_kb(controller.pid)
        # One Service change (a port edit) after everything settled: the controller's API calls until quiet.
        before = sum(v for k, v in kube.request_counts().items() if k.split("|")[1] == kube.controller_token[:8])
        kube.kubectl("patch", "svc", "s0", "--type=json", "-p", '[{"op":"replace","path":"/spec/ports/0/port","value":81}]')
        time.sleep(3)
        after = sum(v for k, v in kube.request_counts().items() if k.split("|")[1] == kube.controller_token[:8])
        # Subtract the background (lease renewals, the one polling FlexLB-backed instance) over a quiet 3 s.
        time.sleep(0.1)
        base0 = sum(v for k, v in kube.request_counts().items() if k.split("|")[1] == kube.controller_token[:8])
        time.sleep(3)
        base1 = sum(v for k, v in kube.request_counts().items() if k.split("|")[1] == kube.controller_token[:8])
        return {"n": n, "create_all_s": t_created, "all_allocated_s": t_allocated, "all_flexlb_instances_s": t_instances,
                "first_last_ip": ips, "controller_rss_kb": {"idle": rss_idle, "loaded": rss_loaded},
                "kube_calls_per_change": (after - before) - (base1 - base0)}
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
        try:
            kube.stop()
        except Exception:
            pass
        shutil.rmtree(root, ignore_errors=True)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    mode = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else (20 if mode == "latency" else 1000)
    print(json.dumps(latency(count) if mode == "latency" else scale(count), indent=2))
