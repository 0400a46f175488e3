"""The e-mail channel against a real SMTP server (aiosmtpd, on a free port, in a thread): a running node's
dispatcher delivers a Chinese reminder that decodes intact; while the server is down the delivery is
retried and then sent once; a user without an address fails with the reason and is not retried."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from duban.accounts.models import User
from duban.accounts.repository import AccountRepository
from duban.accounts.service import create_user
from duban.notifications.models import Delivery
from duban.notifications.service import notify
from duban.runtime import free_port
from helpers import eventually, login
from mailserver import SmtpServer

COUNTY = "qingjiangpu"
SENDER = "duban@city.duban.test"
TITLE = "【催办】关于推进淮安东站综合客运枢纽建设的反馈将于10月13日到期"
BODY = "清江浦区人民政府：\n\n请于2026年10月13日（第7个工作日）前书面反馈办理进展。\n\n市政府办公室督查室"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server on a free port, not yet started."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def settings(settings, smtp):  # noqa: ANN001 — the conftest's node, sending e-mail to this test's server
    return settings.with_(notify_channels=("log", "email"), smtp_host="127.0.0.1", smtp_port=smtp.port,
                          smtp_sender=SENDER)


async def _deliveries(platform, notification_id: str) -> dict[str, Delivery]:
    async with platform.db.transaction(COUNTY) as session:
        rows = await session.scalars(select(Delivery).where(Delivery.notification_id == notification_id))
        return {d.channel: d for d in rows}


async def _notify(platform, recipients: list[str], **kwargs) -> list:
    async with platform.db.transaction(COUNTY) as session:
        rows = await notify(session, COUNTY, recipients, "reminder", TITLE, BODY, **kwargs)
    platform.committed(COUNTY)
    return rows


async def test_a_reminder_arrives_by_email_with_its_chinese_text_intact(client, platform, smtp):
    smtp.start()
    n, = await _notify(platform, ["handler"], item_ref="city/i1", assignment_id="a1", dedup_key="remind:a1:-3")

    async def arrived():
        return smtp.mailbox.received

    [(mail_from, rcpt_tos, _)] = await eventually(arrived, what="the e-mail at the SMTP server")
    assert mail_from == SENDER and rcpt_tos == ["handler@qingjiangpu.duban.test"]
    [mail] = smtp.mailbox.messages()
    assert mail["Subject"] == TITLE
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == BODY  # SMTP carries CRLF line ends
    assert mail.get_content_charset() == "utf-8"
    assert mail["From"] == SENDER
    assert mail["To"].addresses[0].display_name == "承办人"
    assert mail["To"].addresses[0].addr_spec == "handler@qingjiangpu.duban.test"
    assert n.id in mail["Message-ID"]

    async def both_sent():
        found = await _deliveries(platform, n.id)
        return {c: d.state for c, d in found.items()} == {"log": "sent", "email": "sent"} and found

    found = await eventually(both_sent, what="both deliveries recorded as sent")
    assert found["email"].attempts == 1 and found["email"].sent_at is not None
    handler = await login(client, COUNTY, "handler")
    [listed] = (await client.get("/api/notifications", headers=handler)).json()
    assert {d["channel"]: d["state"] for d in listed["deliveries"]} == {"email": "sent", "log": "sent"}


async def test_while_the_server_is_down_the_email_is_retried_then_sent_once(client, platform, smtp):
    platform.dispatcher.retry_seconds, platform.dispatcher.max_retry_seconds = 0.05, 0.2
    n, = await _notify(platform, ["handler"])

    async def retried():
        found = await _deliveries(platform, n.id)
        return found.get("email") and found["email"].attempts >= 2 and found

    found = await eventually(retried, what="failed attempts while the SMTP port is closed")
    assert found["email"].state == "pending" and "Connection refused" in found["email"].last_error
    assert found["log"].state == "sent" and found["log"].attempts == 1, "the other channel is not held up"

    smtp.start()

    async def sent():
        found = await _deliveries(platform, n.id)
        return found["email"].state == "sent" and found

    found = await eventually(sent, what="the e-mail sent once the server is up")
    assert found["email"].attempts >= 3
    assert len(smtp.mailbox.received) == 1
    # More passes of the dispatcher find nothing left to send.
    platform.committed(COUNTY)
    assert await platform.dispatcher.flush(COUNTY) == 0
    assert len(smtp.mailbox.received) == 1
    [mail] = smtp.mailbox.messages()
    assert mail["Subject"] == TITLE


async def test_a_user_without_an_address_fails_with_the_reason_and_is_not_retried(client, platform, smtp):
    smtp.start()
    async with platform.db.transaction(COUNTY) as session:
        await create_user(AccountRepository(session, COUNTY), platform.policy, "clerk", "办事员", "pw-123456",
                          ["handler"], cost=10)
        await session.execute(update(User).where(User.username == "chief").values(email=None))
    rows = await _notify(platform, ["clerk", "chief", "handler", "ghost"])

    async def settled():
        found = {n.recipient: await _deliveries(platform, n.id) for n in rows}
        states = {r: {c: d.state for c, d in f.items()} for r, f in found.items()}
        decided = all(len(s) == 2 and "pending" not in s.values() for s in states.values())
        return decided and found

    found = await eventually(settled, what="every delivery decided")
    for who in ("clerk", "chief"):
        assert found[who]["log"].state == "sent"
        assert found[who]["email"].state == "failed" and found[who]["email"].attempts == 1
        assert "没有登记电子邮箱" in found[who]["email"].last_error
    assert {d.state for d in found["ghost"].values()} == {"failed"}
    assert "不存在" in found["ghost"]["email"].last_error
    assert [rcpt for _, rcpt, _ in smtp.mailbox.received] == [["handler@qingjiangpu.duban.test"]]

    platform.committed(COUNTY)
    await platform.dispatcher.flush(COUNTY)
    again = await _deliveries(platform, rows[0].id)
    assert again["email"].attempts == 1, "a failed delivery is not tried again"
    # The chief still has it in the platform, and sees why no e-mail came.
    [listed] = (await client.get("/api/notifications", headers=await login(client, COUNTY, "chief"))).json()
    email_delivery = next(d for d in listed["deliveries"] if d["channel"] == "email")
    assert email_delivery["state"] == "failed" and "没有登记电子邮箱" in email_delivery["last_error"]
