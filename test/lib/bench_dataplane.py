"""Driver of test/bench-dataplane.sh (not run by hand).

Modes:
  probe                       runs in the client namespace: reads "wait IP PORT TIMEOUT" lines on stdin,
                              opens a new TCP connection to IP:PORT every 5 ms (each with a 0.2 s budget)
                              and prints "ok WALLTIME" at the first HTTP 200 (or "timeout").
  dataplane OUT.json          runs in the LB namespace against a flexlbd with the data plane on:
                              steps 1-4 of the data-plane benchmark.
  storeonly OUT.json N        runs against a flexlbd with data_plane.enabled: false: N creates, RSS.
Environment: API_PORT, CERTS, DATA_DIR, NODE, PREFIX, CLIENT_NS, PIDFILE (flexlbd pid), WORK.
"""
import ctypes
import json
import os
import re
import selectors
import signal
import socket
import ssl
import http.client
import statistics
import subprocess
import sys
import threading
import time
import queue


# ---------------------------------------------------------------- probe (client namespace)

def probe_main():
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        ip, port, budget = parts[1], int(parts[2]), float(parts[3])
        print("started", flush=True)
        print(first_ok(ip, port, budget), flush=True)


def first_ok(ip, port, budget):
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + budget
    next_start = 0.0
    inflight = {}  # sock -> (deadline, stage, buffer)
    request = b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n"
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= next_start and len(inflight) < 64:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.connect((ip, port))
                except BlockingIOError:
                    pass
                except OSError:
                    s.close()
                    s = None
                if s is not None:
                    inflight[s] = [now + 0.2, "connect", b""]
                    sel.register(s, selectors.EVENT_WRITE)
                next_start = now + 0.005
            for key, events in sel.select(timeout=0.002):
                s = key.fileobj
                entry = inflight.get(s)
                if entry is None:
                    continue
                try:
                    if entry[1] == "connect":
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                            raise OSError("connect failed")
                        s.send(request)
                        entry[1] = "read"
                        sel.modify(s, selectors.EVENT_READ)
                    else:
                        data = s.recv(4096)
                        entry[2] += data
                        if entry[2].startswith(b"HTTP/1.") and b" 200 " in entry[2][:16]:
                            return "ok %.6f" % time.time()
                        if not data:
                            raise OSError("closed")
                except OSError:
                    sel.unregister(s)
                    s.close()
                    del inflight[s]
            now = time.monotonic()
            for s in [s for s, e in inflight.items() if e[0] < now]:
                sel.unregister(s)
                s.close()
                del inflight[s]
        return "timeout"
    finally:
        for s in list(inflight):
            try:
                sel.unregister(s)
            except Exception:
                pass
            s.close()


# ---------------------------------------------------------------- API client (LB namespace)

ENV = os.environ
NODE = ENV.get("NODE", "lb1")


class API:
    def __init__(self):
        certs = ENV["CERTS"]
        self.ctx = ssl.create_default_context(cafile=certs + "/ca.crt")
        self.ctx.load_cert_chain(certs + "/client.crt", certs + "/client.key")
        self.port = int(ENV["API_PORT"])
        self.conn = None

    def call(self, method, path, body=None, timeout=30):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)
            try:
                data = json.dumps(body).encode() if body is not None else None
                headers = {"Content-Type": "application/json"} if data else {}
                self.conn.request(method, "/flexlb/v1" + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise


def instance(name, vip, weight=None):
    web3 = "check" if weight is None else "check weight %d" % weight
    return {
        "name": name,
        "frontend_interface": "eth0",
        "frontend_ipaddress": vip,
        "frontend_net_prefix": 24,
        "endpoints": [{
            "frontend_port": 8080,
            "mode": "tcp",
            "balance": "roundrobin",
            "backend_options": ["httpchk GET /"],
            "backend_check_commands": {"check_type": "http-check", "commands": ["expect status 200"]},
            "backend_servers": [
                {"name": "web1", "ipaddress": "10.99.2.11", "port": 30080, "options": "check"},
                {"name": "web2", "ipaddress": "10.99.2.12", "port": 30080, "options": "check"},
                {"name": "web3", "ipaddress": "10.99.2.13", "port": 30080, "options": web3},
            ],
        }],
    }


def node_status(inst):
    return (inst.get("nodes") or {}).get(NODE) or {}


def is_applied_up(inst):
    st = node_status(inst)
    return st.get("state") == "up" and st.get("applied_version") == inst.get("version")


def wait_all_up(api, names, timeout=300, interval=0.05):
    names = set(names)
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body = api.call("GET", "/instances")
        if status == 200:
            up = {i["config"]["name"] for i in body if i["config"]["name"] in names and is_applied_up(i)}
            if up == names:
                return time.time()
        time.sleep(interval)
    raise SystemExit("instances not up within %ss" % timeout)


def eth0_addresses():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"], capture_output=True, text=True).stdout
    return set(re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out))


