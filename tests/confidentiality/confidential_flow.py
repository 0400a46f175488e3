"""Shared steps of the confidentiality tests: a protected (敏感) item drafted, approved, assigned to the county
and accepted there, and reading the audit log."""

from __future__ import annotations

import io

from httpx import AsyncClient
from sqlalchemy import select

from duban.audit.models import AuditEntry
from helpers import eventually, login, registered_item


async def users(client: AsyncClient) -> dict[str, dict]:
    """Authorization headers of the demo users the tests use, by "tenant/username"."""
    names = [("city", "inspector"), ("city", "approver"), ("city", "supervisor"), ("city", "chief"),
             ("city", "registrar"), ("city", "member_group1"), ("qingjiangpu", "handler"),
             ("qingjiangpu", "chief"), ("qingjiangpu", "leader"), ("qingjiangpu", "supervisor")]
    return {f"{t}/{u}": await login(client, t, u) for t, u in names}


async def assigned(client: AsyncClient, u: dict[str, dict], level: str = "sensitive",
                   accept: bool = True, leader: str | None = None) -> tuple[str, str]:
    """An item of this level approved, assigned to qingjiangpu and (``accept``) signed for there by its
    handler, naming ``leader`` as 分管领导: (item id, assignment id)."""
    item_id = await registered_item(client, u["city/inspector"], u["city/approver"], confidentiality=level)
    r = await client.post(f"/api/items/{item_id}/assign", headers=u["city/inspector"])
    assert r.status_code == 200, r.text
    [sent] = r.json()["assignments"]

    async def arrived():
        r = await client.get(f"/api/assignments/{sent['id']}", headers=u["qingjiangpu/supervisor"])
        return r.status_code == 200

    await eventually(arrived, what="the assignment at the county")
    if accept:
        body = {"leader_in_charge": leader} if leader else None
        r = await client.post(f"/api/assignments/{sent['id']}/accept", headers=u["qingjiangpu/handler"], json=body)
        assert r.status_code == 200, r.text
    return item_id, sent["id"]


async def audit_rows(platform, tenant: str, action: str | None = None) -> list[AuditEntry]:
    async with platform.db.transaction(tenant) as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(await session.scalars(query))


def real_pdf(text: str = "Progress report", pages: int = 2) -> bytes:
    """A real PDF (reportlab) of a few pages."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    for n in range(pages):
        c.drawString(72, 720, f"{text} page {n + 1}")
        c.showPage()
    c.save()
    return out.getvalue()


def real_png(width: int = 480, height: int = 320) -> bytes:
    """A real PNG: a white picture with a blue square."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((40, 40, 140, 140), fill=(0, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
