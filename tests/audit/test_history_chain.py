"""The items' history is chained like the audit log: every row numbered without gaps and hashed onto the
one before, the table refuses UPDATE and DELETE, two transitions at once never fork the chain, rows from
before the chain are chained by the migration, and `duban audit verify` names the first row changed,
removed (in the middle or at the end) or inserted behind the platform's back."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from sqlalchemy import select, text

from duban.audit.chain import GENESIS
from duban.audit.history import digest, verify
from duban.db.database import Database
from duban.db.migrate import upgrade_tenant
from duban.items.models import HistoryEntry
from duban.items.repository import ItemRepository
from duban.settings import Settings
from helpers import login, plan, run_duban

REPO = Path(__file__).resolve().parents[2]


async def _rows(db: Database, tenant: str = "city") -> list[HistoryEntry]:
    async with db.transaction(tenant) as session:
        return list(await session.scalars(select(HistoryEntry).order_by(HistoryEntry.seq)))


async def _verify(db: Database, tenant: str = "city"):
    async with db.transaction(tenant) as session:
        return await verify(session)


async def _sql(db: Database, *statements: str) -> None:
    """What someone with a database console could do."""
    async with db.migration_connection("city") as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def _cli(settings) -> subprocess.CompletedProcess:
    return await run_duban(settings, "audit", "verify", "city")


async def _walk_an_item(client) -> str:
    inspector = await login(client, "city", "inspector")
    r = await client.post("/api/items", json=plan(), headers=inspector)
    assert r.status_code == 201, r.text
    item_id = r.json()["id"]
    r = await client.post(f"/api/items/{item_id}/submit", headers=inspector)
    assert r.status_code == 200, r.text
    return item_id


async def test_transitions_write_chained_rows(client, platform, settings):
    await _walk_an_item(client)
    rows = await _rows(platform.db)
    assert [r.action for r in rows] == ["create", "submit"]
    assert [r.seq for r in rows] == [1, 2]
    assert rows[0].prev_hash == GENESIS and rows[1].prev_hash == rows[0].hash
    assert all(r.hash == digest(r.prev_hash, r) for r in rows)
    assert (await _verify(platform.db)).ok
    cli = await _cli(settings)
    assert cli.returncode == 0 and "history chain whole, 2 rows" in cli.stdout, cli.stderr


async def test_the_history_names_the_first_broken_link(client, platform, settings):
    for _ in range(2):
        await _walk_an_item(client)
    db = platform.db
    assert [r.seq for r in await _rows(db)] == [1, 2, 3, 4] and (await _verify(db)).ok
    try:  # the platform itself refuses to change it
        await _sql(db, "UPDATE history SET note = 'x' WHERE seq = 2")
        raise AssertionError("the history took an UPDATE")
    except Exception as exc:  # noqa: BLE001 — either driver's error, naming the trigger's message
        assert "append-only" in str(exc)

    await _sql(db, *(("DROP TRIGGER history_no_update", "DROP TRIGGER history_no_delete") if db.is_sqlite
                     else ("DROP TRIGGER history_append_only ON history",)))
    await _sql(db, "UPDATE history SET actor = 'city/nobody' WHERE seq = 3")
    verdict = await _verify(db)
    assert not verdict.ok and verdict.problem == "row 3 was changed after it was written"
    cli = await _cli(settings)
    assert cli.returncode == 1 and "history chain BROKEN: row 3 was changed" in cli.stderr
    assert "audit chain whole" in cli.stdout  # the audit log is untouched

    await _sql(db, "UPDATE history SET actor = 'city/inspector' WHERE seq = 3")  # put back
    assert (await _verify(db)).ok
    await _sql(db, "DELETE FROM history WHERE seq = 4")
    assert (await _verify(db)).problem == "rows 4–4 are missing: removed from the end"
    await _sql(db, "DELETE FROM history WHERE seq = 2")
    assert (await _verify(db)).problem == "row 2 is missing (the next one is 3): removed"
    # A row made up to fill the hole, even one copied from a real row, does not follow its predecessor.
    await _sql(db, "INSERT INTO history (item_ref, assignment_id, action, from_state, to_state, actor, note, at, "
                   "seq, prev_hash, hash) SELECT item_ref, assignment_id, action, from_state, to_state, actor, "
                   "note, at, 2, prev_hash, hash FROM history WHERE seq = 3")
    assert (await _verify(db)).problem == "row 2 does not follow row 1: inserted or replaced"
    cli = await _cli(settings)
    assert cli.returncode == 1 and "row 2 does not follow row 1" in cli.stderr


async def test_concurrent_transitions_do_not_fork_the_chain(platform):
    """Eight transactions append two rows each at once; on PostgreSQL they overlap for real (each waits
    on the head row's lock while another holds it), yet the rows are numbered 1–16 in one chain."""
    db = platform.db
    started = asyncio.Event()
    holders = 0

    async def transition(n: int) -> None:
        nonlocal holders
        async with db.transaction("city") as session:
            repo = ItemRepository(session, "city")
            repo.record(f"city/item-{n}", "update", "city/inspector", "draft", "draft", note="一")
            repo.record(f"city/item-{n}", "submit", "city/inspector", "draft", "pending_approval", note="二")
            holders += 1
            if holders == 8:
                started.set()
            await started.wait()  # every transaction is open before any of them flushes
            await session.flush()

    await asyncio.gather(*(transition(n) for n in range(8)))
    rows = await _rows(db)
    assert [r.seq for r in rows] == list(range(1, 17))
    assert len({r.prev_hash for r in rows}) == 16  # no two rows chained onto the same one
    # each transaction's two rows are consecutive: it held the chain's end from its flush to its commit
    assert all(rows[i].item_ref == rows[i + 1].item_ref for i in range(0, 16, 2))
    assert (await _verify(db)).ok


async def test_the_migration_chains_the_rows_already_there(tmp_path: Path, database_url: str):
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        tenants_file=REPO / "tenants" / "huaian.toml", policies_dir=REPO / "policies",
                        hosted_tenants=("city",))
    db = Database(settings, ["city"])
    try:
        await upgrade_tenant(db, "city", "0016")
        for n in range(3):
            await _sql(db, "INSERT INTO history (item_ref, action, from_state, to_state, actor, note, at) VALUES "
                           f"('city/old', 'update', 'draft', 'draft', 'city/zhang_san', '旧{n}', "
                           f"'2026-10-0{n + 1} 08:00:00.123456')")
        await upgrade_tenant(db, "city", "head")
        rows = await _rows(db)
        assert [(r.seq, r.note) for r in rows] == [(1, "旧0"), (2, "旧1"), (3, "旧2")]
        assert (await _verify(db)).ok
        async with db.transaction("city") as session:  # new rows go on from there
            ItemRepository(session, "city").record("city/new", "create", "city/zhang_san", None, "draft")
        rows = await _rows(db)
        assert rows[-1].seq == 4 and rows[-1].prev_hash == rows[2].hash and (await _verify(db)).ok
    finally:
        await db.dispose()


