"""台账 (issue 9): import items from an Excel sheet row by row — every bad row reported with its row, column
and reason, all or nothing unless the good rows are asked for, never twice; export any filtered list of
items or assignments with the lights and due dates, which imports again as the same items (into a fresh
node's storage, through ``duban ledger import``); the template opens, validates and imports. On SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import os
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.engine import make_url

from duban.audit.models import AuditEntry
from duban.items.models import Item
from duban.ledgers.models import LedgerImport
from duban.ledgers.sheet import COLUMNS, EXTRA, MAX_BYTES, XLSX
from duban.platform import Platform
from duban.timesource import FixedTime
from helpers import DUBAN, TEST_NOW, duban_env, eventually, login, registered_item

IMPORT, ITEMS_XLSX, QUEUE_XLSX, TEMPLATE = ("/api/items/import", "/api/items/export.xlsx",
                                            "/api/assignments/export.xlsx", "/api/ledgers/template.xlsx")
TODAY = TEST_NOW.date()
DUE = TODAY + timedelta(days=40)
LIGHTS = {"green": "绿", "yellow": "黄", "red": "红"}


def workbook(rows: list[list[object]], *, title: str | None = "淮安市政府督查事项台账",
             header: tuple[str, ...] = COLUMNS) -> bytes:
    """A 台账 as offices keep it: a title row above the header, then the rows (short rows padded)."""
    book = Workbook()
    ws = book.active
    if title:
        ws.append([title])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row) + [None] * (len(header) - len(row)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(matter: str, lead: str = "清江浦区人民政府", *, source: str = "领导批示（市长，2026-10-20）",
        leader: str = "市长", co: str = "", deadline: object = DUE, status: str = "正在办理", note: str = "",
        contact: str = "张三 13800000000", progress: str = "") -> list[object]:
    return ["", source, matter, leader, lead, co, contact, deadline, progress, status, note]


GOOD = [
    row("推进淮安东站综合客运枢纽建设\n加快征地拆迁和配套道路建设。", co="淮安市发展和改革委员会",
        note="每月25日前报送进展", progress="已完成征地60%"),                                          # row 3
    row("不存在单位的事项", lead="淮安市不存在局"),                                                         # row 4
    row("时限写错的事项", deadline="明年年底"),                                                             # row 5
    row("时限已过的事项", deadline=date(2026, 10, 1)),                                                     # row 6
    row(""),                                                                                               # row 7
    row("长" * 201),                                                                                       # row 8
    row("状态写错的事项", status="完成了"),                                                                 # row 9
    row("整治城区交通秩序", lead="huaian", source="会议议定事项：2026-10-20 第12次常务会议",
        leader="常务副市长", deadline="2026/12/31"),                                                        # row 10
    row("落实重大项目建设部署", lead="淮安市财政局", source="重大决策部署：淮政发〔2026〕1号",
        leader="exec_vice_mayor"),                                                                          # row 11
    row("已经办完的事项", status="已完成"),                                                                  # row 12
    row("市委督查室交办的事项", lead="淮安市教育局、淮安市公安局", source="市委督查室交办",
        leader="分管教育、公安的副市长", deadline="2027年1月15日"),                                            # row 13
]
GOOD_ROWS = [3, 10, 11, 13]


async def _import(client, headers, data: bytes, name: str = "台账.xlsx", **params: str):
    return await client.post(IMPORT, headers=headers, params=params, files={"file": (name, data, XLSX)})


async def _items(client, headers) -> list[dict]:
    r = await client.get("/api/items", headers=headers, params={"limit": 500})
    assert r.status_code == 200, r.text
    return r.json()


def _rows(data: bytes) -> tuple[list[str], list[tuple]]:
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


async def test_anonymous_and_unentitled_callers_are_refused(client):
    data = workbook([GOOD[0]])
    assert (await _import(client, {}, data)).status_code == 401
    for path in (ITEMS_XLSX, QUEUE_XLSX, TEMPLATE):
        assert (await client.get(path)).status_code == 401, path
    handler, approver = await login(client, "qingjiangpu", "handler"), await login(client, "city", "approver")
    for who in (handler, approver):
        assert (await _import(client, who, data)).status_code == 403
        assert (await client.get(TEMPLATE, headers=who)).status_code == 403
    assert (await client.get(ITEMS_XLSX, headers=approver)).status_code == 403
    assert (await client.get(QUEUE_XLSX, headers=approver)).status_code == 403
    assert (await client.get(QUEUE_XLSX, headers=handler)).status_code == 200


async def test_bad_rows_are_reported_and_nothing_is_half_imported(client, platform):
    inspector = await login(client, "city", "inspector")
    data = workbook(GOOD)

    r = await _import(client, inspector, data)
    assert r.status_code == 400, r.text
    report = r.json()
    assert report["imported"] is False and report["created"] == [] and "未导入任何事项" in report["detail"]
    found = {(e["row"], e["column"], e["letter"]) for e in report["errors"]}
    assert found == {(4, "牵头单位", "E"), (5, "完成时限", "H"), (6, "完成时限", "H"), (7, "督办事项", "C"),
                     (8, "督办事项", "C"), (9, "完成状态", "J")}, report["errors"]
    reasons = {e["row"]: e["reason"] for e in report["errors"]}
    assert "未知的单位「淮安市不存在局」" in reasons[4]
    assert "不是有效日期" in reasons[5] and "早于今天" in reasons[6]
    assert "不能为空" in reasons[7] and "超过200字" in reasons[8] and "完成状态应为" in reasons[9]
    assert [s["row"] for s in report["skipped"]] == [12]
    assert await _items(client, inspector) == [], "all or nothing: not one item"

    # Only checked: the same report, nothing created, answered 200.
    r = await _import(client, inspector, data, mode="check")
    assert r.status_code == 200 and r.json()["created"] == [] and len(r.json()["errors"]) == 6
    assert await _items(client, inspector) == []

    # The good rows, on request.
    r = await _import(client, inspector, data, mode="good-rows")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["imported"] is True and [c["row"] for c in report["created"]] == GOOD_ROWS
    assert len(report["errors"]) == 6
    items = {i["title"]: i for i in await _items(client, inspector)}
    assert len(items) == 4
    first = items["推进淮安东站综合客运枢纽建设"]
    assert first["content"] == "加快征地拆迁和配套道路建设。" and first["requirements"] == "每月25日前报送进展"
    assert first["units"] == [{"unit": "qingjiangpu", "role": "lead"}, {"unit": "fgw", "role": "co"}]
    assert first["deadline"] == DUE.isoformat() and first["state"] == "draft"
    assert first["issuing_leader"] == "mayor" and first["group"] == "mayor"
    assert first["source_kind"] == "instruction"
    assert first["source"]["leader"] == "市长" and first["source"]["instructed_on"] == "2026-10-20"
    assert first["created_by"] == "city/inspector", "attributed to the uploading user"
    meeting = items["整治城区交通秩序"]
    assert meeting["source_kind"] == "meeting_item" and meeting["deadline"] == "2026-12-31"
    assert (meeting["source"]["meeting_kind"], meeting["source"]["session_number"]) == ("executive", "第12次")
    assert meeting["issuing_leader"] == "exec_vice_mayor" and meeting["group"] == "group1"
    assert items["落实重大项目建设部署"]["source"]["document"] == "淮政发〔2026〕1号"
    other = items["市委督查室交办的事项"]
    assert (other["source_kind"], other["source"]["note"]) == ("other", "市委督查室交办")
    assert other["units"] == [{"unit": "jyj", "role": "lead"}, {"unit": "gaj", "role": "co"}]
    assert other["deadline"] == "2027-01-15"

    async with platform.db.transaction("city") as session:
        kept = (await session.scalars(select(LedgerImport).order_by(LedgerImport.sheet_row))).all()
        assert [k.sheet_row for k in kept] == GOOD_ROWS
        assert (kept[0].contact, kept[0].progress) == ("张三 13800000000", "已完成征地60%")
        assert all(k.imported_by == "city/inspector" for k in kept)
        audited = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_import"))).all()
        assert [a.actor for a in audited] == ["city/inspector"] * 3
        assert "refused" in audited[0].detail and "created 4" in audited[2].detail

    # The same sheet again, in either mode: nothing is created twice.
    for mode in ("good-rows", "all"):
        again = await _import(client, inspector, workbook([GOOD[i - 3] for i in GOOD_ROWS]), mode=mode)
        assert again.status_code == 200, again.text
        assert again.json()["created"] == []
        skipped = {s["row"]: s for s in again.json()["skipped"]}
        assert sorted(skipped) == [3, 4, 5, 6] and all("已导入过" in s["reason"] for s in skipped.values())
        assert {s["item_id"] for s in skipped.values()} == {i["id"] for i in items.values()}
    # … also with the progress updated, and the rows in another order.
    moved = [row("整治城区交通秩序", lead="淮安区人民政府", source="会议议定事项：2026-10-20 第12次常务会议",
                 leader="exec_vice_mayor", deadline=date(2026, 12, 31), progress="已召开推进会"), GOOD[0]]
    assert (await _import(client, inspector, workbook(moved))).json()["created"] == []
    assert len(await _items(client, inspector)) == 4


async def test_a_wrong_file_is_a_clear_400(client):
    inspector = await login(client, "city", "inspector")
    cases = [("台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xlsx"),
             ("台账.csv", "序号,督办事项\n1,某事\n".encode(), ".xlsx"),
             ("台账.xlsx", b"not a workbook at all", ".xlsx"),
             ("台账.xlsx", b"", "空的"),
             ("台账.xlsx", workbook([["a", "b"]], header=("名称", "说明")), "没有找到台账表头"),
             ("台账.xlsx", workbook([], header=("序号", "督办事项", "牵头单位")), "缺少「完成时限」")]
    for name, data, words in cases:
        r = await _import(client, inspector, data, name=name)
        assert r.status_code == 400, (name, r.text)
        assert words in r.json()["detail"], (name, r.json())
    r = await client.post(IMPORT, headers=inspector, content=b"{}")
    assert r.status_code == 400 and "multipart/form-data" in r.json()["detail"]
    r = await _import(client, inspector, b"PK\x03\x04" + b"\0" * MAX_BYTES)
    assert r.status_code == 413 and "上限" in r.json()["detail"]
    r = await _import(client, inspector, workbook([GOOD[0]]), mode="everything")
    assert r.status_code == 400
    assert await _items(client, inspector) == []


async def test_the_template_opens_validates_and_imports(client):
    inspector = await login(client, "city", "inspector")
    r = await client.get(TEMPLATE, headers=inspector)
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX)
    book = load_workbook(io.BytesIO(r.content))
    ws = book["台账"]
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["C"].width >= 40
    assert ws["A2"].value == "示例" and ws["E2"].value == "清江浦区人民政府"
    rules = {dv.type: dv for dv in ws.data_validations.dataValidation}
    assert rules["list"].formula1 == '"已完成,正在办理,滞后"' and "J2" in str(rules["list"].sqref).replace(":", " ")
    assert "date" in rules
    names = [r[0] for r in book["单位与领导"].iter_rows(min_row=2, values_only=True)]
    assert "淮安市发展和改革委员会" in names and "淮安市人民政府办公室" not in names  # the units below the city
    assert "填写说明" in book.sheetnames

    # As downloaded, only the sample: nothing to import. Filled in below the sample: imported.
    r = await _import(client, inspector, r.content, name="督查事项台账导入模板.xlsx")
    assert r.status_code == 200 and r.json()["created"] == [] and r.json()["skipped"][0]["reason"].startswith("示例")
    ws.append(row("按模板填写的事项", lead="淮安市教育局", deadline=DUE))
    out = io.BytesIO()
    book.save(out)
    r = await _import(client, inspector, out.getvalue())
    assert r.status_code == 200, r.text
    assert [c["title"] for c in r.json()["created"]] == ["按模板填写的事项"]


async def test_export_has_lights_and_due_dates_and_refuses_protected_items(client):
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    item_id = await registered_item(client, inspector, approver, units=[("qingjiangpu", "lead"), ("fgw", "co")])
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    assert (await _import(client, inspector, workbook([GOOD[0]]))).status_code == 200

    r = await client.get(ITEMS_XLSX, headers=inspector)
    assert r.status_code == 200, r.text
    assert r.headers["x-rows"] == "2" and "attachment" in r.headers["content-disposition"]
    header, rows = _rows(r.content)
    assert header == [*COLUMNS, *EXTRA]
    by_title = {x[2].split("\n")[0]: dict(zip(header, x, strict=True)) for x in rows}
    [assigned] = [x for x in by_title.values() if x["编号"]]  # the one approved (numbered) and assigned
    [listed] = [i for i in await _items(client, inspector) if i["id"] == item_id]
    assert listed["light"] in LIGHTS, "the list shows a light (the 签收 clock is running)"
    assert assigned["信号灯"] == LIGHTS[listed["light"]] and assigned["办理状态"] == "已交办"
    assert isinstance(assigned["完成时限"], datetime) and assigned["下一时限"] is not None
    assert (assigned["牵头单位"], assigned["配合单位"]) == ("清江浦区人民政府", "淮安市发展和改革委员会")
    # Filtered as the list is: only the drafts.
    r = await client.get(ITEMS_XLSX, headers=inspector, params={"state": "draft"})
    header, rows = _rows(r.content)
    assert [x[header.index("办理状态")] for x in rows] == ["草稿"]
    assert (await client.get(ITEMS_XLSX, headers=inspector, params={"light": "purple"})).status_code == 400

    # The unit's queue, with its lights.
    handler = await login(client, "qingjiangpu", "handler")

    async def queue():
        r = await client.get(QUEUE_XLSX, headers=handler)
        return r if r.headers.get("x-rows") == "1" else None

    r = await eventually(queue, what="the assignment at the county")
    header, [one] = _rows(r.content)
    one = dict(zip(header, one, strict=True))
    [queued] = (await client.get("/api/assignments", headers=handler)).json()
    assert one["信号灯"] == LIGHTS[queued["light"]] and one["办理状态"] == "待签收" and one["下一时限"] is not None
    assert one["牵头单位"] == "清江浦区人民政府" and not one["责任领导"]

    # A protected item in the selection: refused, with the CSV export's very message.
    sensitive = await client.post("/api/items", headers=inspector, json={
        "title": "敏感事项", "source_kind": "other", "division": "督查一处", "group": "mayor",
        "deadline": DUE.isoformat(), "units": [{"unit": "qingjiangpu", "role": "lead"}],
        "confidentiality": "sensitive"})
    assert sensitive.status_code == 201, sensitive.text
    csv, xlsx = (await client.get("/api/items/export", headers=inspector),
                 await client.get(ITEMS_XLSX, headers=inspector))
    assert csv.status_code == xlsx.status_code == 409
    assert xlsx.json()["detail"] == csv.json()["detail"] and "第八条不得批量导出" in xlsx.json()["detail"]


# -- round trip: export, then import into a fresh node's storage with the CLI --------------------------------------
async def _fresh(settings, tmp_path: Path, backend: str):
    """A second node's storage (its own data dir; on PostgreSQL its own database), migrated and seeded."""
    url, name = settings.database_url, None
    if backend == "postgres":
        name = f"duban_fresh_{os.urandom(6).hex()}"
        admin_dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = make_url(url).set(database=name).render_as_string(hide_password=False)
    fresh = replace(settings, data_dir=tmp_path / "fresh", database_url=url)
    node = Platform(fresh)
    node.time = FixedTime(TEST_NOW)
    await node.migrate()
    await node.seed_demo()
    return node, name


