"""The annual review (第十二条) over the bulletin's fixture month (tests/bulletins/scenario.py): per unit and
per person, exactly the figures worked out by hand, as JSON and in the Excel workbook reopened with
openpyxl; a year that has not begun and a year without calendar data refused with a clear message."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bulletins.scenario import at, build
from helpers import login


def unit(code, name, handled, done, on_time, in_progress, overdue, rate, feedback, completion) -> dict:
    return {"unit": code, "name": name, "handled": handled, "done": done, "done_on_time": on_time,
            "done_late": done - on_time, "in_progress": in_progress, "overdue": overdue, "on_time_rate": rate,
            "avg_feedback_workdays": feedback, "avg_completion_workdays": completion}


def person(ref, unit_name, handled, accepted, fed_back, completed, on_time, overdue, feedback, completion) -> dict:
    code, _, username = ref.partition("/")
    return {"person": ref, "username": username, "unit": code, "unit_name": unit_name, "handled": handled,
            "accepted": accepted, "fed_back": fed_back, "completed": completed, "done_on_time": on_time,
            "done_late": completed - on_time, "overdue": overdue, "avg_feedback_workdays": feedback,
            "avg_completion_workdays": completion}


QJP, HA, FGW = "清江浦区人民政府", "淮安区人民政府", "淮安市发展和改革委员会"
# As of 2026-12-01. Working days after 11-02 (交办) to the first feedback: A 2, C 3, F 1 | B 4, G 0 | C 1; to
# completion: A 6 (11-10), F 20 (11-30) | B 12 (11-18), G 21 (12-01). X0 (10-30, never signed for) is overdue.
UNITS = [
    unit("qingjiangpu", QJP, 4, 2, 1, 2, 2, 50.0, 2.0, 13.0),  # X0, A, C, F
    unit("huaian", HA, 3, 2, 0, 1, 0, 0.0, 2.0, 16.5),  # B, E, G
    unit("fgw", FGW, 2, 0, 0, 2, 0, None, 1.0, None),  # C (awaiting the city), D
]
TOTAL = unit("", "合计", 9, 4, 1, 5, 2, 25.0, 1.8, 14.8)  # 11 / 6 = 1.83; 59 / 4 = 14.75
PERSONS = [
    person("qingjiangpu/chief", QJP, 2, 0, 0, 2, 1, 0, None, 13.0),
    person("qingjiangpu/handler", QJP, 3, 3, 3, 0, 0, 1, 2.0, None),
    person("huaian/chief", HA, 2, 0, 0, 2, 0, 0, None, 16.5),
    person("huaian/handler", HA, 3, 3, 2, 0, 0, 0, 2.0, None),
    person("fgw/chief", FGW, 1, 0, 0, 0, 0, 0, None, None),
    person("fgw/handler", FGW, 2, 2, 1, 0, 0, 0, 1.0, None),
]


async def test_the_annual_review_per_unit_and_person(client, platform):
    w = await build(client, platform)
    supervisor = w.users["city"]["supervisor"]

    r = await client.get("/api/review", params={"year": 2026}, headers=supervisor)
    assert r.status_code == 200, r.text
    review = r.json()
    assert (review["year"], review["as_of"]) == (2026, "2026-12-01")
    assert review["units"] == UNITS
    assert review["total"] == TOTAL
    assert review["persons"] == PERSONS

    # The same figures in the workbook.
    r = await client.get("/api/review.xlsx", params={"year": 2026}, headers=w.users["city"]["chief"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames == ["单位", "个人", "说明"]
    rows = [list(row) for row in book["单位"].iter_rows(values_only=True)]
    assert rows[0] == ["承办单位", "单位代码", "承办件数", "办结数", "按期办结", "逾期办结", "在办数", "超时未办",
                       "按期办结率（%）", "平均首次反馈用时（工作日）", "平均办结用时（工作日）"]
    assert rows[1:] == [[u["name"], u["unit"] or None, u["handled"], u["done"], u["done_on_time"], u["done_late"],
                         u["in_progress"], u["overdue"], u["on_time_rate"], u["avg_feedback_workdays"],
                         u["avg_completion_workdays"]] for u in [*UNITS, TOTAL]]
    rows = [list(row) for row in book["个人"].iter_rows(values_only=True)]
    assert rows[0] == ["人员", "所在单位", "经办件数", "签收件数", "反馈件数", "申请办结件数", "按期办结", "逾期办结",
                       "超时未办", "平均首次反馈用时（工作日）", "平均办结用时（工作日）"]
    assert rows[1:] == [[p["person"], p["unit_name"], p["handled"], p["accepted"], p["fed_back"], p["completed"],
                         p["done_on_time"], p["done_late"], p["overdue"], p["avg_feedback_workdays"],
                         p["avg_completion_workdays"]] for p in PERSONS]
    notes = [row[0] for row in book["说明"].iter_rows(values_only=True)]
    assert notes[:2] == ["2026年度督查督办工作考评（第十二条）", "统计截止日：2026年12月1日"]

    # After the year: as of its last day (D and E, due 12-31, are still not overdue on it).
    platform.time.set(at("2027-01-05"))
    after = (await client.get("/api/review", params={"year": 2026}, headers=supervisor)).json()
    assert after["as_of"] == "2026-12-31" and after["units"] == UNITS and after["persons"] == PERSONS


async def test_years_the_review_cannot_count(client, platform):
    supervisor = await login(client, "city", "supervisor")
    r = await client.get("/api/review", params={"year": 2027}, headers=supervisor)  # today is in 2026
    assert r.status_code == 400 and "2027年度尚未开始" in r.json()["detail"], r.text
    # chinesecalendar holds 2004 on; no notice of 2003 is loaded: no working day can be counted.
    for path in ("/api/review", "/api/review.xlsx"):
        r = await client.get(path, params={"year": 2003}, headers=supervisor)
        assert r.status_code == 422, r.text
        assert "2003年法定节假日安排尚未载入" in r.json()["detail"]
    # A year without any work: empty, not an error.
    empty = (await client.get("/api/review", params={"year": 2025}, headers=supervisor)).json()
    assert (empty["units"], empty["persons"], empty["total"]["handled"]) == ([], [], 0)
    assert (await client.get("/api/review", params={"year": 1999}, headers=supervisor)).status_code == 400
    handler = await login(client, "qingjiangpu", "handler")
    assert (await client.get("/api/review", params={"year": 2026}, headers=handler)).status_code == 403
    assert (await client.get("/api/review.xlsx", params={"year": 2026}, headers=handler)).status_code == 403
