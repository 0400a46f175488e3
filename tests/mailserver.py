"""A real SMTP server for tests: aiosmtpd on a free port, in a thread, started and stopped at will."""

from __future__ import annotations

import email
import email.policy

from aiosmtpd.controller import Controller


class Mailbox:
    """What the SMTP server received: (envelope sender, recipients, raw message)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK: queued"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.received]


class SmtpServer:
    """An aiosmtpd server on a fixed port that a test can start (and stop) when it likes."""

    def __init__(self, port: int, **options: object) -> None:
        # options: aiosmtpd's, e.g. tls_context/require_starttls, ssl_context, authenticator/auth_required
        self.port, self.options, self.mailbox, self.controller = port, options, Mailbox(), None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()  # returns once the server answers (its own readiness probe)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
