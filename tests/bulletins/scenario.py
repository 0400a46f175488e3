"""A month of supervision work with known outcomes, built over HTTP with the platform's clock moved by hand
(FixedTime, as tests/deadlines does): the fixture of the bulletin and annual review tests.

November 2026 has no statutory holiday: its working days are Monday to Friday (11-02 is a Monday). The city
assigns seven items on 11-02 (and one, X0, on 10-30: outside a period starting 11-02):

| item | source | deadline | unit(s) | what happens |
| A | instruction | 11-13 | qingjiangpu | 签收 11-02, 反馈 11-04, 办结申请 11-10, 办结 11-11: on time |
| B | instruction | 11-13 | huaian | 签收 11-03, 反馈 11-06, 办结申请 11-18 (3 working days late), 办结 11-19 |
| C | meeting_item | 11-20 | qingjiangpu (lead) | 签收 11-02, 反馈 11-05, never asks: overdue from 11-21 |
|   |  |  | fgw (co) | 签收 11-02, 反馈 11-03, 办结申请 11-09: awaiting (the item cannot close) |
| D | other | 12-31 | fgw | 签收 11-02, nothing more: in progress |
| E | instruction | 12-31 | huaian | 签收 11-03, no 反馈 (due 11-11, 7 working days): behind; 敏感 |
| F | instruction | 11-27 | qingjiangpu | 签收 11-02, 反馈 11-03, 办结申请 11-30 (1 day late), 办结 12-01 |
| G | major_decision | 11-25 | huaian | 签收 11-02, 反馈 11-02, 办结申请 12-01, 办结 12-01: overdue at 11-30 |
| X0 | instruction | 11-20 | qingjiangpu | assigned 10-30, never signed for |

Handlers sign for and feed back; chiefs ask for completion."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from duban.timesource import CHINA, FixedTime
from helpers import eventually, login, plan

UNITS = ("qingjiangpu", "huaian", "fgw")


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), CHINA).replace(hour=hour)


@dataclass
class World:
    users: dict[str, dict[str, str]]
    items: dict[str, str] = field(default_factory=dict)  # letter → item id
    serials: dict[str, str] = field(default_factory=dict)  # letter → 编号
    tasks: dict[tuple[str, str], str] = field(default_factory=dict)  # (letter, unit) → assignment id


def _plans() -> dict[str, dict]:
    meeting = {"meeting_kind": "executive", "meeting_date": "2026-10-28", "session_number": "第12次",
               "agreed_text": "由有关单位抓好落实。"}
    return {
        "A": plan(title="甲事项 推进东站枢纽建设", deadline="2026-11-13"),
        "B": plan(units=[("huaian", "lead")], title="乙事项 整治城区交通秩序", deadline="2026-11-13"),
        "C": plan(units=[("qingjiangpu", "lead"), ("fgw", "co")], title="丙事项 老旧小区改造", deadline="2026-11-20",
                  source_kind="meeting_item", source=meeting),
        "D": plan(units=[("fgw", "lead")], title="丁事项 编制产业规划", deadline="2026-12-31", source_kind="other",
                  source={"leader": "市长"}),
        "E": plan(units=[("huaian", "lead")], title="戊事项 农村公路提档", deadline="2026-12-31",
                  confidentiality="sensitive"),
        "F": plan(title="己事项 河道清淤整治", deadline="2026-11-27"),
        "G": plan(units=[("huaian", "lead")], title="庚事项 落实减税降费", deadline="2026-11-25",
                  source_kind="major_decision", source={"document": "淮政发〔2026〕8号"}),
    }


async def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json()


async def _assign(client, w: World, letter: str, body: dict) -> None:
    inspector, approver = w.users["city"]["inspector"], w.users["city"]["approver"]
    item = await _ok(await client.post("/api/items", json=body, headers=inspector), 201)
    await _ok(await client.post(f"/api/items/{item['id']}/submit", headers=inspector))
    approved = await _ok(await client.post(f"/api/items/{item['id']}/approve", headers=approver))
    assigned = await _ok(await client.post(f"/api/items/{item['id']}/assign", headers=inspector))
    w.items[letter], w.serials[letter] = item["id"], approved["serial"]
    for a in assigned["assignments"]:
        w.tasks[(letter, a["unit"])] = a["id"]


async def _arrived(client, w: World) -> None:
    for (letter, unit), assignment_id in w.tasks.items():
        headers = w.users[unit]["handler"]

        async def there(assignment_id=assignment_id, headers=headers):
            return (await client.get(f"/api/assignments/{assignment_id}", headers=headers)).status_code == 200

        await eventually(there, what=f"assignment {letter} at {unit}")


async def _accept(client, w: World, letter: str, unit: str) -> None:
    await _ok(await client.post(f"/api/assignments/{w.tasks[(letter, unit)]}/accept", headers=w.users[unit]["handler"]))


async def _feedback(client, w: World, letter: str, unit: str) -> None:
    handler = w.users[unit]["handler"]
    await _ok(await client.post(f"/api/assignments/{w.tasks[(letter, unit)]}/feedback", headers=handler,
                                json={"text": f"{letter}已办理", "kind": "result"}), 201)


async def _request(client, w: World, letter: str, unit: str) -> None:
    await _ok(await client.post(f"/api/assignments/{w.tasks[(letter, unit)]}/request-completion",
                                json={"note": "申请办结"}, headers=w.users[unit]["chief"]))


async def _complete(client, w: World, letter: str) -> None:
    inspector = w.users["city"]["inspector"]

    async def in_review():
        return (await client.get(f"/api/items/{w.items[letter]}", headers=inspector)).json()["item"]["state"] \
            == "completion_review"

    await eventually(in_review, what=f"item {letter} awaiting the city's review")
    await _ok(await client.post(f"/api/items/{w.items[letter]}/complete", headers=inspector))


async def settled_at_city(client, w: World) -> None:
    """Every unit's events applied at the city (the mirror shows what the units did)."""
    inspector = w.users["city"]["inspector"]
    expected = {("C", "fgw"): "completion_requested", ("C", "qingjiangpu"): "in_progress", ("D", "fgw"): "accepted",
                ("E", "huaian"): "accepted", ("X0", "qingjiangpu"): "issued"}

    async def done():
        for (letter, unit), assignment_id in w.tasks.items():
            detail = (await client.get(f"/api/items/{w.items[letter]}", headers=inspector)).json()
            state = next(a["state"] for a in detail["assignments"] if a["id"] == assignment_id)
            if state != expected.get((letter, unit), "done"):
                return False
        return True

    await eventually(done, what="every unit's events at the city")


