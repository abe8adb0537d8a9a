"""A tiny Kubernetes client for benchmarks, run inside the API server's namespace: reads JSON
commands on stdin, answers one JSON line each, with CLOCK_MONOTONIC times (shared by every
network namespace, so the driver can compare them with its own).

  {"op": "create", "path": P, "body": B}            -> {"t0": T, "t1": T, "status": S}
  {"op": "wait", "path": P, "jsonpath": [k, ...]}   -> {"t": T, "value": V}   (polls every 10 ms)
  {"op": "get", "path": P}                          -> {"status": S, "body": B}
  {"op": "delete", "path": P}                       -> {"status": S, "gone": bool}  (waits for finalizers)
"""
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

server, ca, cert, key = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)


def call(method, path, body=None):
    req = urllib.request.Request(server + path, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def dig(obj, keys):
    for k in keys:
        if isinstance(obj, dict):
            obj = obj.get(k)
        elif isinstance(obj, list) and isinstance(k, int) and k < len(obj):
            obj = obj[k]
        else:
            return None
    return obj


for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "create":
        t0 = time.monotonic()
        status, _ = call("POST", cmd["path"], cmd["body"])
        out = {"t0": t0, "t1": time.monotonic(), "status": status}
    elif cmd["op"] == "wait":
        deadline = time.monotonic() + cmd.get("timeout", 120)
        value = None
        while time.monotonic() < deadline:
            status, body = call("GET", cmd["path"])
            value = dig(body, cmd["jsonpath"]) if status == 200 else None
            if value:
                break
            time.sleep(0.01)
        out = {"t": time.monotonic(), "value": value}
    elif cmd["op"] == "delete":
        status, _ = call("DELETE", cmd["path"], {})
        deadline = time.monotonic() + cmd.get("timeout", 120)
        while time.monotonic() < deadline and call("GET", cmd["path"])[0] != 404:
            time.sleep(0.05)
        out = {"status": status, "gone": call("GET", cmd["path"])[0] == 404}
    else:
        status, body = call("GET", cmd["path"])
        out = {"status": status, "body": body}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
