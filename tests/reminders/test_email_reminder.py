"""A 催办 step, end to end: the city's scheduler sends it over NATS, the county's node tells its handler,
and the e-mail reaches a real local SMTP server with the Chinese text intact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from duban.runtime import free_port
from duban.timesource import CHINA, FixedTime
from helpers import eventually, login, plan
from mailserver import SmtpServer

COUNTY = "qingjiangpu"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, smtp):
    return settings.with_(run_jobs=False, notify_channels=("log", "email"), smtp_host="127.0.0.1",
                          smtp_port=smtp.port, smtp_sender="duban@city.duban.test")


def at(day: str, hh: int) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), CHINA).replace(hour=hh)


async def test_a_reminder_arrives_by_email(client, platform, smtp):
    platform.time = FixedTime(at("2026-09-28", 9))
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    handler = await login(client, COUNTY, "handler")
    item_id = (await client.post("/api/items", json=plan(deadline="2026-12-31"), headers=inspector)).json()["id"]
    await client.post(f"/api/items/{item_id}/submit", headers=inspector)
    await client.post(f"/api/items/{item_id}/approve", headers=approver)
    assigned = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assignment_id = assigned.json()["assignments"][0]["id"]

    async def arrived():
        return (await client.get(f"/api/assignments/{assignment_id}", headers=handler)).status_code == 200

    await eventually(arrived, what="the assignment at the county")
    assert (await client.post(f"/api/assignments/{assignment_id}/accept", headers=handler)).status_code == 200

    async def accepted():
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return detail["assignments"][0]["state"] == "accepted"

    await eventually(accepted, what="the acceptance at the city")
    platform.time.set(at("2026-10-09", 9))
    assert await platform.reminders.run_once("city") == 1

    async def mailed():
        return [m for m in smtp.mailbox.messages() if "qingjiangpu" in m["To"]]

    [message] = await eventually(mailed, what="the reminder's e-mail")
    assert message["To"].addresses[0].addr_spec == "handler@qingjiangpu.duban.test"
    assert message["Subject"].startswith("【到期前3个工作日提醒】推进淮安东站综合客运枢纽建设")
    body = message.get_content()
    assert "反馈时限 2026-10-13" in body and "淮安市人民政府办公室" in body
