"""End-to-end tests of the data plane: real flexlbd in a network namespace drives real keepalived and
HAProxy; traffic goes from the client namespace through the VIPs to real backends.

The tests of this module share one topology and one flexlbd (module fixture `lab`) and run in order;
each uses its own instance (own VIP) unless it is about the shared `web` instance.
"""

from __future__ import annotations

import datetime
import grp
import ipaddress
import os
import pwd
import re
import signal
import subprocess
import time
from collections import Counter

import pytest

from conftest import BACKENDS, HTTP_PORT, NODE, TCP_PORT, Lab, poll

WEB_VIP = "10.99.1.100"
WEB_URL = f"http://{WEB_VIP}:8080/"
# Quick checks (the default has `slowstart 60s`, which would keep a revived server nearly idle).
DEFAULT_SERVER = "inter 1s downinter 1s rise 2 fall 2 maxconn 2000 maxqueue 2000 weight 100"
ALL = [f"be{i}" for i in range(1, BACKENDS + 1)]


def server(name: str, port: int = HTTP_PORT, options: str = "check") -> dict:
    return {"name": name, "ipaddress": f"10.99.2.{10 + int(name[2:])}", "port": port, "options": options}


def http_instance(name: str, vip: str, port: int = 8080, servers: list[dict] | None = None, **endpoint) -> dict:
    ep = {
        "frontend_port": port,
        "mode": "http",
        "balance": "roundrobin",
        "backend_options": ["httpchk GET /"],
        "backend_default_server": DEFAULT_SERVER,
        "backend_servers": servers or [server(n) for n in ALL],
    }
    ep.update(endpoint)
    return {"name": name, "frontend_interface": "eth0", "frontend_ipaddress": vip,
            "frontend_net_prefix": 24, "endpoints": [ep]}


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def vip_on_eth0(lab: Lab, vip: str) -> bool:
    return f" {vip}/" in lab.eth0_addrs()


def servers_status(lab: Lab, name: str) -> dict[str, str]:
    return {s["name"]: s["status"] for s in lab.node_status(name).get("servers") or []}


@pytest.fixture(scope="module")
def web(lab: Lab) -> dict:
    lab.call("POST", "/instances", http_instance("web", WEB_VIP))
    return lab.wait_up("web")


# ------------------------------------------------------------------------------------------------
# 1. HTTP and TCP instances carry traffic, balanced
# ------------------------------------------------------------------------------------------------


def test_http_instance_balances_over_all_backends(lab: Lab, web: dict):
    st = lab.node_status("web")
    assert st["state"] == "up" and st.get("vip") == "master" and st.get("haproxy") == "running", st
    assert vip_on_eth0(lab, WEB_VIP), lab.eth0_addrs()
    poll("all servers UP", lambda: set(servers_status(lab, "web").values()) == {"UP"}, 15)
    res = lab.http(WEB_URL, 30)
    assert not res["errors"], res["errors"]
    counts = Counter(res["ok"])
    assert set(counts) == set(ALL), counts
    assert all(c >= 5 for c in counts.values()), f"roundrobin should spread 30 requests: {counts}"


def test_tcp_instance_reaches_backends(lab: Lab):
    body = http_instance("tcpecho", "10.99.1.101", 9000,
                         servers=[server(n, TCP_PORT) for n in ALL], mode="tcp", backend_options=[])
    lab.call("POST", "/instances", body)
    lab.wait_up("tcpecho")
    res = lab.tcp("10.99.1.101", 9000, 15)
    assert not res["errors"], res["errors"]
    assert set(res["ok"]) == set(ALL), Counter(res["ok"])


# ------------------------------------------------------------------------------------------------
# 2. Hitless reloads under load
# ------------------------------------------------------------------------------------------------


