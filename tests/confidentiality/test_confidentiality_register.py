"""批示件登记 (第八条): the registrar records leaders' written instructions — a number unique in its year, a
date not in the future, a leader of the registry, a level this platform may hold (秘密/机密/绝密 are
refused: they go through the 涉密 channel) — lists them with a cursor, and links each to its item."""

from __future__ import annotations

from datetime import timedelta

from helpers import TEST_NOW, login, plan

TODAY = TEST_NOW.date()


def doc(**changes: object) -> dict:
    body = {"number": "市长批示〔2026〕12号", "instructed_on": (TODAY - timedelta(days=3)).isoformat(),
            "leader": "mayor", "level": "sensitive", "title": "关于淮安东站枢纽建设的批示"}
    body.update(changes)
    return body


async def test_register_read_and_refusals(client):
    registrar = await login(client, "city", "registrar")
    r = await client.post("/api/instructions", json=doc(), headers=registrar)
    assert r.status_code == 201, r.text
    record = r.json()
    assert (record["number"], record["year"], record["leader"], record["leader_name"], record["level"],
            record["level_label"], record["registered_by"], record["item_id"]) == (
        "市长批示〔2026〕12号", 2026, "mayor", "市长", "sensitive", "敏感", "city/registrar", None)
    assert (await client.get(f"/api/instructions/{record['id']}", headers=registrar)).json() == record

    # The same number in the same year: refused, naming who registered it first.
    r = await client.post("/api/instructions", json=doc(title="另一份"), headers=registrar)
    assert r.status_code == 409 and "已登记" in r.json()["detail"] and "city/registrar" in r.json()["detail"]
    # … in another year it is another document.
    r = await client.post("/api/instructions", json=doc(instructed_on="2025-12-30"), headers=registrar)
    assert r.status_code == 201, r.text

    r = await client.post("/api/instructions", json=doc(number="X-1", instructed_on=(TODAY + timedelta(days=1))
                                                         .isoformat()), headers=registrar)
    assert r.status_code == 400 and "晚于今天" in r.json()["detail"]

    for level, label in (("confidential", "秘密"), ("secret", "机密"), ("top_secret", "绝密")):
        r = await client.post("/api/instructions", json=doc(number=f"S-{level}", level=level), headers=registrar)
        assert r.status_code == 400, r.text
        assert label in r.json()["detail"] and "涉密渠道" in r.json()["detail"]

    r = await client.post("/api/instructions", json=doc(number="L-1", leader="nobody"), headers=registrar)
    assert r.status_code == 400 and "mayor" in r.json()["detail"]  # the city names its leaders by code

    # Only the registrar registers; the 督查室 reads the register; a county handler does neither.
    inspector = await login(client, "city", "inspector")
    assert (await client.post("/api/instructions", json=doc(number="I-1"), headers=inspector)).status_code == 403
    assert (await client.get("/api/instructions", headers=inspector)).status_code == 200
    handler = await login(client, "qingjiangpu", "handler")
    assert (await client.get("/api/instructions", headers=handler)).status_code == 403
    # Another tenant's record is not there.
    supervisor = await login(client, "qingjiangpu", "supervisor")
    assert (await client.get(f"/api/instructions/{record['id']}", headers=supervisor)).status_code == 404


async def test_the_register_pages_with_a_cursor(client, platform):
    registrar = await login(client, "city", "registrar")
    made = []
    for n in range(5):
        platform.time.advance(seconds=n % 2)  # two rows share a moment: the id orders them
        r = await client.post("/api/instructions", json=doc(number=f"P-{n}", level="internal"), headers=registrar)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    seen, url = [], "/api/instructions?limit=2&level=internal"
    while url:
        r = await client.get(url, headers=registrar)
        assert r.status_code == 200, r.text
        assert len(r.json()) <= 2
        seen += [row["id"] for row in r.json()]
        link = r.headers.get("link")
        url = link[1:link.index(">")] if link else None
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen)) == 5
    r = await client.get("/api/instructions?cursor=AAAA", headers=registrar)
    assert r.status_code == 400
    r = await client.get("/api/instructions?level=secret", headers=registrar)
    assert r.status_code == 400


async def test_linking_raises_a_draft_items_level(client):
    registrar = await login(client, "city", "registrar")
    inspector = await login(client, "city", "inspector")
    r = await client.post("/api/items", json=plan(), headers=inspector)
    assert r.status_code == 201 and r.json()["confidentiality"] == "internal"
    item_id = r.json()["id"]
    r = await client.post("/api/instructions", json=doc(item_id=item_id), headers=registrar)
    assert r.status_code == 201, r.text
    assert r.json()["item_id"] == item_id
    r = await client.get(f"/api/items/{item_id}", headers=inspector)
    assert r.json()["item"]["confidentiality"] == "sensitive"
    assert any(h["action"] == "confidentiality" and h["actor"] == "city/registrar" for h in r.json()["history"])
    # One document, one item.
    r = await client.post("/api/instructions", json=doc(number="N-2", item_id=item_id), headers=registrar)
    assert r.status_code == 409
    # Not an instruction: refused.
    r = await client.post("/api/items", json=plan(source_kind="other", source={}), headers=inspector)
    other = r.json()["id"]
    r = await client.post("/api/instructions", json=doc(number="N-3", item_id=other), headers=registrar)
    assert r.status_code == 400 and "领导批示" in r.json()["detail"]


async def test_items_refuse_state_secret_levels(client):
    inspector = await login(client, "city", "inspector")
    r = await client.post("/api/items", json=plan(confidentiality="secret"), headers=inspector)
    assert r.status_code == 400 and "涉密渠道" in r.json()["detail"], r.text
    r = await client.post("/api/items", json=plan(confidentiality="sensitive"), headers=inspector)
    assert r.status_code == 201
    r = await client.patch(f"/api/items/{r.json()['id']}", json={"confidentiality": "top_secret"}, headers=inspector)
    assert r.status_code == 400 and "绝密" in r.json()["detail"]
