"""The audit log's hash chain: intact logs verify; altered, removed, reordered or cut logs name the record."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from access import audit
from access.audit import AuditRecord, Event
from catalog import db


def _event(n: int, **extra: object) -> Event:
    values: dict = {
        "action": "records",
        "client_id": f"c{n % 3}",
        "client": f"app-{n % 3}",
        "organization": "区网格中心",
        "dataset": "population.residents" if n % 2 else "spatial.grids",
        "rows": n,
        "fields": ["id_number", "street_code"],
        "clear_fields": ["street_code"],
        "version": 1,
        "request_id": f"req-{n}",
        "query": f"limit=100&n={n}",
    }
    return Event(**(values | extra))


def _fill(url: str, key: Path, n: int) -> None:
    for i in range(1, n + 1):
        with db.session(url) as s:
            audit.append(s, _event(i), key)


def _verify(url: str, key: Path) -> audit.Verdict:
    with db.session(url) as s:
        return audit.verify(s, key)


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return tmp_path / "audit.key"


def test_an_intact_chain_verifies_with_its_anchors(database_url: str, key: Path) -> None:
    _fill(database_url, key, 230)
    verdict = _verify(database_url, key)
    assert verdict.ok and verdict.records == 230 and verdict.anchors == 2, verdict
    assert key.stat().st_mode & 0o077 == 0
    with db.session(database_url) as s:
        first = s.get(AuditRecord, 1)
        assert first is not None and first.prev_hash == audit.GENESIS
        assert first.query_hash and "limit" not in first.query_hash  # the query is kept as its hash only


TAMPERING = {
    "altered rows": lambda s: s.execute(update(AuditRecord).where(AuditRecord.seq == 57).values(rows=10_000)),
    "altered client": lambda s: s.execute(update(AuditRecord).where(AuditRecord.seq == 57).values(client="nobody")),
    "removed": lambda s: s.execute(delete(AuditRecord).where(AuditRecord.seq == 57)),
    "swapped": lambda s: _swap(s, 57, 58),
}


def _swap(s: object, a: int, b: int) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    ra, rb = s.get(AuditRecord, a), s.get(AuditRecord, b)
    assert ra is not None and rb is not None
    values = [{c: getattr(r, c) for c in audit.content(r) if c != "seq"} | {"hash": r.hash} for r in (ra, rb)]
    s.execute(update(AuditRecord).where(AuditRecord.seq == a).values(**values[1]))
    s.execute(update(AuditRecord).where(AuditRecord.seq == b).values(**values[0]))


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_found_and_named(database_url: str, key: Path, how: str) -> None:
    _fill(database_url, key, 120)
    with db.session(database_url) as s:
        TAMPERING[how](s)
    verdict = _verify(database_url, key)
    assert not verdict.ok and verdict.broken_at == 57, verdict
    assert "57" in str(verdict)


def test_a_rewritten_history_fails_at_the_signed_anchor(database_url: str, key: Path) -> None:
    """A database writer may recompute every plain hash after an edit; the anchor's HMAC still fails."""
    _fill(database_url, key, 120)
    with db.session(database_url) as s:
        rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        rows[10].rows = 0
        prev = rows[9].hash
        for row in rows[10:]:
            row.prev_hash = prev
            row.hash = audit.digest(row)
            prev = row.hash
        s.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    verdict = _verify(database_url, key)
    assert not verdict.ok and verdict.broken_at == 100 and "anchor" in verdict.reason


def test_a_cut_tail_is_found(database_url: str, key: Path) -> None:
    _fill(database_url, key, 130)
    with db.session(database_url) as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq > 95))
        s.execute(text("UPDATE audit_head SET seq = 95, hash = (SELECT hash FROM audit_log WHERE seq = 95)"))
    verdict = _verify(database_url, key)
    assert not verdict.ok and "anchor at 100" in verdict.reason


def test_a_wrong_key_fails_verification(database_url: str, key: Path, tmp_path: Path) -> None:
    _fill(database_url, key, 100)
    other = tmp_path / "other.key"
    other.write_text("ab" * 32, encoding="ascii")
    assert not _verify(database_url, other).ok


def test_concurrent_writers_keep_one_chain(database_url: str, key: Path) -> None:
    with db.session(database_url) as s:
        audit.append(s, _event(0), key)  # creates the key file before the threads race

    def writer(n: int) -> None:
        for i in range(25):
            with db.session(database_url) as s:
                audit.append(s, _event(n * 100 + i), key)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = _verify(database_url, key)
    assert verdict.ok and verdict.records == 101, verdict


def test_records_filter_by_client_dataset_and_own_datasets(database_url: str, key: Path) -> None:
    _fill(database_url, key, 12)
    with db.session(database_url) as s:
        assert {r.client for r in audit.records(s, client="app-1")} == {"app-1"}
        assert {r.dataset for r in audit.records(s, dataset="spatial.grids")} == {"spatial.grids"}
        mine = audit.records(s, datasets=["population.residents"])
        assert len(mine) == 6 and [r.seq for r in mine] == sorted((r.seq for r in mine), reverse=True)