def wait_vips(vips, timeout=120):
    deadline = time.time() + timeout
    vips = set(vips)
    while time.time() < deadline:
        if vips <= eth0_addresses():
            return time.time()
        time.sleep(0.02)
    raise SystemExit("VIPs not on eth0 within %ss" % timeout)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


MY_NETNS = os.readlink("/proc/self/ns/net")


def haproxy_pids(exclude=()):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            if os.readlink("/proc/%d/ns/net" % pid) != MY_NETNS:
                continue
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() != "haproxy":
                    continue
        except OSError:
            continue
        if pid not in exclude:
            pids.append(pid)
    return pids


def flexlbd_pid():
    with open(ENV["PIDFILE"]) as f:
        return int(f.read().strip())


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def flexlbd_idle_cpu(seconds=5.0):
    pid = flexlbd_pid()
    a = cpu_seconds(pid)
    time.sleep(seconds)
    return 100.0 * (cpu_seconds(pid) - a) / seconds


LEFTOVERS = []


def delete_all(api, keep_pids=(), when=""):
    """Deletes every instance and waits until no HAProxy runs in this namespace. HAProxy processes
    still alive 20 s after the deletes are a flexlbd bug: they are recorded, then killed by pid."""
    status, body = api.call("GET", "/instances")
    for i in body:
        api.call("DELETE", "/instances/" + i["config"]["name"])
    deadline = time.time() + 20
    while time.time() < deadline:
        if not haproxy_pids(exclude=keep_pids):
            return
        time.sleep(0.1)
    left = []
    for pid in haproxy_pids(exclude=keep_pids):
        try:
            cmd = open("/proc/%d/cmdline" % pid).read().replace("\0", " ").strip()
            ppid = int(open("/proc/%d/status" % pid).read().split("PPid:")[1].split()[0])
        except OSError:
            continue
        left.append({"pid": pid, "ppid": ppid, "cmdline": cmd})
    log("BUG: %d HAProxy processes survive the delete of every instance (%s): %s" % (len(left), when, json.dumps(left)))
    LEFTOVERS.append({"when": when, "processes": left})
    for p in left:
        try:
            os.kill(p["pid"], signal.SIGKILL)
        except OSError:
            pass
    deadline = time.time() + 10
    while haproxy_pids(exclude=keep_pids) and time.time() < deadline:
        time.sleep(0.1)


def keepalived_reloads():
    try:
        with open(ENV["DATA_DIR"] + "/log/keepalived.log", errors="replace") as f:
            # keepalived 2.2.7 logs "Reloading ..." (parent) and "Reloading" (VRRP child) per SIGHUP.
            return sum(1 for line in f if line.rstrip().endswith("Reloading ..."))
    except OSError:
        return 0


