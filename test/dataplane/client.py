"""Traffic helper of the data-plane tests. It runs INSIDE the client namespace
(`ip netns exec PREFIX-cl python3 client.py ...`) and prints one JSON document on stdout.

  client.py http URL COUNT TIMEOUT           COUNT sequential GETs (Connection: close)
  client.py tcp HOST PORT COUNT TIMEOUT      COUNT connections, reads each until EOF
  client.py loop URL INTERVAL TIMEOUT STOPFILE
      one GET every INTERVAL seconds until STOPFILE exists; every attempt is recorded

Output: {"ok": [body, ...], "errors": [[monotonic_time, "error"], ...], "attempts": N}
A non-200 answer counts as an error. Only addresses given by the test are contacted.
"""
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse


def http_get(url, timeout):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.request("GET", u.path or "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace").strip()
        if resp.status != 200:
            raise RuntimeError(f"status {resp.status}: {body[:200]}")
        return body
    finally:
        conn.close()


def tcp_read(host, port, timeout):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        body = data.decode(errors="replace").strip()
        if not body:
            raise RuntimeError("empty answer")
        return body


def run(fn, count):
    ok, errors = [], []
    for _ in range(count):
        try:
            ok.append(fn())
        except Exception as e:  # noqa: BLE001 - every failure is data here
            errors.append([time.monotonic(), f"{type(e).__name__}: {e}"])
    return {"ok": ok, "errors": errors, "attempts": count}


def main(argv):
    mode = argv[1]
    if mode == "http":
        url, count, timeout = argv[2], int(argv[3]), float(argv[4])
        out = run(lambda: http_get(url, timeout), count)
    elif mode == "tcp":
        host, port, count, timeout = argv[2], int(argv[3]), int(argv[4]), float(argv[5])
        out = run(lambda: tcp_read(host, port, timeout), count)
    elif mode == "loop":
        url, interval, timeout, stopfile = argv[2], float(argv[3]), float(argv[4]), argv[5]
        ok, errors, attempts = [], [], 0
        first = last = None
        while not os.path.exists(stopfile):
            t0 = time.monotonic()
            attempts += 1
            try:
                ok.append(http_get(url, timeout))
                first = first if first is not None else t0
                last = t0
            except Exception as e:  # noqa: BLE001
                errors.append([t0, f"{type(e).__name__}: {e}"])
            rest = interval - (time.monotonic() - t0)
            if rest > 0:
                time.sleep(rest)
        out = {"ok": ok, "errors": errors, "attempts": attempts, "first_ok": first, "last_ok": last}
    else:
        raise SystemExit(f"unknown mode {mode}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