def test_group_commit_writes_callers_queued_meanwhile_in_one_transaction(database_url: str, key: Path) -> None:
    """While one batch is being written, callers queue; the next holder writes them all at once, each
    caller returns its own sequence number only after the commit, and the chain verifies."""
    from sqlalchemy import event

    from hub.settings import Settings

    settings = Settings(home=key.parent, database_url=database_url)
    group = audit.GroupCommit.of(database_url)
    commits: list[int] = []
    event.listen(db.engine(database_url), "commit", lambda _conn: commits.append(1))
    seqs: dict[int, int] = {}

    def caller(n: int) -> None:
        with db.session(database_url) as s:
            seqs[n] = audit.write(s, settings, _event(n))

    with group._writer:  # a batch "in progress": every caller below queues behind it
        threads = [threading.Thread(target=caller, args=(n,)) for n in range(12)]
        for t in threads:
            t.start()
        for _ in range(1_000):
            if len(group._queue) == 12:
                break
            threading.Event().wait(0.01)
        assert len(group._queue) == 12, "the callers queue behind the batch being written"
        before = len(commits)
    for t in threads:
        t.join()
    assert sorted(seqs.values()) == list(range(1, 13)), "every caller got its own record"
    audit_commits = len(commits) - before - 12  # each caller's own (empty) session commits once too
    assert audit_commits <= 2, f"12 queued records took {audit_commits} audit transactions"
    with db.session(database_url) as s:
        by_seq = {r.seq: r.request_id for r in s.scalars(select(AuditRecord))}
    assert all(by_seq[seq] == f"req-{n}" for n, seq in seqs.items())
    assert _verify(database_url, key).ok


def test_a_failed_batch_fails_every_caller_in_it(database_url: str, key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.settings import Settings

    settings = Settings(home=key.parent, database_url=database_url)
    with db.session(database_url) as s:
        audit.write(s, settings, _event(0))

    def broken(*_args: object) -> list[AuditRecord]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "append_all", broken)
    with pytest.raises(RuntimeError, match="disk full"), db.session(database_url) as s:
        audit.write(s, settings, _event(1))
    monkeypatch.undo()
    with db.session(database_url) as s:
        assert audit.write(s, settings, _event(2)) == 2, "nothing of the failed batch was kept"
    assert _verify(database_url, key).ok


def test_awaited_records_from_one_loop_are_written_as_one_batch_beside_threads(database_url: str, key: Path) -> None:
    """Tasks on the API's loop await their records (the loop is never blocked on the commit): those
    queued while a batch is written go in one transaction, interleaved with callers in threads on
    the same chain, and each task gets its own record's number only once it is committed."""
    import asyncio

    from sqlalchemy import event

    from hub.settings import Settings

    settings = Settings(home=key.parent, database_url=database_url)
    db.migrate(database_url)
    inserts: list[int] = []
    event.listen(
        db.engine(database_url),
        "before_cursor_execute",
        lambda _c, _cur, stmt, params, _ctx, many: (
            inserts.append(len(params) if many else 1) if stmt.startswith("INSERT INTO audit_log") else None
        ),
    )

    def in_thread(n: int) -> int:
        with db.session(database_url) as s:
            return audit.write(s, settings, _event(n))

    async def on_loop(n: int) -> int:
        async with db.served_session(database_url) as s:
            return await audit.write_async(s, settings, _event(n))

    async def main() -> tuple[list[int], list[int]]:
        threads = [asyncio.to_thread(in_thread, 100 + n) for n in range(4)]
        return await asyncio.gather(*(on_loop(n) for n in range(20))), await asyncio.gather(*threads)

    awaited, threaded = asyncio.run(main())
    assert sorted(awaited + threaded) == list(range(1, 25)), "every caller got its own record"
    assert max(inserts) >= 15 and len(inserts) <= 8, f"the awaited records were written in batches: {inserts}"
    with db.session(database_url) as s:
        by_seq = {r.seq: r.request_id for r in s.scalars(select(AuditRecord))}
    assert [by_seq[seq] for seq in awaited] == [f"req-{n}" for n in range(20)]
    assert _verify(database_url, key).ok


def test_a_failed_awaited_batch_fails_every_task_in_it_and_the_next_batch_is_written(
    database_url: str, key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from hub.settings import Settings

    settings = Settings(home=key.parent, database_url=database_url)
    db.migrate(database_url)

    async def write(n: int) -> int:
        async with db.served_session(database_url) as s:
            return await audit.write_async(s, settings, _event(n))

    def broken(*_args: object) -> list[AuditRecord]:
        raise RuntimeError("disk full")

    async def main() -> list[int | BaseException]:
        with monkeypatch.context() as m:
            m.setattr(audit, "append_all", broken)
            failed = await asyncio.gather(*(write(n) for n in range(5)), return_exceptions=True)
        assert all(isinstance(e, RuntimeError) and "disk full" in str(e) for e in failed), failed
        return await asyncio.gather(*(write(n) for n in range(5, 8)), return_exceptions=True)

    assert sorted(asyncio.run(main())) == [1, 2, 3], "nothing of the failed batch was kept; the next one was written"
    assert _verify(database_url, key).ok


def test_anchoring_now_signs_the_head_once(database_url: str, key: Path) -> None:
    with db.session(database_url) as s:
        assert audit.anchor(s, key) is None, "an empty log has nothing to sign"
    _fill(database_url, key, 3)
    with db.session(database_url) as s:
        made = audit.anchor(s, key)
        assert made is not None and made.seq == 3
        assert made.hash == s.get(AuditRecord, 3).hash  # type: ignore[union-attr]
    with db.session(database_url) as s:
        assert audit.anchor(s, key) is None, "the head is already anchored"
    verdict = _verify(database_url, key)
    assert verdict.ok and verdict.anchors == 1, verdict