def flexlbd_keepalived_reloads():
    try:
        with open(ENV["FLEXLBD_LOG"], errors="replace") as f:
            return sum(1 for line in f if "reloaded keepalived" in line)
    except (OSError, KeyError):
        return 0


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class RenameCounter:
    """Counts renames onto keepalived.conf (every write of it is an atomic rename) with inotify."""
    IN_MOVED_TO = 0x80

    def __init__(self, directory, filename):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, directory.encode(), self.IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self.filename = filename.encode()
        self.count = 0

    def drain(self):
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.count
            i = 0
            while i < len(buf):
                wd, mask, cookie, length = ctypes.c_int.from_buffer_copy(buf, i).value, \
                    ctypes.c_uint32.from_buffer_copy(buf, i + 4).value, 0, ctypes.c_uint32.from_buffer_copy(buf, i + 12).value
                name = buf[i + 16:i + 16 + length].rstrip(b"\0")
                if name == self.filename:
                    self.count += 1
                i += 16 + length


class Probe:
    def __init__(self):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ENV["CLIENT_NS"], sys.executable, os.path.abspath(__file__), "probe"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def start(self, ip, port=8080, budget=10):
        self.proc.stdin.write("wait %s %d %s\n" % (ip, port, budget))
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "started"

    def result(self):
        line = self.proc.stdout.readline().split()
        return float(line[1]) if line and line[0] == "ok" else None

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=5)


