"""Cluster mode, part 1: three real flexlbd processes in network namespaces share the desired state
by gossip. The data plane is off here (part 2 adds keepalived and HAProxy across nodes)."""

from __future__ import annotations

import shutil
import signal
import threading
import time

import pytest

from conftest import NODES, Cluster, address, new_key, poll, REPO_ROOT


def body(name: str, vip: str = "10.88.0.10", port: int = 8080, backend_port: int = 30080) -> dict:
    return {
        "name": name,
        "frontend_interface": "eth0",
        "frontend_ipaddress": vip,
        "frontend_net_prefix": 24,
        "endpoints": [{
            "frontend_port": port,
            "mode": "tcp",
            "balance": "roundrobin",
            "backend_servers": [{"name": "s1", "ipaddress": "10.99.2.11", "port": backend_port, "options": "check"}],
        }],
    }


def visible_everywhere(c: Cluster, name: str, version: int, nodes=NODES) -> bool:
    for n in nodes:
        status, inst = c.api(n, "GET", f"/instances/{name}")
        if status != 200 or inst["version"] != version:
            return False
    return True


def gone_everywhere(c: Cluster, name: str, nodes=NODES) -> bool:
    return all(c.api(n, "GET", f"/instances/{name}")[0] == 404 for n in nodes)


def test_every_member_is_listed_alive_with_its_addresses(cluster: Cluster):
    for n in NODES:
        nodes = cluster.call(n, "GET", "/nodes")
        by_name = {m["name"]: m for m in nodes}
        assert sorted(by_name) == NODES
        assert [m["name"] for m in nodes if m.get("self")] == [n]
        for m in nodes:
            assert m["state"] == "alive"
            assert m["readiness"] == "ready"
            assert m["api_address"] == f"{address(m['name'])}:9443"
            assert m["gossip_address"] == f"{address(m['name'])}:7946"
            assert m["incarnation"] >= 0
            assert any(a.startswith(address(m["name"])) for a in m["addresses"].get("eth0", [])), m
        readyz = cluster.call(n, "GET", "/readyz")
        assert readyz == {m: "ready" for m in NODES}


def test_a_write_on_any_node_is_visible_on_the_others(cluster: Cluster):
    created = cluster.call("n2", "POST", "/instances", body("anywhere", vip="10.88.0.11"))
    poll("create visible", lambda: visible_everywhere(cluster, "anywhere", created["version"]), 10)
    # Every node's view is in the status map, wherever it is read (soft state: it follows shortly).
    for n in NODES:
        inst = poll(f"every node's view on {n}", lambda: (
            lambda i: i if sorted(i["status"]) == NODES else None)(cluster.call(n, "GET", "/instances/anywhere")), 5)
        assert sorted(inst["nodes"]) == NODES
        assert all(v["message"] == "data plane disabled on this node" for v in inst["nodes"].values())

    modified_body = body("anywhere", vip="10.88.0.11", port=8081)
    modified = cluster.call("n3", "PUT", "/instances", modified_body)
    assert modified["version"] > created["version"]
    poll("modify visible", lambda: visible_everywhere(cluster, "anywhere", modified["version"]), 10)
    assert cluster.call("n1", "GET", "/instances/anywhere")["config"]["endpoints"][0]["frontend_port"] == 8081

    stopped = cluster.call("n1", "POST", "/instances/anywhere/stop")
    poll("stop visible", lambda: visible_everywhere(cluster, "anywhere", stopped["version"]), 10)
    assert cluster.call("n3", "GET", "/instances/anywhere")["desired_state"] == "stopped"

    # If-Match keeps its meaning on the node that answers: the ETag read on n3 works on n3.
    status, _ = cluster.api("n3", "DELETE", "/instances/anywhere", headers={"If-Match": f'"{created["version"]}"'})
    assert status == 412
    cluster.call("n3", "DELETE", "/instances/anywhere", headers={"If-Match": f'"{stopped["version"]}"'})
    poll("delete visible", lambda: gone_everywhere(cluster, "anywhere"), 10)


