"""Channels: how a notification leaves the platform (the in-app list needs none).

A channel is anything with a ``name`` and ``async def send(message)`` that returns once the message is
handed over and raises if it was not: ``Undeliverable`` when trying again cannot help (the user has no
address for this channel, the server refuses the recipient for good), any other exception when it may
(the server is down). The dispatcher retries the latter with backoff and records the former as failed.
``send`` may be called again for a message it already sent (at-least-once: a node that dies after
sending and before recording it sends it again); e-mails carry the notification's id as ``Message-ID``.

Shipped: ``log`` (the default: one INFO line on logger ``duban.notifications``) and ``email`` (SMTP).

Adding an adapter (政务 IM, SMS gateway) is one new file, e.g. ``notifications/govim.py``::

    class GovImChannel:
        name = "govim"

        def __init__(self, endpoint: str, token: str) -> None: ...

        @classmethod
        def from_settings(cls, settings: Settings) -> GovImChannel:
            # check the settings here: a missing endpoint is an error when the node starts
            return cls(settings.govim_endpoint, settings.govim_token)

        async def send(self, message: OutgoingMessage) -> None:
            ...  # POST to the IM for message.tenant / message.recipient; raise on any failure,
            # Undeliverable if the directory has no such person

plus its line in ``FACTORIES`` below (``"govim": GovImChannel.from_settings``) and, if it needs any, its
settings (``govim_*`` fields in settings.py and deploy/env.example); then ``DUBAN_NOTIFY_CHANNELS=log,govim``.
The dispatcher, the tables and the API do not change. The recipient's address comes with the message
(``email`` today; an IM addresses people by tenant and username). An SMS adapter needs a mobile number,
which the users table does not hold yet: that is a column next to ``users.email`` and a field of
``OutgoingMessage``.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Protocol

from duban.errors import InvalidInput
from duban.settings import Settings

log = logging.getLogger("duban.notifications")

TLS_MODES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class OutgoingMessage:
    """One notification for one person, with the addresses the channels need."""

    notification_id: str
    tenant: str
    recipient: str  # username in the tenant
    display_name: str
    email: str | None
    kind: str
    title: str
    body: str
    item_ref: str | None = None
    assignment_id: str | None = None


class Undeliverable(Exception):
    """This channel can never deliver this message (retrying will not help)."""


class Channel(Protocol):
    """A way out of the platform: ``send`` returns once the message is handed over, raises otherwise."""

    name: str

    async def send(self, message: OutgoingMessage) -> None: ...


class LogChannel:
    """Writes each notification to the log (the default; useful on a node without any gateway)."""

    name = "log"

    @classmethod
    def from_settings(cls, settings: Settings) -> LogChannel:
        return cls()

    async def send(self, message: OutgoingMessage) -> None:
        log.info("notification %s to %s/%s (%s): %s — %s", message.notification_id, message.tenant,
                 message.recipient, message.kind, message.title, message.body)


class SmtpChannel:
    """E-mail through an SMTP server (stdlib ``smtplib`` in a worker thread), UTF-8 subject and body."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, *, tls: str = "none", username: str = "",
                 password: str = "", timeout: float = 30.0, tls_context: ssl.SSLContext | None = None) -> None:
        if tls not in TLS_MODES:
            raise InvalidInput(f"DUBAN_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        if not host or not sender:
            raise InvalidInput("the email channel needs DUBAN_SMTP_HOST and DUBAN_SMTP_SENDER")
        if "@" not in sender:
            raise InvalidInput(f"DUBAN_SMTP_SENDER must be an e-mail address, not {sender!r}")
        if password and not username:
            raise InvalidInput("DUBAN_SMTP_PASSWORD is set without DUBAN_SMTP_USERNAME")
        self.host, self.port, self.sender, self.tls = host, port, sender, tls
        self.username, self.password, self.timeout = username, password, timeout
        # The system's CAs by default (OpenSSL also reads SSL_CERT_FILE, e.g. for a government CA).
        self.tls_context = tls_context

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpChannel:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_sender, tls=settings.smtp_tls,
                   username=settings.smtp_username, password=settings.smtp_password)

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        """The e-mail of one notification (RFC 2047 subject, UTF-8 body)."""
        if not message.email:
            raise Undeliverable(f"用户 {message.recipient} 没有登记电子邮箱 (no e-mail address)")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = formataddr((message.display_name, message.email))
        mail["Subject"] = message.title
        mail["Date"] = formatdate(localtime=True)
        # Stable per notification: a copy sent again after a crash is recognisably the same message.
        mail["Message-ID"] = f"<{message.notification_id}.{message.tenant}@{self.sender.rpartition('@')[2]}>"
        mail.set_content(message.body)
        return mail

    async def send(self, message: OutgoingMessage) -> None:
        mail = self.compose(message)
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: EmailMessage) -> None:
        context = self.tls_context or ssl.create_default_context()
        if self.tls == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.tls == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
            try:
                smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                if codes and all(code >= 500 for code in codes):  # 5xx: refused for good
                    raise Undeliverable(f"邮件服务器拒收 (recipient refused): {exc.recipients}") from exc
                raise


# name → how to make the channel from the settings (raising InvalidInput on a bad configuration).
FACTORIES: dict[str, Callable[[Settings], Channel]] = {
    "log": LogChannel.from_settings,
    "email": SmtpChannel.from_settings,
}


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The node's channels by name, in the order ``notify_channels`` names them; a bad name or a
    channel missing its settings is an ``InvalidInput`` when the node starts."""
    unknown = [name for name in settings.notify_channels if name not in FACTORIES]
    if unknown:
        raise InvalidInput(f"DUBAN_NOTIFY_CHANNELS names unknown channels: {', '.join(unknown)} "
                           f"(known: {', '.join(FACTORIES)})")
    return {name: FACTORIES[name](settings) for name in dict.fromkeys(settings.notify_channels)}
