"""Every input is bounded and checked before it reaches a route: header count and size, the path and the
query (length, control characters, UTF-8), every string of a JSON body at any depth (``source`` too); and
the OpenAPI document tells the truth about the answers and the shapes, served without anything from
elsewhere."""

from __future__ import annotations

import re

import httpx
import pytest

from duban.items.schemas import SOURCE_SCHEMAS
from duban.openapi import EXTRA
from helpers import login, plan
from livehttp import serving


async def test_too_many_or_too_large_headers_are_431(client):
    inspector = await login(client, "city", "inspector")
    many = [(f"x-extra-{i}", "1") for i in range(150)]
    for headers in ([*inspector.items(), *many], {**inspector, "x-big": "a" * 20_000}):
        for method, path in (("GET", "/api/items"), ("POST", "/api/login"), ("GET", "/health")):
            r = await client.request(method, path, headers=headers)
            assert r.status_code == 431, (method, path, r.status_code, r.text[:200])
            assert "请求头过大" in r.json()["detail"] and r.headers["x-frame-options"] == "DENY"
    assert (await client.get("/api/items", headers={**inspector, "x-ok": "a" * 2_000})).status_code == 200


async def test_the_real_server_refuses_huge_headers_and_goes_on(client, platform):
    inspector = await login(client, "city", "inspector")
    async with serving(platform) as base, httpx.AsyncClient(base_url=base) as http:
        for headers in ({**inspector, "x-big": "a" * 1_000_000}, [*inspector.items(),
                                                                  *((f"x-{i}", "1") for i in range(5_000))]):
            r = await http.get("/api/items", headers=headers)
            assert r.status_code in (400, 431), (r.status_code, r.text[:200])  # uvicorn's parser, or ours
        assert (await http.get("/api/items", headers=inspector)).status_code == 200


@pytest.mark.parametrize(("path", "status"), [
    ("/api/items/%00", 400), ("/api/items/a%01b/tree", 400), ("/api/items?q=%00", 400),
    ("/api/items?state=%1b[31m", 400), ("/api/items?q=%ff%fe", 400), ("/api/meetings?kind=%c3%28", 400),
    ("/api/items/" + "x" * 2_000, 414), ("/api/items?q=" + "x" * 9_000, 414),
])
async def test_control_characters_bad_utf8_or_length_in_the_address_are_refused(client, path, status):
    inspector = await login(client, "city", "inspector")
    r = await client.get(path, headers=inspector)
    assert r.status_code == status, (path, r.status_code, r.text[:200])
    assert r.json()["status_code"] == status and ("控制字符" in r.json()["detail"] or "UTF-8" in r.json()["detail"]
                                                  or "地址过长" in r.json()["detail"])


@pytest.mark.parametrize(("change", "says"), [
    ({"source": {"leader": "市长", "instruction_text": "请\u0000办理", "instructed_on": "2026-10-01"}},
     "source.instruction_text含有不可见的控制字符"),
    ({"source": {"leader": "   ", "instruction_text": "请办理", "instructed_on": "2026-10-01"}},
     "source.leader不能为空"),
    ({"units": [("qingjiangpu\u0007", "lead")]}, "控制字符"),
    ({"requirements": " \n\t "}, "办理要求不能为空"),
    ({"source": {"leader": "市长", "instruction_text": "请办理" * 7000, "instructed_on": "2026-10-01"}}, "20000"),
    ({"source_kind": "other", "source": {"leader": "副市长", "note": "x" * 2001}}, "2000"),
    ({"source_kind": "guidance", "source": {"tenant": "t" * 33}}, "32"),
])
async def test_every_string_of_a_body_is_checked_source_too(client, change, says):
    inspector = await login(client, "city", "inspector")
    r = await client.post("/api/items", json=plan(**change), headers=inspector)
    assert r.status_code == 400 and says in r.text, r.text[:300]


async def test_a_control_character_in_any_body_is_refused_before_the_route(client):
    handler = await login(client, "qingjiangpu", "handler")
    for path, body in (("/api/assignments/x/feedback", {"text": "ok", "kind": "progress\u0000"}),
                       ("/api/assignments/x/extensions", {"reason": "\u001b[2J"}),
                       ("/api/login", {"tenant": "city\u0000", "username": "x", "password": "y"})):
        r = await client.post(path, json=body, headers=handler)
        assert r.status_code == 400 and "控制字符" in r.json()["detail"], (path, r.text[:200])


# ---- the document ----------------------------------------------------------------------------------
OUTSIDE = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