def test_a_large_record_reaches_every_node(cluster: Cluster):
    # 0.4 never broadcast anything over ~1.4 KB. This one is ~60 KB (200 backend servers).
    b = body("large", vip="10.88.0.12")
    b["endpoints"][0]["backend_servers"] = [
        {"name": f"server-{i:03d}", "ipaddress": f"10.99.{2 + i // 250}.{1 + i % 250}", "port": 30080,
         "options": "check inter 2s"} for i in range(200)]
    created = cluster.call("n1", "POST", "/instances", b)
    poll("large record visible", lambda: visible_everywhere(cluster, "large", created["version"]), 10)
    assert len(cluster.call("n3", "GET", "/instances/large")["config"]["endpoints"][0]["backend_servers"]) == 200
    cluster.call("n2", "DELETE", "/instances/large")
    poll("large delete visible", lambda: gone_everywhere(cluster, "large"), 10)


def test_one_hundred_writes_spread_over_the_nodes_end_identical(cluster: Cluster):
    names = [f"bulk{i:03d}" for i in range(100)]
    errors: list[str] = []

    def writer(node: str, mine: list[str]) -> None:
        for i, name in enumerate(mine):
            status, payload = cluster.api(node, "POST", "/instances", body(name, vip=f"10.88.1.{1 + names.index(name)}"))
            if status != 200:
                errors.append(f"{node} {name}: {status} {payload}")
            if i % 5 == 4:  # and some modifies and deletes of what this node just wrote
                status, payload = cluster.api(node, "POST", f"/instances/{name}/stop")
                if status != 200:
                    errors.append(f"{node} stop {name}: {status} {payload}")
            if i % 7 == 6:
                status, payload = cluster.api(node, "DELETE", f"/instances/{mine[i - 1]}")
                if status != 200:
                    errors.append(f"{node} delete: {status} {payload}")

    threads = [threading.Thread(target=writer, args=(n, names[i::3])) for i, n in enumerate(NODES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    poll("stores identical", lambda: cluster.converged(NODES), 15, 0.2)
    listings = [cluster.listing(n) for n in NODES]
    assert listings[0] == listings[1] == listings[2]
    bulk = {k for k in listings[0] if k.startswith("bulk")}
    assert 80 <= len(bulk) < 100
    for name in bulk:
        cluster.call("n1", "DELETE", f"/instances/{name}")
    poll("bulk deletes everywhere", lambda: cluster.converged(NODES) and not any(
        k.startswith("bulk") for k in cluster.listing("n3")), 15, 0.2)


def test_a_node_killed_during_writes_catches_up_after_restart(cluster: Cluster):
    stop = threading.Event()
    written: list[tuple[str, int]] = []

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 60:
            node = ["n1", "n2"][i % 2]
            status, payload = cluster.api(node, "POST", "/instances", body(f"during{i:02d}", vip=f"10.88.2.{1 + i}"))
            if status == 200:
                written.append((f"during{i:02d}", payload["version"]))
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.5)
    cluster.kill("n3")
    time.sleep(1.5)
    stop.set()
    t.join()
    assert written
    cluster.start("n3")
    poll("n3 caught up", lambda: all(visible_everywhere(cluster, n, v, ["n3"]) for n, v in written), 20, 0.3)
    cluster.wait_members("n1", {"n3": "alive"})
    poll("stores identical", lambda: cluster.converged(NODES), 15, 0.2)
    for name, _ in written:
        cluster.call("n3", "DELETE", f"/instances/{name}")
    poll("deletes everywhere", lambda: cluster.converged(NODES), 15, 0.2)


def test_partition_delete_on_one_side_modify_on_the_other_the_delete_wins(cluster: Cluster):
    created = cluster.call("n1", "POST", "/instances", body("split", vip="10.88.3.1"))
    poll("visible", lambda: visible_everywhere(cluster, "split", created["version"]), 10)
    cluster.partition(["n1"], ["n2", "n3"])
    try:
        cluster.wait_members("n2", {"n1": "dead"}, timeout=20)
        cluster.call("n1", "DELETE", "/instances/split")
        time.sleep(0.2)
        modified = cluster.call("n2", "PUT", "/instances", body("split", vip="10.88.3.1", port=9090))
        poll("modify on the majority side", lambda: visible_everywhere(cluster, "split", modified["version"], ["n2", "n3"]), 10)
        assert cluster.api("n1", "GET", "/instances/split")[0] == 404
    finally:
        cluster.heal()
    healed = time.monotonic()
    poll("converged after heal", lambda: cluster.converged(NODES), 15, 0.1)
    print(f"\npartition heal -> identical stores: {time.monotonic() - healed:.2f}s")
    assert gone_everywhere(cluster, "split")
    for n in NODES:
        cluster.wait_members(n, {m: "alive" for m in NODES}, timeout=20)
    # And it stays gone.
    time.sleep(2)
    assert gone_everywhere(cluster, "split")


def test_concurrent_claims_of_one_vip_port_end_in_one_owner_everywhere(cluster: Cluster):
    cluster.partition(["n1"], ["n2", "n3"])
    try:
        cluster.wait_members("n1", {"n2": "dead", "n3": "dead"}, timeout=20)
        first = cluster.call("n1", "POST", "/instances", body("claim-a", vip="10.88.4.1", port=80))
        time.sleep(0.05)
        second = cluster.call("n2", "POST", "/instances", body("claim-b", vip="10.88.4.1", port=80))
    finally:
        cluster.heal()
    poll("converged", lambda: cluster.converged(NODES), 15, 0.1)
    for n in NODES:
        b = cluster.call(n, "GET", "/instances/claim-b")
        a = cluster.call(n, "GET", "/instances/claim-a")
        # claim-a was created first: it owns 10.88.4.1:80 on every node; claim-b reports why it is not served.
        assert b["nodes"][n]["state"] == "down", b["nodes"][n]
        assert "claim-a" in b["nodes"][n]["message"]
        assert a["nodes"][n]["state"] != "down" or "claim" not in (a["nodes"][n].get("message") or "")
    # The loser takes over when the owner goes.
    cluster.call("n3", "DELETE", "/instances/claim-a")
    poll("claim-b unblocked", lambda: all(
        "claim-a" not in (cluster.call(n, "GET", "/instances/claim-b")["nodes"][n].get("message") or "") for n in NODES), 10)
    cluster.call("n3", "DELETE", "/instances/claim-b")
    assert first["version"] != second["version"]


def test_a_node_with_the_wrong_key_is_refused(cluster: Cluster):
    cluster.start("n4", seeds=["n1"], key=new_key())
    try:
        created = cluster.call("n4", "POST", "/instances", body("intruder", vip="10.88.5.1"))
        assert created["version"] > 0
        time.sleep(3)
        for n in NODES:
            assert "n4" not in cluster.members(n)
            assert cluster.api(n, "GET", "/instances/intruder")[0] == 404
        assert cluster.members("n4") == {"n4": "alive"}
        assert "rejected a gossip frame" in cluster.log("n1")
    finally:
        cluster.kill("n4")
        shutil.rmtree(cluster.data_dir("n4"), ignore_errors=True)


def test_a_database_from_the_previous_release_upgrades_and_joins(cluster: Cluster):
    fixture = REPO_ROOT / "Tests" / "FlexLBServerTests" / "Fixtures" / "flexlb-0.5.0-dev.db"
    data = cluster.data_dir("n4")
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(mode=0o700)
    shutil.copy(fixture, data / "flexlb.db")
    cluster.start("n4", seeds=["n1"])
    try:
        poll("upgraded records everywhere", lambda: all(
            sorted(k for k in cluster.listing(n) if k in ("web", "api")) == ["api", "web"] for n in NODES + ["n4"]), 20)
        assert cluster.call("n2", "GET", "/instances/api")["desired_state"] == "stopped"
        assert cluster.api("n2", "GET", "/instances/gone")[0] == 404
        for name in ("web", "api"):
            cluster.call("n1", "DELETE", f"/instances/{name}")
        poll("deleted on the upgraded node too", lambda: gone_everywhere(cluster, "web", NODES + ["n4"]), 10)
    finally:
        cluster.kill("n4", signal.SIGTERM)
    # n4 left gracefully: the others say so rather than declaring it dead.
    poll("n4 left", lambda: cluster.members("n1").get("n4") == "left", 10)
