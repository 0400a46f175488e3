"""`duban calendar load | show | after` from a shell, beside a running node (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
from datetime import date

import chinese_calendar
from calendar_samples import CORRECTED_2026_TOML, NOTICE_2027_TOML

from duban.calendar.notice import parse_notice_toml
from duban.calendar.repository import CalendarRepository
from duban.calendar.workdays import package_notices
from duban.platform import Platform
from duban.settings import Settings
from helpers import login, run_duban


def runner(settings: Settings):  # noqa: ANN201
    async def duban(*args: str) -> subprocess.CompletedProcess:
        return await run_duban(settings, "calendar", *args)

    return duban


async def test_2027_is_refused_until_a_notice_file_is_loaded(client, platform: Platform, settings, tmp_path):
    duban = runner(settings)
    inspector = await login(client, "city", "inspector")
    refused = await duban("after", "2027-09-28", "7")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "2027年法定节假日安排尚未载入" in refused.stderr and "duban calendar load" in refused.stderr

    gbk = tmp_path / "2027-gbk.toml"
    gbk.write_bytes(NOTICE_2027_TOML.encode("gbk"))
    bad = await duban("load", str(gbk))
    assert bad.returncode == 2 and "GBK" in bad.stderr and "UTF-8" in bad.stderr, bad.stderr
    async with platform.db.transaction("city") as session:
        assert await CalendarRepository(session, "city").all() == [], "a refused file changes nothing"

    path = tmp_path / "2027.toml"
    path.write_text(NOTICE_2027_TOML, encoding="utf-8")
    loaded = await duban("load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert f"已载入 {len(platform.tenants)} 个单位" in loaded.stdout and "国庆节" in loaded.stdout
    after = await duban("after", "2027-09-28", "7")
    assert after.returncode == 0 and after.stdout == "2027-10-13\n", after.stderr
    shown = await duban("show", "2027")
    assert "来源 source: table" in shown.stdout and "by cli:" in shown.stdout and "2027-10-09" in shown.stdout

    # The running node takes the load at once for a request (and within REFRESH_SECONDS by itself).
    r = await client.get("/api/calendar/after", params={"date": "2027-09-28", "n": 7}, headers=inspector)
    assert r.status_code == 200 and r.json()["date"] == "2027-10-13", r.text
    assert platform.calendar.year_source(2027) == "table"


async def test_show_lists_a_package_year_and_a_loaded_file_overrides_it(client, platform: Platform, settings, tmp_path):
    duban = runner(settings)
    shown = await duban("show", "2026")
    assert shown.returncode == 0, shown.stderr
    assert "来源 source: package" in shown.stdout
    assert "国庆节  2026-10-01（周四） 至 2026-10-07（周三），7天" in shown.stdout
    assert "调休上班日 make-up working days: 2026-01-04, 2026-02-14, 2026-02-28, 2026-05-09, 2026-09-20, " \
           "2026-10-10" in shown.stdout
    as_file = await duban("show", "2026", "--toml")
    assert parse_notice_toml(as_file.stdout) == package_notices()[2026]

    path = tmp_path / "2026.toml"
    path.write_text(CORRECTED_2026_TOML, encoding="utf-8")
    loaded = await duban("load", str(path))
    assert loaded.returncode == 0 and "来源 source: table" in loaded.stdout, loaded.stderr
    assert (await duban("after", "2026-09-28", "7")).stdout == "2026-10-14\n"  # 8 October off in the file
    expected = chinese_calendar.find_workday(7, date(2025, 9, 28)).isoformat()
    assert (await duban("after", "2025-09-28", "7")).stdout == f"{expected}\n", "other years stay the package's"