async def test_a_savepoint_rolled_back_takes_its_rows_and_reads_see_the_transactions_own(platform):
    """Rows are numbered at commit; those recorded in a savepoint that was rolled back (an event whose
    handler failed) are not, and the history read inside the writing transaction already has its rows."""
    db = platform.db
    async with db.transaction("city") as session:
        repo = ItemRepository(session, "city")
        repo.record("city/x", "create", "city/inspector", None, "draft", note="A")
        await session.flush()
        try:
            async with session.begin_nested():
                repo.record("city/x", "update", "city/inspector", "draft", "draft", note="B")
                await session.flush()
                raise RuntimeError("the handler failed")
        except RuntimeError:
            pass
        async with session.begin_nested():  # a savepoint that holds
            repo.record("city/x", "update", "city/inspector", "draft", "draft", note="C")
        assert [h.note for h in await repo.history("city/x")] == ["A", "C"]
        repo.record("city/x", "submit", "city/inspector", "draft", "pending_approval", note="D")
    async with db.transaction("city") as session:
        repo = ItemRepository(session, "city")
        repo.record("city/x", "update", "city/inspector", "draft", "draft", note="rolled back")
        await session.flush()
        await session.rollback()
    rows = await _rows(db)
    assert [(r.seq, r.note) for r in rows] == [(1, "A"), (2, "C"), (3, "D")]
    assert (await _verify(db)).ok