def parse_wrk(out: str) -> dict:
    m = re.search(r"(\d+) requests in", out)
    assert m, f"unrecognised wrk output:\n{out}"
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(m.group(1)),
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def test_modifications_under_load_lose_nothing(lab: Lab, web: dict):
    sets = [ALL, ["be1", "be2"], ["be2", "be3"], ["be1"], ["be1", "be3"], ["be3"], ALL]
    wrk = subprocess.Popen(lab.exec_argv("cl", "wrk", "-t2", "-c20", "-d8s", "-H", "Connection: close", WEB_URL),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lab.helpers.append(wrk)
    started = time.monotonic()
    versions = []
    try:
        for i in range(20):
            names = sets[i % len(sets)]
            servers = [server(n, options=f"check weight {10 + (i * 7 + int(n[2:]) * 13) % 90}") for n in names]
            inst = lab.call("PUT", "/instances", http_instance("web", WEB_VIP, servers=servers))
            versions.append(inst["version"])
            # Spread the 20 changes over ~6 s of the 8 s run.
            time.sleep(max(0.0, started + (i + 1) * 0.3 - time.monotonic()))
        out, _ = wrk.communicate(timeout=60)
    finally:
        if wrk.poll() is None:
            wrk.kill()
    assert wrk.returncode == 0, out
    res = parse_wrk(out)
    assert len(set(versions)) == 20 and versions == sorted(versions), versions
    assert res["requests"] > 100, out
    assert res["socket_errors"] == 0, f"socket errors during reloads:\n{out}"
    assert res["non2xx"] == 0, f"non-2xx answers during reloads:\n{out}"
    # Back to all three backends; the node must have applied the last version.
    final = lab.call("PUT", "/instances", http_instance("web", WEB_VIP))
    inst = lab.wait_up("web")
    assert inst["nodes"][NODE]["applied_version"] == final["version"] == inst["version"]
    cfg = lab.haproxy_cfg("web").read_text()
    assert all(f"10.99.2.{10 + i}:{HTTP_PORT}" in cfg for i in range(1, BACKENDS + 1)), cfg


# ------------------------------------------------------------------------------------------------
# 3. Health checks
# ------------------------------------------------------------------------------------------------


def test_dead_backend_marked_down_and_avoided(lab: Lab, web: dict):
    poll("all servers UP", lambda: set(servers_status(lab, "web").values()) == {"UP"}, 20)
    lab.kill_backend("be2")
    try:
        last = {}

        def be2_down():
            last.update(servers_status(lab, "web"))
            assert last.get("be2", "").startswith("DOWN"), last
            return True

        poll("be2 DOWN in status", be2_down, 10)
        st = servers_status(lab, "web")
        assert st["be1"].startswith("UP") and st["be3"].startswith("UP"), st
        res = lab.http(WEB_URL, 30)
        assert not res["errors"], res["errors"]
        assert set(res["ok"]) == {"be1", "be3"}, Counter(res["ok"])
    finally:
        lab.start_backend(2)
    poll("be2 UP again", lambda: servers_status(lab, "web").get("be2") == "UP", 15)
    seen: set[str] = set()

    def be2_serves():
        res = lab.http(WEB_URL, 6)
        assert not res["errors"], res["errors"]
        seen.update(res["ok"])
        return "be2" in seen

    poll("be2 gets traffic again", be2_serves, 15, 0.2)


# ------------------------------------------------------------------------------------------------
# 4. TLS termination
# ------------------------------------------------------------------------------------------------


def make_ca_and_server_cert(ip: str) -> tuple[str, str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flexlb dataplane test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ip)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return ca.public_bytes(pem).decode(), cert.public_bytes(pem).decode(), key_pem


def test_tls_frontend_verified(lab: Lab):
    vip = "10.99.1.102"
    ca_pem, cert_pem, key_pem = make_ca_and_server_cert(vip)
    ca_file = lab.root / "tls-ca.crt"
    ca_file.write_text(ca_pem)
    body = http_instance("tls", vip, 8443, frontend_ssl_options={"server_cert": cert_pem, "server_key": key_pem})
    lab.call("POST", "/instances", body)
    lab.wait_up("tls")
    seen = set()
    for _ in range(6):
        r = lab.run("cl", "curl", "-sS", "-m", "3", "--cacert", str(ca_file), f"https://{vip}:8443/")
        assert r.returncode == 0, f"curl failed ({r.returncode}): {r.stderr}"
        seen.add(r.stdout.strip())
    assert seen and seen <= set(ALL), seen
    # Without the CA the certificate is not trusted: the server really presents ours.
    r = lab.run("cl", "curl", "-sS", "-m", "3", f"https://{vip}:8443/")
    assert r.returncode != 0, r.stdout


# ------------------------------------------------------------------------------------------------
# 5. Stop, start, delete
# ------------------------------------------------------------------------------------------------


def test_stop_start_delete(lab: Lab):
    vip, url = "10.99.1.103", "http://10.99.1.103:8080/"
    lab.call("POST", "/instances", http_instance("life", vip))
    lab.wait_up("life")
    assert not lab.http(url, 3)["errors"]
    pid_before = lab.haproxy_pid("life")
    assert pid_before and pid_alive(pid_before)

    lab.call("POST", "/instances/life/stop")
    poll("VIP released", lambda: not vip_on_eth0(lab, vip), 10)
    poll("stopped instance refuses traffic", lambda: len(lab.http(url, 1, timeout=0.5)["errors"]) == 1, 10)
    poll("HAProxy of a stopped instance gone", lambda: not pid_alive(pid_before), 10)
    st = lab.node_status("life")
    assert st.get("state") != "up", st

    lab.call("POST", "/instances/life/start")
    lab.wait_up("life")
    poll("VIP back", lambda: vip_on_eth0(lab, vip), 10)
    poll("serving again", lambda: not lab.http(url, 3)["errors"], 10)

    pid = lab.haproxy_pid("life")
    assert pid and pid_alive(pid)
    lab.call("DELETE", "/instances/life")
    poll("HAProxy gone after delete", lambda: not pid_alive(pid), 10)
    poll("cfg removed", lambda: not lab.haproxy_cfg("life").exists(), 10)
    poll("pem dir removed", lambda: not (lab.data_dir / "pem" / "life").exists(), 10)
    poll("VIP removed from keepalived.conf", lambda: f"{vip}/" not in lab.keepalived_conf(), 10)
    assert "life" not in lab.keepalived_conf()
    assert "vrrp_instance flexlb_" in lab.keepalived_conf(), "the other instances' vrrp_instances must stay"
    poll("VIP gone", lambda: not vip_on_eth0(lab, vip), 10)
    lab.call("GET", "/instances/life", expect=404)
    assert not lab.http(url, 1, timeout=0.5)["ok"]


# ------------------------------------------------------------------------------------------------
# 6. flexlbd crash: the data plane keeps serving, the new flexlbd adopts it
# ------------------------------------------------------------------------------------------------


def test_flexlbd_kill9_keeps_serving_and_adopts(lab: Lab, web: dict):
    lab.wait_up("web")
    master = lab.haproxy_pid("web")
    assert master and pid_alive(master)
    keepalived_pid_file = lab.data_dir / "run" / "keepalived.pid"
    keepalived = int(keepalived_pid_file.read_text().split()[0])
    assert pid_alive(keepalived)

    loop = lab.start_loop(WEB_URL, 0.01, 0.5)
    try:
        poll("request loop running", lambda: lab.http(WEB_URL, 1)["ok"], 10)
        time.sleep(0.3)  # let the loop record successes before the fault (not a synchronisation)
        lab.kill9_flexlbd()
        assert pid_alive(master) and pid_alive(keepalived), "data plane died with flexlbd"
        lab.start_flexlbd()
        lab.wait_up("web")
        time.sleep(0.5)  # measurement window after the restart too (not a synchronisation)
    finally:
        res = loop.stop()
    assert res["attempts"] > 50 and res["ok"], res["attempts"]
    assert not res["errors"], f"{len(res['errors'])} failed requests around the flexlbd crash: {res['errors'][:10]}"
    assert lab.haproxy_pid("web") == master and pid_alive(master), "HAProxy master was replaced"
    assert int(keepalived_pid_file.read_text().split()[0]) == keepalived and pid_alive(keepalived)
    log = lab.flexlbd_log()
    assert "adopted running HAProxy" in log and "adopted running keepalived" in log, log[-4000:]


# ------------------------------------------------------------------------------------------------
# 7. Drift: killed HAProxy, deleted or edited config
# ------------------------------------------------------------------------------------------------


def test_drift_is_repaired(lab: Lab):
    url = "http://10.99.1.104:8080/"
    lab.call("POST", "/instances", http_instance("drift", "10.99.1.104"))
    lab.wait_up("drift")
    assert not lab.http(url, 3)["errors"]
    master = lab.haproxy_pid("drift")
    assert master and pid_alive(master)

    os.kill(master, signal.SIGKILL)
    poll("a request succeeds after the HAProxy master was killed",
         lambda: lab.http(url, 1, timeout=0.5)["ok"], 5, 0.05)
    new_master = poll("new HAProxy master", lambda: (p := lab.haproxy_pid("drift")) != master and p and pid_alive(p) and p, 5)
    assert new_master != master

    cfg = lab.haproxy_cfg("drift")
    original = cfg.read_text()
    cfg.unlink()
    poll("deleted cfg rewritten", lambda: cfg.exists() and cfg.read_text() == original, 5, 0.05)

    cfg.write_text(original.replace("roundrobin", "leastconn") + "\n# edited by hand\n")
    poll("edited cfg restored", lambda: cfg.read_text() == original, 5, 0.05)
    assert not lab.http(url, 3)["errors"]
    lab.call("DELETE", "/instances/drift")
    poll("drift cfg removed", lambda: not cfg.exists(), 10)
    poll("drift VIP removed from keepalived.conf", lambda: "10.99.1.104/" not in lab.keepalived_conf(), 10)
    assert "drift" not in lab.keepalived_conf()


# ------------------------------------------------------------------------------------------------
# 8. Hostile input is refused and nothing is applied
# ------------------------------------------------------------------------------------------------


HOSTILE = [
    ("newline", lambda b: b["endpoints"][0].update(backend_options=["httpchk GET /\n  timeout server 1"]),
     ["backend_options"]),
    ("address", lambda b: b["endpoints"][0]["backend_servers"][0].update(ipaddress="10.99.2.300"), ["ipaddress"]),
    ("vip", lambda b: b.update(frontend_ipaddress="10.99.1.1000"), ["frontend_ipaddress"]),
    ("haproxy-option", lambda b: b["endpoints"][0].update(backend_options=["nonsense-option"]), ["nonsense-option"]),
    ("haproxy-balance", lambda b: b["endpoints"][0].update(balance="nosuchalgo"), ["balance"]),
    ("udp", lambda b: b["endpoints"][0].update(mode="udp"), ["udp"]),
]


@pytest.mark.parametrize("case,mutate,words", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_refused_nothing_applied(lab: Lab, case, mutate, words):
    name = f"bad-{case}"
    body = http_instance(name, "10.99.1.105")
    mutate(body)
    cfgs_before = sorted(p.name for p in (lab.data_dir / "haproxy").iterdir())
    pids_before = lab.ns_pids("lb1")
    kconf_before = lab.keepalived_conf()
    status, payload = lab.api("POST", "/instances", body)
    assert status == 400, f"{case}: expected 400, got {status}: {payload}"
    text = str(payload).lower()
    for w in words:
        assert w.lower() in text, f"{case}: message does not name {w!r}: {payload}"
    if case.startswith("haproxy-"):
        # HAProxy's own diagnostic is passed through.
        assert re.search(r"\[alert\]|unknown|parsing|error", text), payload
    lab.call("GET", f"/instances/{name}", expect=404)
    # Give the reconciler a few ticks to (wrongly) act, then check nothing changed.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert not lab.haproxy_cfg(name).exists()
        time.sleep(0.1)
    assert sorted(p.name for p in (lab.data_dir / "haproxy").iterdir()) == cfgs_before
    assert lab.keepalived_conf() == kconf_before
    new = {p for p in lab.ns_pids("lb1") - pids_before if pid_alive(p) and not is_helper(p)}
    assert not new, f"{case}: new processes in the LB namespace: {[cmdline(p) for p in new]}"
    assert not vip_on_eth0(lab, "10.99.1.105")


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def is_helper(pid: int) -> bool:
    """Short-lived processes that are not part of an applied config: our curl, flexlbd's `haproxy -c`."""
    c = cmdline(pid)
    return c.startswith("curl ") or " -c " in c or c == "?"


# ------------------------------------------------------------------------------------------------
# 9. Containment (issue 9): privileges, write-time checks, isolation of a failing instance, orphans
# ------------------------------------------------------------------------------------------------


def _status_field(pid: int, field: str) -> str:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].split()[0]
    return ""


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return out


def test_haproxy_workers_drop_root_into_an_empty_chroot(lab: Lab, web: dict):
    lab.wait_up("web")
    master = lab.haproxy_pid("web")
    workers = poll("HAProxy workers", lambda: _children(master), 10)
    # Debian's haproxy package's account, not `nobody`: that one runs the `haproxy -c` checks of tenant text.
    dedicated = pwd.getpwnam("haproxy")
    assert dedicated.pw_uid != pwd.getpwnam("nobody").pw_uid
    for w in workers:
        assert _status_field(w, "Uid") == str(dedicated.pw_uid), f"worker {w} runs as uid {_status_field(w, 'Uid')}"
        assert _status_field(w, "Gid") == str(grp.getgrnam("haproxy").gr_gid), f"worker {w} runs as gid {_status_field(w, 'Gid')}"
        assert os.readlink(f"/proc/{w}/root") == str(lab.data_dir / "haproxy-chroot"), os.readlink(f"/proc/{w}/root")
    assert not any((lab.data_dir / "haproxy-chroot").iterdir()), "the chroot is not empty"
    # Still serving, and a reload (port below 1024 included) keeps working after the drop.
    low = http_instance("lowport", "10.99.1.120", port=80)
    lab.call("POST", "/instances", low)
    lab.wait_up("lowport")
    assert not lab.http("http://10.99.1.120:80/", 5)["errors"]
    low["endpoints"][0]["balance"] = "leastconn"
    lab.call("PUT", "/instances", low)
    lab.wait_up("lowport")
    assert not lab.http("http://10.99.1.120:80/", 5)["errors"]
    lab.call("DELETE", "/instances/lowport")


@pytest.mark.parametrize("iface", [".", "..", "nosuch0", "lo"])
def test_interfaces_are_validated_at_write_time(lab: Lab, iface):
    body = http_instance("badif", "10.99.1.121")
    body["frontend_interface"] = iface
    status, payload = lab.api("POST", "/instances", body)
    assert status == 400, payload
    assert "$.frontend_interface" in str(payload)


@pytest.mark.parametrize("vip", ["10.99.1.10", "0.0.0.0", "127.0.0.1"])
def test_vips_that_would_hurt_the_node_are_refused(lab: Lab, vip):
    status, payload = lab.api("POST", "/instances", http_instance("badvip", vip))
    assert status == 400, payload
    assert "$.frontend_ipaddress" in str(payload)


def test_a_failing_instance_is_isolated_and_leaves_no_stale_down(lab: Lab, web: dict):
    # An interface that exists at write time and vanishes later: keepalived then refuses that instance.
    # (a veth pair inside lb1: this kernel has no dummy interfaces)
    lab.run("lb1", "ip", "link", "add", "flxdum0", "type", "veth", "peer", "name", "flxdum1", check=True)
    lab.run("lb1", "ip", "link", "set", "flxdum1", "up", check=True)
    lab.run("lb1", "ip", "link", "set", "flxdum0", "up", check=True)
    try:
        doomed = http_instance("doomed", "10.99.5.1")
        doomed["frontend_interface"] = "flxdum0"
        lab.call("POST", "/instances", doomed)
        lab.wait_up("doomed")
    finally:
        lab.run("lb1", "ip", "link", "del", "flxdum0")
    # A later change makes flexlbd render keepalived.conf again.
    lab.call("POST", "/instances", http_instance("bystander", "10.99.1.122"))
    lab.wait_up("bystander", timeout=30)
    poll("bystander VIP held", lambda: vip_on_eth0(lab, "10.99.1.122"), 15)
    assert lab.node_status("web")["state"] == "up", lab.node_status("web")
    st = poll("doomed reported down on its own", lambda: (s := lab.node_status("doomed"))["state"] == "down" and s, 15)
    assert "keepalived" in st.get("message", ""), st
    lab.call("DELETE", "/instances/doomed")
    time.sleep(1)  # a few reconcile passes (not a synchronisation: the states below are polled)
    for name in ("web", "bystander"):
        lab.wait_up(name, timeout=15)
    lab.call("DELETE", "/instances/bystander")


def test_orphaned_haproxy_is_ended_at_start(lab: Lab, web: dict, tmp_path):
    lab.wait_up("web")
    master = lab.haproxy_pid("web")
    lab.kill9_flexlbd()
    # A master no pid file accounts for (as the EMFILE supervisor bug used to start), serving web's
    # VIP:port beside the real one through SO_REUSEPORT; its own stats socket, so web's stays intact.
    ghost = lab.data_dir / "haproxy" / "ghost.cfg"
    text = lab.haproxy_cfg("web").read_text()
    ghost.write_text(re.sub(r"stats socket \S+", f"stats socket {tmp_path / 'ghost.sock'}", text))
    orphan = lab.popen("lb1", "/usr/sbin/haproxy", "-W", "-f", str(ghost), "-p", str(tmp_path / "orphan.pid"),
                       log="orphan-haproxy.log")
    lab.helpers.append(orphan)
    poll("orphan running", lambda: (tmp_path / "orphan.pid").exists(), 10)
    lab.start_flexlbd()
    poll("orphan ended", lambda: orphan.poll() is not None, 20)
    lab.wait_up("web")
    assert lab.haproxy_pid("web") == master and pid_alive(master)
    assert not lab.http(WEB_URL, 5)["errors"]
    assert "ending orphaned process" in lab.flexlbd_log()


def test_removing_one_vip_never_removes_another(lab: Lab, web: dict):
    # Two VIPs of a prefix the node has no address in: the first becomes the prefix's primary address.
    lab.call("POST", "/instances", http_instance("prim", "10.99.7.1"))
    lab.wait_up("prim")
    poll("first VIP", lambda: vip_on_eth0(lab, "10.99.7.1"), 15)
    lab.call("POST", "/instances", http_instance("second", "10.99.7.2"))
    lab.wait_up("second")
    poll("second VIP", lambda: vip_on_eth0(lab, "10.99.7.2"), 15)
    lab.call("DELETE", "/instances/prim")
    poll("first VIP released", lambda: not vip_on_eth0(lab, "10.99.7.1"), 15)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert vip_on_eth0(lab, "10.99.7.2"), "deleting one instance removed another instance's VIP"
        time.sleep(0.05)
    lab.call("DELETE", "/instances/second")


def test_logs_rotate_in_place_and_go_with_their_instance(lab: Lab):
    lab.call("POST", "/instances", http_instance("logs", "10.99.1.122"))
    lab.wait_up("logs")
    log = lab.data_dir / "log" / "haproxy-logs.log"
    copy = log.with_name(log.name + ".1")
    poll("HAProxy's log", log.exists, 10)
    # Past the default logs.max_bytes (10 MiB), appended as HAProxy appends.
    with open(log, "ab") as f:
        f.write(b"x" * (10 << 20) + b"\n")
    poll("log rotated", lambda: copy.exists() and log.stat().st_size < (1 << 20), 20)
    assert copy.stat().st_size > 10 << 20
    assert copy.stat().st_mode & 0o777 == 0o600, oct(copy.stat().st_mode)
    # HAProxy keeps writing to the truncated file (O_APPEND): a reload's notices land at its start,
    # with no hole of NULs where the old contents were.
    body = http_instance("logs", "10.99.1.122")
    body["endpoints"][0]["balance"] = "leastconn"
    lab.call("PUT", "/instances", body)
    lab.wait_up("logs")
    poll("HAProxy writes after the rotation", lambda: b"Loading success" in log.read_bytes(), 10)
    assert log.stat().st_size < (1 << 20) and b"\0" not in log.read_bytes()
    lab.call("DELETE", "/instances/logs")
    poll("a deleted instance's logs removed", lambda: not log.exists() and not copy.exists(), 20)
    assert (lab.data_dir / "log" / "keepalived.log").exists()


def test_a_vip_missing_from_the_kernel_is_reported_down(lab: Lab):
    # A single node is the VRRP address owner of its VIPs: when one is missing from the interface
    # (here: removed behind a frozen keepalived's back), the instance is not reachable and its status
    # must say so, whatever HAProxy reports.
    lab.call("POST", "/instances", http_instance("ghost", "10.99.7.50"))
    lab.wait_up("ghost")
    poll("ghost VIP", lambda: vip_on_eth0(lab, "10.99.7.50"), 15)
    run_dir = lab.data_dir / "run"
    frozen = [int((run_dir / f).read_text().split()[0]) for f in ("keepalived.pid", "keepalived-vrrp.pid")]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        subprocess.run(["ip", "-n", lab.ns("lb1"), "addr", "del", "10.99.7.50/24", "dev", "eth0"], check=True)
        st = poll("ghost reported down", lambda: (lambda s: s if s.get("state") == "down" else None)(lab.node_status("ghost")), 15, 0.2)
        assert "10.99.7.50" in st.get("message", "") and "not on eth0" in st["message"], st
        assert st.get("vip") != "master", st
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    lab.call("DELETE", "/instances/ghost")