class VipMonitor:
    """Wall-clock arrival time of each address added to eth0 (ip monitor), to split create->first 200."""

    def __init__(self):
        self.added = {}
        self.proc = subprocess.Popen(["ip", "-4", "monitor", "address", "dev", "eth0"], stdout=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", line)
            if m and not line.startswith("Deleted"):
                self.added.setdefault(m.group(1), time.time())

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


def log(*args):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def burst_create(items, concurrency=8):
    """POSTs every (name, vip) with `concurrency` clients; returns wall time of the last 200."""
    q = queue.Queue()
    for item in items:
        q.put(item)
    last = [0.0]
    errors = []
    lock = threading.Lock()

    def worker():
        api = API()
        while True:
            try:
                name, vip = q.get_nowait()
            except queue.Empty:
                return
            status, body = api.call("POST", "/instances", instance(name, vip))
            t = time.time()
            with lock:
                if status == 200:
                    last[0] = max(last[0], t)
                else:
                    errors.append((name, status, body))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return t0, last[0], errors


def scale_point(api, count, prefix, vip_of, results, concurrency=8):
    """Creates `count` instances (burst), measures apply time, VIP time, RSS; leaves them in place."""
    log("scale point: %d instances" % count)
    renames = RenameCounter(ENV["DATA_DIR"] + "/keepalived", "keepalived.conf")
    reloads_before = keepalived_reloads()
    sighups_before = flexlbd_keepalived_reloads()
    items = [("%s%03d" % (prefix, i), vip_of(i)) for i in range(1, count + 1)]
    t0, t_last, errors = burst_create(items, concurrency=concurrency if count > 1 else 1)
    if errors:
        raise SystemExit("creates failed: %s" % errors[:3])
    t_up = wait_all_up(api, [n for n, _ in items])
    t_vips = wait_vips([v for _, v in items])
    # Let a pending keepalived reload (quiet period / max delay) happen, then count.
    stable_since, last_seen = time.time(), (keepalived_reloads(), renames.drain())
    while time.time() - stable_since < 2.5:
        time.sleep(0.25)
        now_seen = (keepalived_reloads(), renames.drain())
        if now_seen != last_seen:
            stable_since, last_seen = time.time(), now_seen
    pids = haproxy_pids()
    point = {
        "instances": count,
        "create_burst_s": t_last - t0,
        "apply_up_ms": (t_up - t_last) * 1000,
        "apply_vips_ms": (t_vips - t_last) * 1000,
        "keepalived_reloads": keepalived_reloads() - reloads_before,
        "keepalived_conf_writes": renames.drain(),
        "flexlbd_sighups": flexlbd_keepalived_reloads() - sighups_before,
        "flexlbd_rss_mb": rss_kb(flexlbd_pid()) / 1024,
        "haproxy_processes": len(pids),
        "haproxy_rss_mb": sum(rss_kb(p) for p in pids) / 1024,
        "haproxy_pss_mb": sum(pss_kb(p) for p in pids) / 1024,
        "flexlbd_idle_cpu_pct": flexlbd_idle_cpu(),
    }
    log(json.dumps(point))
    results.setdefault("scale", []).append(point)


# ---------------------------------------------------------------- wrk

def run_wrk(vip, seconds):
    cmd = ["ip", "netns", "exec", ENV["CLIENT_NS"], "wrk", "-t2", "-c32", "-d%ds" % seconds,
           "-H", "Connection: close", "http://%s:8080/" % vip]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def parse_wrk(text):
    r = {"requests": None, "connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0, "raw": text}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["connect"], r["read"], r["write"], r["timeout"] = map(int, m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    r["rps"] = float(m.group(1)) if m else None
    return r


# ---------------------------------------------------------------- data-plane benchmark

def dataplane_main(out):
    api = API()
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    probe = Probe()
    monitor = VipMonitor()
    scratch_proc = None
    try:
        # Step 4 (1 instance), on an empty node.
        scale_point(api, 1, "one", lambda i: "10.99.3.%d" % i, results)
        delete_all(api, when="after 1 instance")

        # Step 1: create -> first 200 through the VIP, one instance at a time.
        log("step 1: create -> first 200, 50 instances one by one")
        samples = []
        for i in range(1, 51):
            name, vip = "first%03d" % i, "10.99.1.%d" % (100 + i)
            probe.start(vip, budget=10)
            t_send = time.time()
            status, body = api.call("POST", "/instances", instance(name, vip))
            t_200 = time.time()
            if status != 200:
                raise SystemExit("create %s: %s %s" % (name, status, body))
            t_ok = probe.result()
            if t_ok is None:
                raise SystemExit("no 200 through %s within 10 s" % vip)
            t_vip = monitor.added.get(vip)
            samples.append({"api_ms": (t_200 - t_send) * 1000, "first_ok_ms": (t_ok - t_200) * 1000,
                            "vip_ms": (t_vip - t_200) * 1000 if t_vip else None})
        firsts = [s["first_ok_ms"] for s in samples]
        vips = [s["vip_ms"] for s in samples if s["vip_ms"] is not None]
        results["step1"] = {
            "n": len(samples), "samples": samples,
            "api_create_p50_ms": percentile([s["api_ms"] for s in samples], 50),
            "first_ok_p50_ms": percentile(firsts, 50), "first_ok_p99_ms": percentile(firsts, 99),
            "first_ok_max_ms": max(firsts), "first_ok_min_ms": min(firsts),
            "vip_added_p50_ms": percentile(vips, 50) if vips else None,
            "vip_added_p99_ms": percentile(vips, 99) if vips else None,
            "vip_to_ok_p50_ms": percentile([s["first_ok_ms"] - s["vip_ms"] for s in samples if s["vip_ms"] is not None], 50) if vips else None,
        }
        log(json.dumps({k: v for k, v in results["step1"].items() if k != "samples"}))
        delete_all(api, when="after step 1")

        # Step 2: failed requests during 100 modifications under wrk load; then 0.4's stop/start.
        log("step 2: 100 modifications under wrk load")
        vip = "10.99.1.160"
        status, body = api.call("POST", "/instances", instance("mod", vip))
        assert status == 200, body
        wait_all_up(api, ["mod"])
        wait_vips([vip])
        probe.start(vip, budget=10)
        assert probe.result() is not None, "mod VIP does not answer"

        def modify(k):
            status, body = api.call("PUT", "/instances", instance("mod", vip, weight=50 if k % 2 == 0 else None))
            if status != 200:
                raise SystemExit("modify: %s %s" % (status, body))
            version = body["version"]
            deadline = time.time() + 10
            while time.time() < deadline:
                s, b = api.call("GET", "/instances/mod")
                st = node_status(b)
                if st.get("applied_version") == version and st.get("state") == "up":
                    return
                time.sleep(0.005)
            raise SystemExit("modification %d not applied within 10 s" % k)

        t = time.time()
        for k in range(6):  # calibration, no load
            modify(k)
        per_mod = (time.time() - t) / 6
        # Under load a modification takes ~3x as long as unloaded: size wrk so it covers all 100.
        seconds = int(min(120, max(30, 3 + 100 * per_mod * 4)))
        results["step2"] = {"calibration_ms_per_modification": per_mod * 1000, "wrk_seconds": seconds}
        log("calibration: %.0f ms per modification; wrk -d%ds" % (per_mod * 1000, seconds))

        # Scratch HAProxy that flexlbd does not manage: a copy of the rendered config on another VIP.
        work = ENV["WORK"]
        cfg_src = open(ENV["DATA_DIR"] + "/haproxy/mod.cfg").read()
        scratch_vip = "10.99.1.200"
        scratch_cfg = work + "/scratch.cfg"
        scratch_stats = work + "/scratch-stats.sock"
        base_cfg = re.sub(r"stats socket \S+", "stats socket %s" % scratch_stats, cfg_src).replace(vip + ":", scratch_vip + ":")
        if "weight 50" in base_cfg:
            raise SystemExit("unexpected weight in rendered config")
        subprocess.run(["ip", "addr", "add", scratch_vip + "/24", "dev", "eth0"], check=True)

        def scratch_write(k):
            cfg = base_cfg.replace("server web3 10.99.2.13:30080 check", "server web3 10.99.2.13:30080 check weight 50") if k % 2 == 0 else base_cfg
            with open(scratch_cfg + ".tmp", "w") as f:
                f.write(cfg)
            os.rename(scratch_cfg + ".tmp", scratch_cfg)

        def scratch_start():
            return subprocess.Popen(["haproxy", "-W", "-f", scratch_cfg, "-p", work + "/scratch.pid", "-S", work + "/scratch-master.sock"],
                                    stdout=open(work + "/scratch-haproxy.log", "a"), stderr=subprocess.STDOUT)

        scratch_write(1)
        scratch_proc = scratch_start()
        probe.start(scratch_vip, budget=10)
        assert probe.result() is not None, "scratch VIP does not answer"

        # Run A: flexlbd (SIGUSR2 master-worker reload).
        wrk = run_wrk(vip, seconds)
        time.sleep(1.0)
        t = time.time()
        for k in range(100):
            modify(k)
        mods_s = time.time() - t
        wrk_out, _ = wrk.communicate(timeout=seconds + 30)
        a = parse_wrk(wrk_out)
        a["modifications_s"] = mods_s
        with open(ENV["FLEXLBD_LOG"], errors="replace") as f:
            lines = [line for line in f if "flexlb.instance=mod " in line]
        a["haproxy_reloads_logged"] = sum(1 for line in lines if "reloaded HAProxy" in line) - 6
        a["haproxy_false_exits_logged"] = sum(1 for line in lines if "HAProxy exited" in line)
        a["haproxy_masters_for_mod"] = sum(1 for pid in haproxy_pids() if "/mod.cfg" in open("/proc/%d/cmdline" % pid).read() and "-sf" not in open("/proc/%d/cmdline" % pid).read())
        a["load_covered_all"] = mods_s + 1.0 < seconds
        results["step2"]["flexlbd"] = a
        log("A:", json.dumps({k: v for k, v in a.items() if k != "raw"}))

        # Run B: the same 100 changes, 0.4's way (SIGTERM the master, start a new HAProxy), same pace.
        interval = mods_s / 100
        wrk = run_wrk(scratch_vip, seconds)
        time.sleep(1.0)
        t = time.time()
        for k in range(100):
            target = t + k * interval
            if time.time() < target:
                time.sleep(target - time.time())
            scratch_write(k)
            scratch_proc.send_signal(signal.SIGTERM)
            scratch_proc.wait(timeout=10)
            scratch_proc = scratch_start()
        stop_s = time.time() - t
        wrk_out, _ = wrk.communicate(timeout=seconds + 30)
        b = parse_wrk(wrk_out)
        b["modifications_s"] = stop_s
        b["load_covered_all"] = stop_s + 1.0 < seconds
        results["step2"]["stop_start"] = b
        log("B:", json.dumps({k: v for k, v in b.items() if k != "raw"}))
        scratch_proc.send_signal(signal.SIGTERM)
        scratch_proc.wait(timeout=10)
        scratch_proc = None
        subprocess.run(["ip", "addr", "del", scratch_vip + "/24", "dev", "eth0"], check=False)
        delete_all(api, when="after step 2 (100 modifications of one instance)")

        # Step 3 (= step 4 at 100): 100 creates in one burst, 8 concurrent clients.
        log("step 3: 100 creates in one burst")
        scale_point(api, 100, "burst", lambda i: "10.99.3.%d" % i, results)
        delete_all(api, when="after step 3 (100 instances)")

        # Step 4: the largest data-plane count flexlbd accepts (VRRP ids 1-255), if memory allows.
        per_instance_mb = results["scale"][-1]["haproxy_pss_mb"] / 100
        avail_mb = int(open("/proc/meminfo").read().split("MemAvailable:")[1].split()[0]) / 1024
        big = int(ENV.get("BENCH_MAX_INSTANCES", "255"))
        results["memory_check"] = {"haproxy_pss_mb_per_instance": per_instance_mb, "mem_available_mb": avail_mb,
                                   "projected_mb": per_instance_mb * big}
        if per_instance_mb * big < avail_mb * 0.5:
            scale_point(api, big, "big", lambda i: "10.99.%d.%d" % (4 + (i - 1) // 250, 1 + (i - 1) % 250), results)
            # One more create past the VRRP-id range: what does the API say?
            status, body = api.call("POST", "/instances", instance("overflow", "10.99.6.1"))
            results["past_limit"] = {"count_before": big, "status": status, "body": body}
            delete_all(api, when="after %d instances" % big)
        else:
            log("skipping %d instances: projected %.0f MB of HAProxy" % (big, per_instance_mb * big))
    finally:
        if scratch_proc is not None:
            scratch_proc.kill()
        probe.close()
        monitor.close()
        results["leftovers"] = LEFTOVERS
        with open(out, "w") as f:
            json.dump(results, f, indent=1)


def storeonly_main(out, n):
    api = API()
    results = {}
    codes = {}
    t0 = time.time()
    t_last = t0
    first_error = None
    for i in range(1, n + 1):
        status, body = api.call("POST", "/instances", instance("s%04d" % i, "10.%d.%d.%d" % (100 + i // 62500, (i // 250) % 250, i % 250 + 1)))
        codes[status] = codes.get(status, 0) + 1
        if status == 200:
            t_last = time.time()
        elif first_error is None:
            first_error = {"at": i, "status": status, "body": body}
        if i in (1, 100, 255, n):
            results["rss_mb_at_%d" % i] = rss_kb(flexlbd_pid()) / 1024
    results.update({"requested": n, "codes": codes, "first_error": first_error, "seconds": t_last - t0})
    status, body = api.call("GET", "/instances")
    results["stored"] = len(body)
    results["flexlbd_rss_mb_final"] = rss_kb(flexlbd_pid()) / 1024
    log(json.dumps(results))
    with open(out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "probe":
        probe_main()
    elif mode == "dataplane":
        dataplane_main(sys.argv[2])
    elif mode == "storeonly":
        storeonly_main(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit("unknown mode " + mode)