async def build(client, platform) -> World:
    """The work above, as of 2026-12-01 12:00 (the platform's clock left there)."""
    platform.time = FixedTime(at("2026-10-30"))
    users = {"city": {u: await login(client, "city", u) for u in ("inspector", "approver", "supervisor", "chief")}}
    for unit in UNITS:
        users[unit] = {u: await login(client, unit, u) for u in ("handler", "chief", "supervisor")}
    w = World(users)
    await _assign(client, w, "X0", plan(title="零事项 期前交办", deadline="2026-11-20"))
    platform.time.set(at("2026-11-02", 9))
    for letter, body in _plans().items():
        await _assign(client, w, letter, body)
    await _arrived(client, w)

    platform.time.set(at("2026-11-02"))
    for letter, unit in (("A", "qingjiangpu"), ("C", "qingjiangpu"), ("F", "qingjiangpu"), ("C", "fgw"),
                         ("D", "fgw"), ("G", "huaian")):
        await _accept(client, w, letter, unit)
    await _feedback(client, w, "G", "huaian")
    platform.time.set(at("2026-11-03"))
    await _accept(client, w, "B", "huaian")
    await _accept(client, w, "E", "huaian")
    await _feedback(client, w, "F", "qingjiangpu")
    await _feedback(client, w, "C", "fgw")
    platform.time.set(at("2026-11-04"))
    await _feedback(client, w, "A", "qingjiangpu")
    platform.time.set(at("2026-11-05"))
    await _feedback(client, w, "C", "qingjiangpu")
    platform.time.set(at("2026-11-06"))
    await _feedback(client, w, "B", "huaian")
    platform.time.set(at("2026-11-09"))
    await _request(client, w, "C", "fgw")
    platform.time.set(at("2026-11-10"))
    await _request(client, w, "A", "qingjiangpu")
    platform.time.set(at("2026-11-11"))
    await _complete(client, w, "A")
    platform.time.set(at("2026-11-18"))
    await _request(client, w, "B", "huaian")
    platform.time.set(at("2026-11-19"))
    await _complete(client, w, "B")
    platform.time.set(at("2026-11-30", 16))
    await _request(client, w, "F", "qingjiangpu")
    platform.time.set(at("2026-12-01", 9))
    await _request(client, w, "G", "huaian")
    await _complete(client, w, "F")
    await _complete(client, w, "G")
    await settled_at_city(client, w)
    platform.time.set(at("2026-12-01", 12))
    return w
