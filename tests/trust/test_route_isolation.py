"""Issue 7, as a test: every route and method of the live app, called with real ids of two owning tenants'
objects (the city's item, meeting, proposal, extension, …; a county's assignment, upload, part, …) by
anonymous callers, every user of the owning tenant, every user of a sibling county and of a town below
the county (their own valid tokens) and by swapped and tampered tokens. A leak is a 2xx answer, or an
answer carrying the owners' secret marker, for a caller who must not see or do it — decided by the
policy layer for the owners' own users, and "401, 403 or 404 for anything of theirs" for the others.
No write may get through: the state of every tenant is the same after the sweep as before it. The
county's demo 分管领导 is named on none of the swept work (签收 names another): every route naming a piece
of it answers them 404, and no answer to them carries the marker (issue 7 §2, confidentiality/access.py).

The routes, what each requires and its bodies come from the app (isolation_sweep.py): a route the
sweep cannot fill (an unknown path parameter, no ``authorize`` in its handler, a body it cannot build)
fails the test, naming it. On SQLite and PostgreSQL; the counts are printed (``-s``)."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from isolation_sweep import (
    WRITES,
    Caller,
    RouteMethod,
    SweepError,
    Tally,
    body_for,
    decision,
    digest,
    route_methods,
    rule_of,
    settled,
    writes,
)

from duban.accounts.repository import AccountRepository
from duban.accounts.service import DEMO_PASSWORD, create_user, demo_accounts, demo_group_members
from duban.app import create_app
from duban.confidentiality.access import named_only
from duban.policy.policy import Actor
from helpers import TEST_NOW, eventually, hosting, login, plan, registered_item

OWNERS = ("city", "qingjiangpu")  # whose objects are swept: the city office, and a county
FOREIGN = ("huaian", "qjp_huaihai")  # a sibling county, and a town below the county: they hold none of them
# fgw is the item's co-unit and qjp_changxi gets the county's part: they legitimately hold copies.
TENANTS = (*OWNERS, *FOREIGN, "fgw", "qjp_changxi")
RAM_DISK = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (a test's own data)
SECRET = f"保密标记{uuid.uuid4().hex[:10]}"
DAY = TEST_NOW.date()
NOTICE_2027 = {"year": 2027, "notice": "测试用 2027年部分节假日安排（非真实通知）",
               "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}]}

# The 分管领导 signed for the county's assignment names (not the demo ``leader``, who then reads none of it).
NAMED_LEADER = "sweep_leader"
# The path parameters that name a piece of work: a reader of only the work named to them (the 分管领导,
# confidentiality/access.py ``named_only``) gets 404 for any other, whatever the route.
WORK_PARAMS = {"item_id", "assignment_id", "attachment_id"}
# Path parameters that are not an object of a tenant: the same for every caller.
SHARED_PARAMS = {"year": str(DAY.year), "path": "openapi.json"}
# Query parameters a route needs to reach its handler (a refused caller must meet the refusal, not a 400).
QUERIES: dict[str, dict[str, Any]] = {"GET /api/calendar/after": {"date": DAY.isoformat(), "n": 3},
                                      "GET /api/review": {"year": DAY.year}, "GET /api/review.xlsx": {"year": DAY.year}}
# Values for body fields of these names (a real unit; the login body names the city).
HINTS = {"unit": "qingjiangpu", "tenant": "city"}
# Bodies for the write routes the state is built with (every other body comes from the handler's type).
SAMPLES: dict[str, Any] = {
    "POST /api/login": {"tenant": "city", "username": "nobody-here", "password": "wrong-password"},
    "POST /api/items": plan(title="再立一项", group="mayor"),
    "PATCH /api/items/{item_id:str}": {"title": "改标题", "content": "改内容"},
    "POST /api/items/{item_id:str}/return": {"unit": "qingjiangpu", "reason": "重办"},
    "POST /api/items/{item_id:str}/supervisions": {"mode": "written", "on": DAY.isoformat(), "people": ["王督查"],
                                                   "findings": "书面督办", "unit": "qingjiangpu"},
    "POST /api/items/{item_id:str}/reminders": {"note": "请报送进展", "unit": "qingjiangpu"},
    "POST /api/assignments/{assignment_id:str}/feedback": {"text": "代为反馈", "kind": "result"},
    "POST /api/assignments/{assignment_id:str}/extensions": {
        "requested_due": (DAY + timedelta(days=50)).isoformat(), "reason": "再延"},
    "POST /api/assignments/{assignment_id:str}/parts": {
        "units": [{"unit": "qjp_changxi", "role": "lead"}], "deadline": (DAY + timedelta(days=15)).isoformat()},
    "POST /api/proposals/{proposal_id:str}/consultations": {"on": DAY.isoformat(), "form": "visit", "people": ["王某"],
                                                            "content": "面商"},
    "POST /api/calendar": NOTICE_2027,
}


async def _ok(response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.method, response.request.url, response.text)
    return response.json()


async def _state(api, platform) -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, str]], dict[str, str]]:
    """Build the owners' objects over HTTP. Returns the ids per owner (path parameter → real id), the
    objects that belong to one user (parameter → (tenant, username)) and each owner's item's 督查组."""
    city = {u: await login(api, "city", u) for u in ("inspector", "approver", "admin", "registrar", "member_group2")}
    county = {u: await login(api, "qingjiangpu", u) for u in ("handler", "supervisor")}
    co, town = await login(api, "fgw", "handler"), await login(api, "qjp_changxi", "handler")

    # 立项, 交办 to the county (lead) and fgw (co), 签收 at both.
    item_id = await registered_item(api, city["inspector"], city["approver"],
                                    units=[("qingjiangpu", "lead"), ("fgw", "co")],
                                    title=f"{SECRET} 推进淮安东站综合客运枢纽建设", content=f"{SECRET} 加快征地拆迁。")
    await _ok(await api.post(f"/api/items/{item_id}/assign", headers=city["inspector"]))

    async def queue(headers):
        async def one():
            return (await api.get("/api/assignments", headers=headers)).json()
        return (await eventually(one, what="an assignment"))[0]["id"]

    task, co_task = await queue(county["handler"]), await queue(co)
    # 签收 names a 分管领导 of its own: the county's demo 分管领导 is named on none of the work swept, so
    # every object of it must answer them 404 and stay out of their lists (NAMED_ONLY below).
    async with platform.db.transaction("qingjiangpu") as session:
        await create_user(AccountRepository(session, "qingjiangpu"), platform.policy, NAMED_LEADER, "分管领导",
                          DEMO_PASSWORD, ["leader_in_charge"], cost=10)
    await _ok(await api.post(f"/api/assignments/{task}/accept", json={"leader_in_charge": NAMED_LEADER},
                             headers=county["handler"]))
    await _ok(await api.post(f"/api/assignments/{co_task}/accept", headers=co))

    # 反馈 with an attachment, 协办 views, 延期申请 at the county; 督办 and 催办 from the city.
    upload = await _ok(await api.post("/api/attachments", headers=county["handler"],
                                      files={"file": ("进展报告.pdf", b"%PDF-1.7\n" + SECRET.encode() * 40)}), 201)
    await _ok(await api.post(f"/api/assignments/{task}/feedback", headers=county["handler"],
                             json={"text": f"{SECRET} 已完成过半。", "attachments": [upload["id"]]}), 201)
    await _ok(await api.post(f"/api/assignments/{co_task}/co-views", headers=co,
                             json={"text": f"{SECRET} 协办意见"}), 201)
    extension = await _ok(await api.post(f"/api/assignments/{task}/extensions", headers=county["handler"], json={
        "requested_due": (DAY + timedelta(days=45)).isoformat(), "reason": f"{SECRET} 征地手续未批"}), 201)
    await _ok(await api.post(f"/api/items/{item_id}/supervisions", headers=city["inspector"],
                             json={**SAMPLES["POST /api/items/{item_id:str}/supervisions"], "findings": SECRET}), 201)
    await _ok(await api.post(f"/api/items/{item_id}/reminders", headers=city["inspector"],
                             json={"note": f"{SECRET} 请报送进展", "unit": "qingjiangpu"}), 201)

    # 分解: the county's part for a town below it.
    part = await _ok(await api.post(f"/api/assignments/{task}/parts", headers=county["supervisor"], json={
        "units": [{"unit": "qjp_changxi", "role": "lead"}], "deadline": (DAY + timedelta(days=20)).isoformat(),
        "content": f"{SECRET} 长西街道落实。"}), 201)
    part_id = part["item"]["id"]
    await queue(town)

    # A meeting with its agreed list, and a 建议 registered, approved and sent to the county.
    meeting = await _ok(await api.post("/api/meetings", headers=city["inspector"], json={
        "kind": "executive", "held_on": (DAY - timedelta(days=6)).isoformat(), "session_number": 12,
        "title": f"{SECRET} 市政府第12次常务会议", "chair": "mayor", "items": [{
            "title": f"{SECRET} 整治城区交通秩序", "agreed_text": "由有关单位抓好落实。", "division": "督查一处",
            "deadline": (DAY + timedelta(days=40)).isoformat(), "units": [{"unit": "qingjiangpu", "role": "lead"}]}]}),
        201)
    await _ok(await api.post("/api/calendar", json=NOTICE_2027, headers=city["admin"]))
    proposal = await _ok(await api.post("/api/proposals", headers=city["registrar"], json={
        "kind": "suggestion", "number": "0123", "proposer": "王某某等3名代表", "session": "市十七届人大五次会议",
        "title": f"{SECRET} 关于加快老旧小区加装电梯的建议", "content": SECRET, "division": "督查二处",
        "units": [{"unit": "qingjiangpu", "role": "lead"}], "issuing_leader": "vice_mayor_urban", "mode": "joint"}),
        201)
    proposal_id, proposal_item = proposal["proposal"]["id"], proposal["proposal"]["item_id"]
    await _ok(await api.post(f"/api/items/{proposal_item}/submit", headers=city["member_group2"]))
    await _ok(await api.post(f"/api/items/{proposal_item}/approve", headers=city["approver"]))
    await _ok(await api.post(f"/api/items/{proposal_item}/assign", headers=city["member_group2"]))

    # Wait until every copy has arrived: the feedback (and its attachment) and the extension request at
    # the city, the proposal and the reminder's notification at the county.
    async def at_city():
        d = (await api.get(f"/api/items/{item_id}", headers=city["inspector"])).json()
        files = [a for f in d["feedback"] for a in f.get("attachments", [])]
        return d if files and d["extensions"] else None

    detail = await eventually(at_city, what="the feedback and the extension request at the city")
    assert SECRET in str(detail), "the marker is visible to its owner (else the leak check could not fail)"
    await eventually(lambda: _status(api, f"/api/proposals/{proposal_id}", county["handler"], 200),
                     what="the proposal at the county")

    async def notified():
        return (await api.get("/api/notifications", headers=county["handler"])).json()

    [note, *_] = await eventually(notified, what="the reminder's notification at the county")

    async def events(headers: dict) -> str:
        return (await api.get("/api/inbox", headers=headers)).json()[0]["id"]

    ids = {
        "city": {"item_id": item_id, "assignment_id": task, "extension_id": extension["id"],
                 "meeting_id": meeting["meeting"]["id"], "proposal_id": proposal_id,
                 "attachment_id": [a for f in detail["feedback"] for a in f["attachments"]][0]["id"],
                 "event_id": await events(city["inspector"])},
        "qingjiangpu": {"item_id": part_id, "assignment_id": task, "extension_id": extension["id"],
                        "proposal_id": proposal_id, "attachment_id": upload["id"], "notification_id": note["id"],
                        "event_id": await events(county["supervisor"])},
    }
    # A user of each owner only it has (the demo usernames repeat in every county): the object of the
    # user-management routes. A 批示件 in the city's register.
    for owner in OWNERS:
        async with platform.db.transaction(owner) as session:
            await create_user(AccountRepository(session, owner), platform.policy, f"sweep_{owner}", "名单外人员",
                              DEMO_PASSWORD, ["handler"], cost=10)
        ids[owner]["username"] = f"sweep_{owner}"
    record = await _ok(await api.post("/api/instructions", headers=city["registrar"], json={
        "number": "批2026-001", "instructed_on": (DAY - timedelta(days=3)).isoformat(), "leader": "mayor",
        "level": "internal", "title": f"{SECRET} 市长批示"}), 201)
    ids["city"]["record_id"] = record["id"]
    merit = await _ok(await api.post("/api/merit-proposals", headers=await login(api, "city", "supervisor"), json={
        "kind": "commend", "unit": "qingjiangpu", "reason": f"{SECRET} 按期办结", "basis_items": [item_id]}), 201)
    ids["city"]["merit-proposals:proposal_id"] = merit["id"]  # a parameter name another resource uses too
    bulletin = await _ok(await api.post("/api/bulletins", headers=city["inspector"], json={
        "period_from": (DAY - timedelta(days=30)).isoformat(), "period_to": DAY.isoformat()}), 201)
    ids["city"]["bulletin_id"] = bulletin["bulletin"]["id"]  # 《督查通报》 (bulletins/)
    # The 通知单 issued at 交办 (documents/): the city's for its item, the county's for its part, if any.
    notices = await _ok(await api.get(f"/api/items/{item_id}/documents", headers=city["inspector"]))
    ids["city"]["document_id"] = notices[0]["id"]
    part_docs = await _ok(await api.get(f"/api/items/{part_id}/documents", headers=county["supervisor"]))
    if part_docs:
        ids["qingjiangpu"]["document_id"] = part_docs[0]["id"]
    # Downloaded once by their owners now: the first download keeps the rendition (a cache of bytes that
    # render the same every time); any rendition kept during the sweep is then a change it must report.
    for doc, headers in ((notices[0], city["inspector"]), *((d, county["supervisor"]) for d in part_docs[:1])):
        for fmt in ("docx", "pdf"):
            assert (await api.get(doc[f"{fmt}_url"], headers=headers)).status_code == 200
    owned_by_user = {"notification_id": ("qingjiangpu", "handler")}
    groups = {"city": detail["item"]["group"],
              "qingjiangpu": (await api.get(f"/api/items/{part_id}", headers=county["supervisor"])).json()["item"][
                  "group"]}
    return ids, owned_by_user, groups


async def _status(api, path: str, headers: dict, status: int) -> bool:
    return (await api.get(path, headers=headers)).status_code == status


def _flip(secret: str) -> str:
    middle = len(secret) // 2
    return secret[:middle] + ("A" if secret[middle] != "A" else "B") + secret[middle + 1:]


async def _callers(api, platform) -> tuple[list[Caller], dict[str, list[Caller]]]:
    """Every demo user of the owners and the foreign tenants, and per owner the tokens an attacker would
    try: flipped, truncated, another tenant's prefix, another tenant's secret, an unknown tenant, no
    tenant, a logged-out session, and a flipped one in the cookie."""
    users = []
    for code in (*OWNERS, *FOREIGN):
        kind = platform.registry.get(code).kind
        names = [u[0] for u in demo_accounts(code, kind)] + [u[0] for u in demo_group_members(platform.registry, code)]
        for name in names:
            headers = await login(api, code, name)
            users.append(Caller(f"{code}/{name}", "owner" if code in OWNERS else "foreign", headers, Actor(code, name)))
    foreign_secret = next(c for c in users if c.kind == "foreign").headers["Authorization"].split(".", 1)[1]
    tampered = {}
    for owner in OWNERS:
        base = next(c for c in users if c.actor.tenant == owner)
        token = base.headers["Authorization"].removeprefix("Bearer ")
        tenant, secret = token.split(".", 1)
        revoked = (await login(api, owner, base.actor.username))["Authorization"]
        assert (await api.post("/api/logout", headers={"Authorization": revoked})).status_code == 204
        variants = {"flipped": f"{tenant}.{_flip(secret)}", "truncated": token[:-5],
                    "other-prefix": f"{FOREIGN[0]}.{secret}", "other-secret": f"{tenant}.{foreign_secret}",
                    "unknown-tenant": f"nosuch.{secret}", "no-tenant": secret,
                    "logged-out": revoked.removeprefix("Bearer ")}
        tampered[owner] = [Caller(f"tampered:{n}", "tampered", {"Authorization": f"Bearer {t}"})
                           for n, t in variants.items()]
        cookie = {"Cookie": f"duban_session={variants['flipped']}"}
        tampered[owner].append(Caller("tampered:cookie", "tampered", cookie))
    api.cookies.clear()  # logins set the session cookie: no caller may carry another's
    return users, tampered


async def test_no_route_leaks_to_a_caller_who_may_not_see_it(settings, backend):
    # Every refusal is written to the audit log (a commit, fsync'd on SQLite): thousands of them. A RAM
    # disk, where there is one, keeps the sweep affordable; the data are the test's own either way. The
    # relay and the notifier are woken by every commit; their fallback poll (every tenant, every 0.5 s)
    # would only compete with the sweep for the CPU.
    with tempfile.TemporaryDirectory(dir=RAM_DISK) as ram:
        await _sweep(replace(settings, data_dir=Path(ram) / "data", relay_poll_seconds=10.0))


async def _sweep(settings) -> None:
    async with hosting(settings, TENANTS) as (platform, api):
        started = time.monotonic()
        ids, owned_by_user, groups = await _state(api, platform)
        users, tampered = await _callers(api, platform)
        anonymous = Caller("anonymous", "anonymous")
        policy = platform.policy

        routes = route_methods(create_app(platform, manage_platform=False))
        owned = {p.rsplit(":", 1)[-1] for values in ids.values() for p in values}

        def fill(route: RouteMethod, owner: str) -> dict[str, str] | None:
            # A path parameter's real id in the owner's storage: the one named for the route's resource
            # ("merit-proposals:proposal_id"), where any owner has one; else the one of its name.
            resource, values = route.path.split("/")[2] if route.path.startswith("/api/") else "", {}
            for p in route.params:
                named = f"{resource}:{p}" if any(f"{resource}:{p}" in v for v in ids.values()) else p
                values[p] = SHARED_PARAMS.get(p) or ids[owner].get(named)
                if values[p] is None:
                    return None
            return values

        unknown = sorted({f"{r.key} ({p})" for r in routes if not r.public for p in r.params
                          if p not in owned | set(SHARED_PARAMS)})
        if unknown:
            raise SweepError(f"path parameters the sweep has no real ids for: {unknown}; add them to _state()")
        rules = {r.key: rule_of(r.handler.fn) for r in routes if not r.public}
        unguarded = sorted(k for k, rule in rules.items() if not rule)
        if unguarded:
            raise SweepError(f"routes whose handler calls no authorize(actor, obj, act): {unguarded}")

        # Every body is built now (a route the sweep cannot fill is named before any call).
        bodies = {route.key: body_for(route, SAMPLES, DAY, HINTS) for route in routes}
        await eventually(lambda: settled(platform, TENANTS), within=60,
                         what="every event delivered before the sweep")
        before = await digest(platform, TENANTS)
        setup_seconds = time.monotonic() - started
        tally, changed, read_once = Tally(), [], set()

        async def call(route: RouteMethod, caller: Caller, values: dict[str, str], owner: str | None) -> None:
            kind, body = bodies[route.key]
            group = groups.get(owner) if owner else (body.get("group") if isinstance(body, dict) else None)
            mine = caller.actor is not None and (owner is None or caller.actor.tenant == owner)
            holder = next((owned_by_user[p] for p in route.params if p in owned_by_user), None)
            if holder and caller.actor and (caller.actor.tenant, caller.actor.username) != holder:
                mine = False  # another user's notification: as foreign as another tenant's
            blind = caller.actor is not None and named_only(policy, caller.actor)  # named on none of it
            if route.public:
                expected: set[int] | None = None
            elif caller.actor is None:
                expected = {303} if route.page else {401}  # a page sends a browser to its login page
            elif not mine:
                expected = {403, 404}
            elif blind and WORK_PARAMS & set(route.params):
                expected = {404}  # the same answer as for a missing object, whether the role may call it or not
            elif (verdict := decision(policy, caller.actor, rules[route.key], group)) == "allowed":
                if route.method in WRITES:  # allowed: not made (it would change the shared state)
                    tally.skipped += 1
                    tally.covered.setdefault(route.key, set()).add(caller.kind)
                    return
                if caller.kind == "owner" and route.method not in WRITES and not blind:
                    # The owner's own reads prove the ids real; one allowed user per route says so (the
                    # others would see what they may see: nothing to learn, at tens of ms a call).
                    first = (route.key, owner, caller.actor.tenant)
                    if first in read_once:
                        tally.skipped += 1
                        return
                    read_once.add(first)
                expected = None
            else:
                expected = {403, 404} if verdict == "role" else {403, 404, 409}
            api.cookies.clear()
            response = await api.request(route.method, route.url(values), headers=caller.headers,
                                          params=QUERIES.get(route.key), json=body if kind == "json" else None,
                                          files=body if kind == "multipart" else None)
            status, text = response.status_code, response.text
            tally.record(route, caller, status)
            where = f"{route.key} [{owner or '-'}] as {caller.name}: {status}"
            if expected == {303} and status == 303 and not response.headers.get("location", "").startswith("/login"):
                tally.unexpected.append(f"{where} redirects to {response.headers.get('location')}, not the login page")
            if expected is not None and 200 <= status < 300:
                tally.leaks.append(f"{where} {text[:200]}")
            elif expected is not None and status not in expected:
                tally.unexpected.append(f"{where} {text[:200]}")
            elif expected is None and status >= 500:
                tally.unexpected.append(f"{where} {text[:200]}")
            elif expected is None and status in (403, 404) and not route.public:
                tally.over_refused.append(where)  # printed: a 404 here means the sweep's id is not real
            if SECRET in text and (blind or not (mine and expected is None and not route.public)):
                tally.leaks.append(f"{where}: the answer carries the owners' marker")

        def foreign_callers(route: RouteMethod) -> list[Caller]:
            # Of each foreign tenant: every user whose role has the right in their own tenant (they get past
            # the role check, to the lookup that must not find the owner's object), and one whose role
            # lacks it (the role check).
            chosen = []
            for tenant in FOREIGN:
                theirs = [c for c in users if c.actor.tenant == tenant]
                verdicts = [decision(policy, c.actor, rules[route.key], None) for c in theirs]
                chosen += [c for c, v in zip(theirs, verdicts, strict=True) if v != "role"]
                chosen += [c for c, v in zip(theirs, verdicts, strict=True) if v == "role"][:1]
            return chosen

        writes_before = await writes(platform, (*OWNERS, *FOREIGN))
        for route in routes:
            if route.public:  # answered before any login, the same for everyone
                await call(route, anonymous, {**dict.fromkeys(route.params, "x"), **SHARED_PARAMS}, None)
                continue
            owners: list[str | None] = [o for o in OWNERS if fill(route, o) is not None]
            if not any(p in owned for p in route.params):
                owners = [None]  # the caller's own tenant (lists, creation, calendar, …): no owner's ids
            if not owners:
                raise SweepError(f"{route.key}: no owner has real ids for all of {route.params}")
            for n, owner in enumerate(owners):
                values = fill(route, owner) if owner else SHARED_PARAMS
                # Every tampered token once per route; for a further owner's ids, two of them.
                forged = tampered[owner or "city"] if n == 0 else tampered[owner][:2]
                if owner is None:
                    own = [c for c in users if c.kind == "owner"]
                    others = [c for c in users if c.kind == "foreign"]
                else:
                    own, others = [c for c in users if c.actor.tenant == owner], foreign_callers(route)
                for caller in [anonymous, *forged, *own, *others]:
                    await call(route, caller, values, owner)
            if route.method in WRITES:  # a write that got through commits its audit row: name the route
                now = await writes(platform, (*OWNERS, *FOREIGN))
                if now != writes_before:
                    changed.append(f"{route.key}: writes recorded {writes_before} → {now}")
                    writes_before = now
        # And nothing at all changed, in any tenant (also what a write outside the audited path would do).
        await eventually(lambda: settled(platform, TENANTS), within=60,
                         what="every event delivered after the sweep")
        after = await digest(platform, TENANTS)
        changed += [f"state of {tenant} table {table} changed" for (tenant, table), h in after.items()
                    if before.get((tenant, table)) != h]

        non_public = [r for r in routes if not r.public]
        print(f"\nroute isolation sweep ({'sqlite' if platform.settings.is_sqlite else 'postgresql'}): "
              f"{len(routes)} route-methods ({len(non_public)} behind a login), {len(users)} users, anonymous, "
              f"{len(tampered['city'])} tampered tokens: {tally.calls} calls, {len(tally.leaks)} leaks, "
              f"{len(tally.unexpected)} unexpected answers, {len(changed)} changes of state; "
              f"{tally.skipped} calls the policy allows not made (writes; the owners' repeated reads); "
              f"answers {dict(sorted(tally.statuses.items()))}; setup {setup_seconds:.0f} s, "
              f"sweep {time.monotonic() - started - setup_seconds:.0f} s")
        for line in tally.over_refused:
            print("  allowed by the policy, refused or not found:", line)
        assert not tally.leaks, "\n".join(tally.leaks[:50])
        assert not tally.unexpected, "\n".join(tally.unexpected[:50])
        assert not changed, "\n".join(changed)
        # Coverage: every route behind the login was called by anonymous, tampered and foreign callers and
        # reached by the owners' own users: at least routes × (anonymous + tampered + a user of each foreign
        # tenant) calls.
        kinds = {"anonymous", "tampered", "foreign", "owner"}
        missing = {r.key: kinds - tally.covered.get(r.key, set()) for r in non_public}
        assert not any(missing.values()), {k: v for k, v in missing.items() if v}
        assert tally.calls >= len(non_public) * (1 + len(tampered["city"]) + len(FOREIGN))
