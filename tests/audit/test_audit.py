"""The audit log: every write, login (success and failure) and denial is recorded with who did it, and
a row changed, removed or inserted behind the platform's back is named by `duban audit verify`."""

from __future__ import annotations

import subprocess

from sqlalchemy import select, text

from duban.audit.models import AuditEntry
from duban.audit.service import verify
from helpers import login, plan, run_duban


async def _rows(platform, tenant: str = "city") -> list[AuditEntry]:
    async with platform.db.transaction(tenant) as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def _verify(platform, tenant: str = "city"):
    async with platform.db.transaction(tenant) as session:
        return await verify(session, tenant)


async def _sql(platform, *statements: str) -> None:
    """What someone with a database console could do (the append-only trigger removed first)."""
    async with platform.db.migration_connection("city") as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def _cli(settings) -> subprocess.CompletedProcess:
    return await run_duban(settings, "audit", "verify", "city")


async def test_writes_logins_and_denials_are_recorded_and_chained(client, platform, settings):
    r = await client.post("/api/login", json={"tenant": "city", "username": "inspector", "password": "wrong"})
    assert r.status_code == 401
    inspector = await login(client, "city", "inspector")
    r = await client.post("/api/items", json=plan(), headers=inspector)
    item_id = r.json()["id"]
    await client.get(f"/api/items/{item_id}", headers=inspector)  # a read: not a write
    r = await client.post(f"/api/items/{item_id}/approve", headers=inspector)  # not the inspector's to do
    assert r.status_code == 403
    rows = await _rows(platform)
    assert [(e.action, e.actor, e.target) for e in rows] == [
        ("login_failed", "city/inspector", "city/inspector"),
        ("login", "city/inspector", "city/inspector"),
        ("write", "city/inspector", "POST /api/items"),
        ("denied", "city/inspector", f"POST /api/items/{item_id}/approve"),
    ]
    assert [e.seq for e in rows] == [1, 2, 3, 4] and rows[3].detail
    assert (await _verify(platform)).ok
    cli = await _cli(settings)
    assert cli.returncode == 0 and "whole, 4 rows" in cli.stdout, cli.stderr


async def test_the_log_refuses_changes_and_names_the_first_broken_link(client, platform, settings):
    inspector = await login(client, "city", "inspector")
    for n in range(3):
        await client.post("/api/items", json=plan(title=f"事项{n}"), headers=inspector)
    assert len(await _rows(platform)) == 4 and (await _verify(platform)).ok
    # The platform itself refuses to change it.
    try:
        await _sql(platform, "UPDATE audit SET actor = 'city/nobody' WHERE seq = 2")
        raise AssertionError("the audit log took an UPDATE")
    except Exception as exc:  # noqa: BLE001 — either driver's error, naming the trigger's message
        assert "append-only" in str(exc)

    drop = ("DROP TRIGGER audit_no_update" if platform.db.is_sqlite else "DROP TRIGGER audit_append_only ON audit",
            "DROP TRIGGER audit_no_delete" if platform.db.is_sqlite else "SELECT 1")
    await _sql(platform, *drop)
    await _sql(platform, "UPDATE audit SET actor = 'city/nobody' WHERE seq = 3")
    verdict = await _verify(platform)
    assert not verdict.ok and verdict.problem == "row 3 was changed after it was written"
    cli = await _cli(settings)
    assert cli.returncode == 1 and "row 3 was changed" in cli.stderr

    await _sql(platform, "UPDATE audit SET actor = 'city/inspector' WHERE seq = 3")  # put back
    assert (await _verify(platform)).ok
    await _sql(platform, "DELETE FROM audit WHERE seq = 4")
    assert (await _verify(platform)).problem == "rows 4–4 are missing: removed from the end"
    await _sql(platform, "DELETE FROM audit WHERE seq = 2")
    assert (await _verify(platform)).problem == "row 2 is missing (the next one is 3): removed"
    # A row made up to fill the hole, even one copied from a real row, does not follow its predecessor.
    await _sql(platform, "INSERT INTO audit SELECT 2, at, actor, action, target, 'forged', prev_hash, hash, sm3 "
                         "FROM audit WHERE seq = 3")
    assert (await _verify(platform)).problem == "row 2 does not follow row 1: inserted or replaced"
