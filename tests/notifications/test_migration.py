"""0004 down and up again keeps the users and their roles (on SQLite, dropping ``users.email`` must not copy
and drop the users table, which would cascade to their roles and sessions)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from duban.db.database import Database
from duban.db.migrate import check_tenant, downgrade_tenant, upgrade_tenant
from duban.settings import Settings

REPO = Path(__file__).resolve().parent.parent.parent


async def test_0004_down_and_up_keeps_users_and_roles(tmp_path: Path, database_url: str, backend: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, tenants_file=REPO / "tenants" / "huaian.toml",
                        policies_dir=REPO / "policies", hosted_tenants=("city",))
    db = Database(settings, ["city"])
    try:
        await upgrade_tenant(db, "city")
        async with db.migration_connection("city") as conn:
            await conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, email, active, "
                                    "created_at) VALUES (1, 'li', '李', 'x', 'li@city.duban.test', true, "
                                    "'2026-11-27 08:00:00+00:00')"))
            await conn.execute(text("INSERT INTO user_roles (id, user_id, role) VALUES (1, 1, 'inspector')"))
        await downgrade_tenant(db, "city", "0003")
        async with db.migration_connection("city") as conn:
            assert (await conn.execute(text("SELECT role FROM user_roles"))).scalars().all() == ["inspector"]
            assert (await conn.execute(text("SELECT username FROM users"))).scalars().all() == ["li"]
        await upgrade_tenant(db, "city")
        await check_tenant(db, "city")
        async with db.migration_connection("city") as conn:
            assert (await conn.execute(text("SELECT email FROM users"))).scalars().all() == [None]
            assert (await conn.execute(text("SELECT role FROM user_roles"))).scalars().all() == ["inspector"]
    finally:
        await db.dispose()
