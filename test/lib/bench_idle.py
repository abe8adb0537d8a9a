#!/usr/bin/env python3
"""Issue 9 measurements: a legitimate GET's latency while N idle (attacker) connections are held, with
flexlbd's descriptors and RSS; and `haproxy -c` checks per second under the new limits.

    bench_idle.py FLEXLBD FLEXLB_CLI [--holds 0,1000,20000] [--requests 200] [--check-seconds 15]

Starts flexlbd on a free 127.0.0.1 port (data plane off, haproxy.check on, certificates from
`flexlb certs init` in a scratch dir), prints a Markdown table, stops everything it started.
The idle connections are held by child processes (5000 each) that reopen a connection as soon as the
server closes it, so the pressure is sustained, not a one-off burst.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def holder(port: int, count: int, stop_path: str) -> None:
    """Child process: hold `count` idle TCP connections, reopening closed ones until stop_path exists."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks: dict[int, socket.socket] = {}

    def open_one() -> None:
        try:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks[s.fileno()] = s
        except OSError:
            time.sleep(0.01)

    for _ in range(count):
        open_one()
    poller = select.epoll()
    for fd in socks:
        poller.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
    while not os.path.exists(stop_path):
        for fd, _ in poller.poll(0.2):
            s = socks.pop(fd, None)
            if s is None:
                continue
            poller.unregister(fd)
            s.close()
            before = set(socks)
            open_one()
            for new in set(socks) - before:
                poller.register(new, select.EPOLLIN | select.EPOLLRDHUP)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("flexlbd")
    ap.add_argument("cli")
    ap.add_argument("--holds", default="0,1000,20000")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--check-seconds", type=float, default=15)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flexlb-bench-idle-"))
    procs: list[subprocess.Popen] = []
    try:
        certs = work / "certs"
        subprocess.run([args.cli, "certs", "init", "--dir", str(certs), "--ip", "127.0.0.1", "--dns", "localhost"], check=True, capture_output=True)
        port = free_port()
        cfg = work / "config.yaml"
        cfg.write_text(json.dumps({
            "name": "bench", "tls_host": "127.0.0.1", "tls_port": port,
            "tls_cert": str(certs / "server.crt"), "tls_key": str(certs / "server.key"),
            "tls_ca_cert": str(certs / "ca.crt"), "data_dir": str(work / "data"), "log_level": "warning",
            "data_plane": {"enabled": False},
            "address_policy": {"allow_loopback_vips": True, "allow_loopback_backends": True},
        }))
        server = subprocess.Popen([args.flexlbd, "--config", str(cfg)], stdout=subprocess.DEVNULL,
                                  stderr=open(work / "flexlbd.log", "wb"))
        procs.append(server)
        ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        ctx.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
        base = f"/flexlb/v1"

        def request(method: str, path: str, body: bytes | None = None, timeout: float = 10) -> int:
            import http.client
            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
            try:
                c.request(method, base + path, body=body, headers={"Content-Type": "application/json"} if body else {})
                r = c.getresponse()
                r.read()
                return r.status
            finally:
                c.close()

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if request("GET", "/livez", timeout=2) == 200:
                    break
            except OSError:
                time.sleep(0.2)
        body = json.loads((Path(__file__).resolve().parents[2] / "examples" / "instance_template.json").read_text())
        body["frontend_interface"] = "lo"
        body["frontend_ipaddress"] = "127.168.99.1"
        assert request("POST", "/instances", json.dumps(body).encode()) == 200

        def fd_rss() -> tuple[int, int]:
            fds = len(os.listdir(f"/proc/{server.pid}/fd"))
            rss = 0
            for line in open(f"/proc/{server.pid}/status"):
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) // 1024
            return fds, rss

        print("| idle connections held | get p50 | get p99 | get max | failed gets | flexlbd fds | flexlbd RSS |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for hold in [int(x) for x in args.holds.split(",")]:
            stop = work / f"stop-{hold}"
            holders = []
            per = 5000
            for i in range(0, hold, per):
                n = min(per, hold - i)
                holders.append(subprocess.Popen([sys.executable, __file__, "--holder", str(port), str(n), str(stop)]))
            procs.extend(holders)
            time.sleep(5 if hold else 0.5)
            lat, failed = [], 0
            for _ in range(args.requests):
                t = time.perf_counter()
                try:
                    ok = request("GET", "/instances/demo", timeout=10) == 200
                except OSError:
                    ok = False
                if ok:
                    lat.append((time.perf_counter() - t) * 1000)
                else:
                    failed += 1
            fds, rss = fd_rss()
            stop.touch()
            for h in holders:
                h.wait(timeout=60)
            lat.sort()
            pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
            print(f"| {hold} | {pct(0.5):.1f} ms | {pct(0.99):.1f} ms | {lat[-1] if lat else float('nan'):.1f} ms | {failed} | {fds} | {rss} MiB |")

        # haproxy -c throughput: modifies (each one renders and runs `haproxy -c` as nobody) from 4 clients.
        done, errors = [0], [0]
        lock = threading.Lock()
        end = time.time() + args.check_seconds

        def modifier(k: int) -> None:
            b = json.loads(json.dumps(body))
            n = 0
            while time.time() < end:
                b["endpoints"][0]["backend_servers"][0]["port"] = 30000 + (n % 1000)
                n += 1
                try:
                    status = request("PUT", "/instances", json.dumps(b).encode(), timeout=30)
                except OSError:
                    status = 0
                with lock:
                    if status == 200:
                        done[0] += 1
                    else:
                        errors[0] += 1

        threads = [threading.Thread(target=modifier, args=(k,)) for k in range(4)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - t0
        print()
        print(f"haproxy -c: {done[0] / elapsed:.1f} checked modifies/s over {elapsed:.0f} s from 4 clients "
              f"({done[0]} ok, {errors[0]} failed)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--holder":
        holder(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        sys.exit(0)
    sys.exit(main())
