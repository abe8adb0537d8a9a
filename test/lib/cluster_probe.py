"""Measurement helper of the cluster benchmark. Runs INSIDE the client namespace
(`ip netns exec PREFIX-cl python3 cluster_probe.py MODE ...`) and prints one JSON document.

  cluster_probe.py visibility CERTDIR N NODE...   N creates, round robin over the nodes; after each,
                                                  polls the other nodes every 2 ms until they serve the
                                                  new version; reports latencies (seconds)
  cluster_probe.py load CERTDIR RATE SECONDS NODE...  RATE writes/s (create, then delete) for SECONDS
Only the node addresses given on the command line are contacted.
"""
import http.client
import json
import ssl
import sys
import time


def context(certdir):
    ctx = ssl.create_default_context(cafile=f"{certdir}/ca.crt")
    ctx.load_cert_chain(f"{certdir}/client.crt", f"{certdir}/client.key")
    return ctx


class Node:
    def __init__(self, host, ctx):
        self.host, self.ctx = host, ctx
        self.conn = None

    def request(self, method, path, body=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, 9443, context=self.ctx, timeout=10)
            try:
                headers = {"Content-Type": "application/json"} if body is not None else {}
                self.conn.request(method, "/flexlb/v1" + path, body=json.dumps(body) if body is not None else None,
                                  headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, (json.loads(data) if data else None)
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


def body(name, i):
    return {"name": name, "frontend_interface": "eth0", "frontend_ipaddress": f"10.66.{i // 250}.{1 + i % 250}",
            "frontend_net_prefix": 24,
            "endpoints": [{"frontend_port": 8080, "mode": "tcp", "balance": "roundrobin",
                           "backend_servers": [{"name": "s1", "ipaddress": "10.99.2.11", "port": 30080}]}]}


def visibility(certdir, n, hosts):
    ctx = context(certdir)
    nodes = [Node(h, ctx) for h in hosts]
    latencies = []
    for i in range(n):
        writer = nodes[i % len(nodes)]
        name = f"vis{i:04d}"
        status, inst = writer.request("POST", "/instances", body(name, i))
        assert status == 200, (status, inst)
        t0 = time.monotonic()
        pending = [x for x in nodes if x is not writer]
        while pending:
            still = []
            for node in pending:
                s, got = node.request("GET", f"/instances/{name}")
                if not (s == 200 and got["version"] == inst["version"]):
                    still.append(node)
            pending = still
            if pending:
                time.sleep(0.002)
            if time.monotonic() - t0 > 10:
                raise SystemExit(f"{name} not visible everywhere after 10 s")
        latencies.append(time.monotonic() - t0)
    for i in range(n):
        nodes[0].request("DELETE", f"/instances/vis{i:04d}")
    return {"latencies": latencies}


def load(certdir, rate, seconds, hosts, workers=6):
    """RATE writes/s in total from WORKERS threads, each a create then, on the same node, a delete."""
    import threading
    ctx = context(certdir)
    interval = workers / rate
    start = time.monotonic()
    counts = {"writes": 0, "errors": 0}
    lock = threading.Lock()

    def worker(w):
        nodes = [Node(h, ctx) for h in hosts]
        i = 0
        while time.monotonic() - start < seconds:
            t0 = time.monotonic()
            node = nodes[(w + i // 2) % len(nodes)]
            name = f"load{w}-{i // 2:05d}"
            if i % 2 == 0:
                status, _ = node.request("POST", "/instances", body(name, w * 1000 + (i // 2) % 1000))
            else:
                status, _ = node.request("DELETE", f"/instances/{name}")
            with lock:
                counts["writes"] += 1
                counts["errors"] += status != 200
            i += 1
            rest = interval - (time.monotonic() - t0)
            if rest > 0:
                time.sleep(rest)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {**counts, "seconds": time.monotonic() - start}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "visibility":
        out = visibility(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif mode == "load":
        out = load(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5:])
    else:
        raise SystemExit(f"unknown mode {mode}")
    json.dump(out, sys.stdout)