async def test_schema_pages_load_nothing_from_elsewhere(client):
    page = await client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text.lower() and "<link" not in page.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert 'href="/schema/openapi.json"' in page.text and "/api/items/{item_id}/assign" in page.text
    for path in ("/schema", "/schema/openapi.json", "/schema/openapi.yaml"):
        r = await client.get(path)
        assert r.status_code == 200 and not OUTSIDE.search(r.text), (path, OUTSIDE.search(r.text))
    for ui in ("/schema/swagger", "/schema/redoc", "/schema/scalar", "/schema/rapidoc", "/schema/elements"):
        r = await client.get(ui)
        assert r.status_code == 404 and not OUTSIDE.search(r.text) and "<script" not in r.text, ui


async def test_options_lists_every_method_of_a_path(client):
    for path, methods in (("/api/items", {"GET", "POST", "OPTIONS"}),
                          ("/api/items/x", {"GET", "PATCH", "OPTIONS"}),
                          ("/api/assignments/x/co-views", {"GET", "POST", "OPTIONS"})):
        r = await client.options(path)
        assert set(r.headers["allow"].replace(" ", "").split(",")) == methods, (path, r.headers["allow"])


async def test_the_document_lists_every_answer_of_each_kind_of_route(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    operations = {f"{method.upper()} {path}": op for path, item in paths.items() for method, op in item.items()}
    for name, op in operations.items():
        answers = set(op["responses"])
        assert {"414", "431", "500"} <= answers, name
        public = name.split()[1] in ("/api/login", "/health", "/ready")  # open by design (README)
        assert public == (op.get("security") == [{}]), name
        if not public:
            assert {"400", "401", "403"} <= answers, name
        if "{" in name and not public:
            assert "404" in answers, name
        if name.split()[0] in ("POST", "PUT", "PATCH", "DELETE") and not public:
            assert "409" in answers, name
        for code in answers - {"200", "201", "204"}:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            # /ready's 503 is its report (each check and why), not an error of the request.
            expected = "ReadyRead" if (name, code) == ("GET /ready", "503") else "ErrorRead"
            assert schema == {"$ref": f"#/components/schemas/{expected}"}, (name, code)
        if "204" in answers:
            assert "content" not in op["responses"]["204"], name  # no body, no media type
    assert set(EXTRA) <= set(operations), set(EXTRA) - set(operations)
    for name, extra in EXTRA.items():
        assert {str(code) for code in extra} <= set(operations[name]["responses"]), name
    assert {"401", "429"} <= set(operations["POST /api/login"]["responses"])


async def test_the_source_is_documented_as_one_of_the_six_kinds(client):
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    refs = [f"#/components/schemas/{struct.__name__}" for struct in SOURCE_SCHEMAS.values()]
    for holder in ("ItemCreate", "ItemRead"):
        source = schemas[holder]["properties"]["source"]
        assert [choice["$ref"] for choice in source["anyOf"]] == refs and "source_kind" in source["description"]
    assert any(c.get("anyOf") for c in schemas["ItemUpdate"]["properties"]["source"]["oneOf"])
    for struct in SOURCE_SCHEMAS.values():
        schema = schemas[struct.__name__]
        assert schema["additionalProperties"] is False, struct.__name__
        strings = [p for p in schema["properties"].values()
                   if p.get("type") == "string" and not {"enum", "format"} & set(p)]
        assert all("maxLength" in p for p in strings), schema


async def test_a_control_character_in_a_meeting_entrys_source_names_the_entry(client):
    # A meeting's agreed list is checked by its service, which names the entry; the agreed text lands in
    # each item's source, whose every string items.service checks too.
    inspector = await login(client, "city", "inspector")
    entry = {"title": "推进老旧小区改造", "agreed_text": "会议议定\u0000", "division": "督查一处",
             "deadline": "2026-12-31", "units": [{"unit": "qingjiangpu", "role": "lead"}]}
    body = {"kind": "executive", "held_on": "2026-10-30", "session_number": 12, "title": "市政府第12次常务会议",
            "chair": "mayor", "items": [entry]}
    r = await client.post("/api/meetings", json=body, headers=inspector)
    assert r.status_code == 400, r.text
    assert "议定事项第1项" in r.json()["detail"] and "控制字符" in r.json()["detail"], r.text


async def test_errors_are_json_even_on_a_route_that_answers_csv(client):
    # Litestar would send its own refusals in the route's media type: a CSV export's 401 is no CSV.
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        r = await client.get("/api/items/export", headers=headers)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/json"), r.headers
        assert "登录" in r.json()["detail"]
    inspector = await login(client, "city", "inspector")
    r = await client.get("/api/items/export", params={"limit": "0"}, headers=inspector)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/json"), r.text[:200]
