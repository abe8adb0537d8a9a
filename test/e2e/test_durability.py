"""Acknowledged = durable: SIGKILL right after the last acknowledgement loses nothing.

Also: concurrent If-Match writers on one instance never lose an acknowledged write.
"""

from __future__ import annotations

import sqlite3
import threading

from e2e_support import template_body

N = 200


def _vip(i: int) -> str:
    return f"127.{100 + i // 250}.{i % 250}.1"


def _integrity(db) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def test_acknowledged_writes_survive_sigkill(fresh_server, fresh_api):
    srv, api = fresh_server, fresh_api
    expected: dict[str, dict] = {}
    deleted: set[str] = set()
    for i in range(N):
        name = f"dur-{i:03d}"
        body = template_body(name, vip=_vip(i), port=8000 + i % 50)
        r = api.create(body, expect=200)
        expected[name] = r.json()
        if i % 10 == 3:  # modify some right after creating them
            body["endpoints"][0]["backend_servers"][0]["port"] = 31000 + i
            m = api.modify(body, if_match=r.headers["ETag"], expect=200)
            expected[name] = m.json()
        if i % 17 == 5:  # delete some
            api.delete(name, expect=200)
            deleted.add(name)
            expected.pop(name)
        if i % 23 == 7 and name in expected:
            expected[name] = api.stop(name, expect=200).json()
    # the last acknowledged write is a create; kill -9 right after its 200
    last = api.create(template_body("dur-last", vip="127.199.0.1"), expect=200)
    expected["dur-last"] = last.json()
    srv.kill9()
    srv.port = __import__("conftest").free_port()  # see Server.restart: port reuse is tested elsewhere
    srv.start()
    after = {i["config"]["name"]: i for i in api.list()}
    lost = sorted(set(expected) - set(after))
    assert not lost, f"{len(lost)} acknowledged instances lost after SIGKILL: {lost[:10]}"
    resurrected = sorted(deleted & set(after))
    assert not resurrected, f"deleted instances came back: {resurrected}"
    assert set(after) == set(expected), f"unexpected instances: {sorted(set(after) - set(expected))[:10]}"
    for name, inst in expected.items():
        got = after[name]
        assert got["config"] == inst["config"], f"{name}: config differs after restart"
        assert got["id"] == inst["id"], f"{name}: id changed across restart"
        assert got.get("desired_state") == inst.get("desired_state"), name
        if "version" in inst:
            assert got["version"] == inst["version"], name
    # ETags are stable across a restart (they derive from the stored version)
    g = api.get("dur-last", expect=200)
    assert g.headers["ETag"] == last.headers["ETag"]
    assert _integrity(srv.db_path) == "ok"
    # and the store still takes writes
    api.create(template_body("dur-after", vip="127.199.0.2"), expect=200)
    code = srv.stop()
    assert code == 0, f"SIGTERM exit code {code}"
    assert _integrity(srv.db_path) == "ok"


def test_graceful_restart_keeps_everything(fresh_server, fresh_api):
    srv, api = fresh_server, fresh_api
    for i in range(20):
        api.create(template_body(f"gr-{i}", vip=f"127.50.0.{i + 1}"), expect=200)
    before = api.list()
    srv.restart(new_port=True)
    after = api.list()
    keys = ("config", "id", "desired_state", "version", "last_modified")
    assert [{k: i.get(k) for k in keys} for i in after] == [{k: i.get(k) for k in keys} for i in before]


def test_concurrent_if_match_writers_lose_nothing(fresh_server, fresh_api):
    api = fresh_api
    name = "contended"
    created = api.create(template_body(name, vip="127.60.0.1"), expect=200)
    start_version = created.json().get("version", 1)
    THREADS, ATTEMPTS = 8, 25
    successes: list[tuple[int, str, dict]] = []
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(t: int) -> None:
        session = api.new_session()
        try:
            barrier.wait(timeout=30)
            for k in range(ATTEMPTS):
                g = api.request("GET", f"/instances/{name}", session=session, expect=200)
                body = g.json()["config"]
                body["endpoints"][0]["backend_servers"][0]["port"] = 20000 + t * 100 + k
                r = api.request("PUT", "/instances", session=session, json=body,
                                headers={"If-Match": g.headers["ETag"]}, expect=(200, 412))
                with lock:
                    statuses.append(r.status_code)
                    if r.status_code == 200:
                        successes.append((r.json().get("version", 0), r.headers["ETag"], body, g.headers["ETag"]))
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(f"thread {t}: {e!r}")
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert not any(th.is_alive() for th in threads), "writers did not finish"
    assert not errors, errors
    ok = statuses.count(200)
    assert ok >= 1 and len(statuses) == THREADS * ATTEMPTS
    final = api.get(name, expect=200)
    inst = final.json()
    etags = [e for _, e, _, _ in successes]
    assert len(set(etags)) == len(etags), "two acknowledged writes got the same ETag (a lost update)"
    if "version" in inst:
        # Versions are hybrid-logical-clock stamps: strictly increasing, not consecutive. Every
        # acknowledged write was conditional on the one acknowledged just before it: a linear
        # chain from the create to the final state, so no acknowledged write was overwritten.
        chain = sorted(successes, key=lambda s: s[0])
        previous = f'"{start_version}"'
        for version, etag, _, if_match in chain:
            assert if_match == previous, f"write {etag} was conditional on {if_match}, not on {previous}"
            assert version > int(previous.strip('"'))
            previous = etag
        assert inst["version"] == chain[-1][0], f"final version {inst['version']} is not the last acknowledged write"
        assert final.headers["ETag"] == previous
    last = max(successes, key=lambda s: s[0]) if "version" in inst else None  # (version, etag, body, if_match)
    if last is not None:
        assert inst["config"] == last[2]
        assert final.headers["ETag"] == last[1]
