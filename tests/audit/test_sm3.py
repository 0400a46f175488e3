"""SM3 as a second digest on the audit and history chains: every new row carries SM3 over exactly the bytes
its SHA-256 is taken over; `duban audit verify` checks both and names a row whose SM3 was changed (its
SHA-256 left valid) or removed; where SM3 is not available rows are written and checked by SHA-256 only,
and it says so; the migration gives the rows already there their SM3 and leaves the tables append-only."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from duban.archive.dossier import HAS_SM3
from duban.audit import chain, history, service
from duban.audit.chain import GENESIS
from duban.audit.models import AuditEntry
from duban.db.base import UTCDateTime
from duban.db.database import Database
from duban.db.migrate import downgrade_tenant, upgrade_tenant
from duban.items.models import HistoryEntry
from duban.items.repository import ItemRepository
from duban.settings import Settings
from helpers import login, plan, run_duban

REPO = Path(__file__).resolve().parents[2]
needs_sm3 = pytest.mark.skipif(not HAS_SM3, reason="this OpenSSL has no SM3")

# chain name -> (model, the fields its digests are taken over, verify)
CHAINS = {
    "audit": (AuditEntry, service.fields, lambda session: service.verify(session, "city")),
    "history": (HistoryEntry, history.fields, history.verify),
}


def _payload(row, fields) -> bytes:
    """The bytes of one link, made here again: the previous hash and the fields as canonical JSON."""
    return (row.prev_hash + json.dumps(fields(row), ensure_ascii=False, separators=(",", ":"))).encode()


async def _rows(db: Database, name: str) -> list:
    model = CHAINS[name][0]
    async with db.transaction("city") as session:
        return list(await session.scalars(select(model).order_by(model.seq)))


async def _verify(db: Database, name: str):
    async with db.transaction("city") as session:
        return await CHAINS[name][2](session)


async def _sql(db: Database, *statements: str) -> None:
    """What someone with a database console could do."""
    async with db.migration_connection("city") as conn:
        for statement in statements:
            await conn.execute(text(statement))


def _lift_append_only(db: Database, table: str) -> tuple[str, ...]:
    if db.is_sqlite:
        return (f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete")
    return (f"DROP TRIGGER {table}_append_only ON {table}",)


async def _refuses_update_and_delete(db: Database, table: str) -> None:
    for statement in (f"UPDATE {table} SET sm3 = NULL", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            await _sql(db, statement)


async def _cli(settings) -> subprocess.CompletedProcess:
    return await run_duban(settings, "audit", "verify", "city")


async def _two_items(client) -> None:
    inspector = await login(client, "city", "inspector")
    for n in range(2):
        r = await client.post("/api/items", json=plan(title=f"事项{n}"), headers=inspector)
        assert r.status_code == 201, r.text
        r = await client.post(f"/api/items/{r.json()['id']}/submit", headers=inspector)
        assert r.status_code == 200, r.text


@needs_sm3
async def test_new_rows_carry_sm3_over_the_bytes_of_their_sha256(client, platform, settings):
    await _two_items(client)
    for name, (_, fields, _) in CHAINS.items():
        rows = await _rows(platform.db, name)
        assert len(rows) >= 4, name
        for row in rows:
            data = _payload(row, fields)
            assert hashlib.sha256(data).hexdigest() == row.hash
            assert hashlib.new("sm3", data).hexdigest() == row.sm3, f"{name} row {row.seq}"
        verdict = await _verify(platform.db, name)
        assert verdict.ok and verdict.checked == "checked by SHA-256 and SM3", (name, verdict)
    cli = await _cli(settings)
    assert cli.returncode == 0, cli.stderr
    assert "audit chain whole, 5 rows, checked by SHA-256 and SM3" in cli.stdout  # a login and four writes
    assert "history chain whole, 4 rows, checked by SHA-256 and SM3" in cli.stdout


@needs_sm3
@pytest.mark.parametrize("name", ["audit", "history"])
async def test_an_sm3_changed_or_removed_is_named(client, platform, settings, name):
    await _two_items(client)
    db = platform.db
    rows = await _rows(db, name)
    assert len(rows) >= 4 and (await _verify(db, name)).ok
    await _sql(db, *_lift_append_only(db, name))

    # SM3 replaced by the SM3 of something else: the SHA-256 still holds, the SM3 does not.
    forged = hashlib.new("sm3", b"something else").hexdigest()
    await _sql(db, f"UPDATE {name} SET sm3 = '{forged}' WHERE seq = 3")
    verdict = await _verify(db, name)
    assert verdict.problem == "row 3: its SM3 digest does not match", verdict
    cli = await _cli(settings)
    assert cli.returncode == 1 and f"{name} chain BROKEN: row 3: its SM3 digest does not match" in cli.stderr

    await _sql(db, f"UPDATE {name} SET sm3 = NULL WHERE seq = 3")
    assert (await _verify(db, name)).problem == "row 3: its SM3 digest is missing"
    cli = await _cli(settings)
    assert cli.returncode == 1 and f"{name} chain BROKEN: row 3: its SM3 digest is missing" in cli.stderr

    await _sql(db, f"UPDATE {name} SET sm3 = '{rows[2].sm3}' WHERE seq = 3")  # put back
    assert (await _verify(db, name)).ok
    await _sql(db, f"UPDATE {name} SET sm3 = NULL WHERE seq = {rows[-1].seq}")  # the last row too
    assert (await _verify(db, name)).problem == f"row {rows[-1].seq}: its SM3 digest is missing"
    # A row changed outright is still named by its SHA-256 first.
    await _sql(db, f"UPDATE {name} SET actor = 'city/nobody' WHERE seq = 2")
    assert (await _verify(db, name)).problem == "row 2 was changed after it was written"


async def test_without_sm3_rows_are_checked_by_sha256_only_and_say_so(client, platform, monkeypatch):
    db = platform.db
    monkeypatch.setattr(chain, "HAS_SM3", False)
    await _two_items(client)
    for name in CHAINS:
        rows = await _rows(db, name)
        assert rows and all(r.sm3 is None for r in rows), name
        verdict = await _verify(db, name)
        assert verdict.ok and verdict.checked == "checked by SHA-256 only (SM3 is not available here)"
    if not HAS_SM3:
        return

    # The same rows read where SM3 is available: none has one, which is no break ...
    monkeypatch.setattr(chain, "HAS_SM3", True)
    before = {name: len(await _rows(db, name)) for name in CHAINS}
    for name in CHAINS:
        verdict = await _verify(db, name)
        assert verdict.ok and verdict.checked == "checked by SHA-256 only (no row has an SM3 digest)"
    # ... and rows written from here on carry SM3; from the first of them on, every row must have it.
    await _two_items(client)
    for name in CHAINS:
        rows = await _rows(db, name)
        first = before[name] + 1
        assert all(r.sm3 is None for r in rows[:first - 1]) and all(r.sm3 for r in rows[first - 1:])
        verdict = await _verify(db, name)
        assert verdict.ok, verdict
        assert verdict.checked == f"checked by SHA-256, and by SM3 from row {first} on (the rows before it have none)"
        await _sql(db, *_lift_append_only(db, name))
        await _sql(db, f"UPDATE {name} SET sm3 = NULL WHERE seq = {first + 1}")
        assert (await _verify(db, name)).problem == f"row {first + 1}: its SM3 digest is missing"


async def test_walk_without_sm3_ignores_the_column(monkeypatch):
    """Where SM3 is not available a stored SM3 cannot be checked, whatever it holds."""
    class Row:
        def __init__(self, seq: int, prev: str, sm3: str | None) -> None:
            self.seq, self.prev_hash, self.sm3 = seq, prev, sm3
            self.hash = chain.link(prev, [seq])

    async def rows():
        prev = GENESIS
        for seq, sm3 in ((1, "x" * 64), (2, None)):
            row = Row(seq, prev, sm3)
            prev = row.hash
            yield row

    async def last() -> int:
        return 2

    monkeypatch.setattr(chain, "HAS_SM3", False)
    verdict = await chain.walk(rows(), lambda r: [r.seq], last)
    assert verdict.ok and verdict.rows == 2 and "SHA-256 only" in verdict.checked
    if HAS_SM3:
        monkeypatch.setattr(chain, "HAS_SM3", True)
        assert (await chain.walk(rows(), lambda r: [r.seq], last)).problem == "row 1: its SM3 digest does not match"


@needs_sm3
async def test_the_migration_gives_existing_rows_their_sm3(tmp_path: Path, database_url: str):
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        tenants_file=REPO / "tenants" / "huaian.toml", policies_dir=REPO / "policies",
                        hosted_tenants=("city",))
    db = Database(settings, ["city"])
    try:
        await upgrade_tenant(db, "city", "0016")
        for n in range(3):  # history rows from before the chain; 0017 chains them
            await _sql(db, "INSERT INTO history (item_ref, action, from_state, to_state, actor, note, at) VALUES "
                           f"('city/old', 'update', 'draft', 'draft', 'city/zhang_san', '旧{n}', "
                           f"'2026-10-0{n + 1} 08:00:00.123456')")
        await upgrade_tenant(db, "city", "0017")
        audit = sa.table("audit", *(sa.column(c) for c in ("seq", "actor", "action", "target", "detail",
                                                          "prev_hash", "hash")), sa.column("at", UTCDateTime()))
        prev, start = GENESIS, datetime(2026, 10, 1, 8, 0, 0, 123456, tzinfo=UTC)
        async with db.migration_connection("city") as conn:  # audit rows as 0017's platform wrote them
            for seq in (1, 2, 3):
                row = {"seq": seq, "at": start + timedelta(minutes=seq), "actor": "city/zhang_san", "action": "write",
                       "target": "POST /api/items", "detail": f"旧{seq}"}
                row["prev_hash"], row["hash"] = prev, service.digest(prev, SimpleNamespace(**row))
                prev = row["hash"]
                await conn.execute(audit.insert().values(**row))
            await conn.execute(text("INSERT INTO counters (key, value) VALUES ('audit', 3)"))

        await upgrade_tenant(db, "city", "head")
        for name, (_, fields, _) in CHAINS.items():
            rows = await _rows(db, name)
            assert [r.seq for r in rows] == [1, 2, 3], name
            for row in rows:
                assert hashlib.new("sm3", _payload(row, fields)).hexdigest() == row.sm3, f"{name} row {row.seq}"
            verdict = await _verify(db, name)
            assert verdict.ok and verdict.checked == "checked by SHA-256 and SM3", (name, verdict)
            await _refuses_update_and_delete(db, name)  # the triggers lifted for the backfill are back

        async with db.transaction("city") as session:  # new rows go on from there, numbered at commit
            ItemRepository(session, "city").record("city/new", "create", "city/zhang_san", None, "draft")
            await service.record(session, "city", "city/zhang_san", "write", "POST /api/items", datetime.now(UTC))
        for name in CHAINS:
            rows = await _rows(db, name)
            assert rows[-1].seq == 4 and rows[-1].prev_hash == rows[2].hash and rows[-1].sm3, name
            assert (await _verify(db, name)).ok, name
        async with db.migration_connection("city") as conn:
            head = (await conn.execute(text("SELECT seq, hash FROM history_head"))).one()
        assert tuple(head) == (4, (await _rows(db, "history"))[-1].hash)

        # Down again: the columns go, the tables stay append-only and the head still follows new rows.
        await downgrade_tenant(db, "city", "0017")
        for name in CHAINS:
            with pytest.raises(DBAPIError):
                await _sql(db, f"SELECT sm3 FROM {name}")
            for statement in (f"UPDATE {name} SET actor = 'x'", f"DELETE FROM {name}"):
                with pytest.raises(DBAPIError, match="append-only"):
                    await _sql(db, statement)
        await _sql(db, "UPDATE history_head SET seq = seq + 1",
                   "INSERT INTO history (item_ref, action, actor, at, seq, prev_hash, hash) VALUES ('city/x', "
                   f"'create', 'city/zhang_san', '2026-11-01 08:00:00', 5, '{head.hash}', '{'e' * 64}')")
        async with db.migration_connection("city") as conn:
            assert (await conn.execute(text("SELECT seq, hash FROM history_head"))).one() == (5, "e" * 64)
        await upgrade_tenant(db, "city", "head")  # and up once more
        for name in CHAINS:
            await _refuses_update_and_delete(db, name)
        rows = await _rows(db, "history")
        assert rows[-1].seq == 5 and rows[-1].sm3  # backfilled like the rest
    finally:
        await db.dispose()