async def _drop(settings, name: str | None) -> None:
    if name:
        admin = await asyncpg.connect(make_url(settings.database_url).set(drivername="postgresql")
                                      .render_as_string(hide_password=False))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _cli(settings, *args: str) -> tuple[int, dict | None, str]:
    process = await asyncio.create_subprocess_exec(
        str(DUBAN), "ledger", "import", *args,
        env=duban_env(settings, DUBAN_FIXED_TIME=TEST_NOW.isoformat()),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    text = out.decode()
    return process.returncode, (json.loads(text) if text.strip().startswith("{") else None), err.decode()


def _same(item: Item | dict) -> tuple:
    get = item.get if isinstance(item, dict) else lambda k: getattr(item, {"group": "group_code"}.get(k, k))
    source = dict(get("source"))
    source.pop("instruction_text", None)  # the 台账 holds the matter in 督办事项, not the 批示's own words
    return (get("title"), get("content"), [dict(u) for u in get("units")], str(get("deadline")), get("source_kind"),
            source, get("issuing_leader"), get("group"), get("requirements"))


async def test_an_export_imports_again_as_the_same_items(client, platform, settings, backend, tmp_path):
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    assert (await _import(client, inspector, workbook(GOOD), mode="good-rows")).status_code == 200
    item_id = await registered_item(client, inspector, approver, units=[("czj", "lead"), ("zjj", "co")],
                                    title="API 立项的事项", issuing_leader="mayor")
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    originals = {i["title"]: i for i in await _items(client, inspector)}
    assert len(originals) == 5

    r = await client.get(ITEMS_XLSX, headers=inspector)
    assert r.status_code == 200 and r.headers["x-rows"] == "5"
    exported = tmp_path / "督查事项台账.xlsx"
    exported.write_bytes(r.content)

    node, database = await _fresh(settings, tmp_path, backend)
    try:
        fresh_settings = node.settings
        code, report, err = await _cli(fresh_settings, str(exported), "--tenant", "city", "--user", "approver")
        assert code == 2 and "没有权限" in err and "item:import" in err, (code, err)

        code, report, err = await _cli(fresh_settings, str(exported), "--tenant", "city", "--user", "inspector")
        assert code == 0, (report, err)
        assert len(report["created"]) == 5 and report["errors"] == [], report
        async with node.db.transaction("city", snapshot=True) as session:
            made = (await session.scalars(select(Item))).all()
        assert {i.title: _same(i) for i in made} == {t: _same(i) for t, i in originals.items()}
        assert all(i.created_by == "city/inspector" and i.state == "draft" for i in made)
        # Full sources, for the items that came from a 台账 in the first place.
        fresh_sources = {i.title: i.source for i in made}
        for title in ("推进淮安东站综合客运枢纽建设", "整治城区交通秩序", "落实重大项目建设部署",
                      "市委督查室交办的事项"):
            assert fresh_sources[title] == originals[title]["source"], title

        # Idempotent from the command line too; a bad sheet is refused with the report, exit status 1.
        code, report, err = await _cli(fresh_settings, str(exported), "--tenant", "city", "--user", "inspector")
        assert code == 0 and report["created"] == [] and len(report["skipped"]) == 5, (report, err)
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(workbook([GOOD[1]]))
        code, report, err = await _cli(fresh_settings, str(bad), "--tenant", "city", "--user", "inspector")
        assert code == 1 and report["errors"][0]["row"] == 3 and report["errors"][0]["letter"] == "E", (report, err)
    finally:
        await node.db.dispose()
        await _drop(settings, database)



async def test_a_group_member_imports_only_their_own_groups_items(client):
    member = await login(client, "city", "member_group2")  # 第二督查组: the portfolio of 城建、自然资源
    data = workbook([row("本组的事项", leader="vice_mayor_urban", lead="淮安市住房和城乡建设局"),
                     row("市长督查组的事项", leader="市长")])
    r = await _import(client, member, data)
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert (error["row"], error["column"], error["letter"]) == (4, "责任领导", "D") and "督查组" in error["reason"]
    r = await _import(client, member, data, mode="good-rows")
    assert [c["row"] for c in r.json()["created"]] == [3]
    [item] = await _items(client, member)
    assert (item["group"], item["created_by"]) == ("group2", "city/member_group2")


async def test_the_same_sheet_imported_twice_at_once_is_created_once(client):
    inspector = await login(client, "city", "inspector")
    data = workbook([GOOD[i - 3] for i in GOOD_ROWS])
    first, second = await asyncio.gather(_import(client, inspector, data), _import(client, inspector, data))
    assert {first.status_code, second.status_code} <= {200, 400}, (first.text, second.text)
    created = [c for r in (first, second) for c in r.json()["created"]]
    assert len(created) == len(GOOD_ROWS)
    assert len(await _items(client, inspector)) == len(GOOD_ROWS)
