"""The NATS JetStream connection: one stream ``DUBAN`` on ``duban.v1.>``, one durable pull consumer
per tenant filtered to its own subjects."""

from __future__ import annotations

import asyncio
import logging
import ssl

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from duban.errors import ServiceUnavailable
from duban.events.envelope import SUBJECT_ROOT

log = logging.getLogger("duban.events")


async def _log_error(exc: Exception) -> None:
    log.warning("nats: %s", exc or type(exc).__name__)


async def _log_disconnect() -> None:
    log.info("nats: disconnected")


async def _log_reconnect() -> None:
    log.info("nats: reconnected")


def durable_name(tenant: str) -> str:
    """The durable consumer a tenant reads its events from."""
    return f"tenant_{tenant}"


def inbox_prefix(user: str) -> str:
    """Where a node's replies (and the events it fetches) come to: its own prefix, which NATS lets only
    that node's user subscribe to (``duban nats config``)."""
    return f"_INBOX_{user}" if user else "_INBOX"


class Bus:
    """A JetStream connection with the platform's stream and consumers."""

    def __init__(self, url: str, stream: str = "DUBAN", replicas: int = 1, ack_wait: float = 5.0,
                 user: str = "", password: str = "", ca_file: str | None = None) -> None:
        self.url, self.stream, self.replicas, self.ack_wait = url, stream, replicas, ack_wait
        self.user, self.password, self.ca_file = user, password, ca_file
        self.nc: nats.NATS | None = None
        self.js = None

    async def connect(self) -> None:
        """Connect (reconnecting forever afterwards) and make sure the stream exists."""
        servers = [s.strip() for s in self.url.split(",") if s.strip()]
        options: dict[str, object] = {"user": self.user, "password": self.password} if self.user else {}
        if self.ca_file:  # tls:// servers whose certificates a private CA signed
            options["tls"] = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            self.nc = await asyncio.wait_for(nats.connect(
                servers=servers, name="duban", max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                connect_timeout=5, allow_reconnect=True, drain_timeout=5, error_cb=_log_error,
                disconnected_cb=_log_disconnect, reconnected_cb=_log_reconnect,
                inbox_prefix=inbox_prefix(self.user),
                **options,
            ), timeout=20)
        except Exception as exc:  # nats raises several unrelated types here
            raise ServiceUnavailable(f"cannot reach NATS at {self.url}: {exc}") from exc
        self.js = self.nc.jetstream()
        config = StreamConfig(
            name=self.stream, subjects=[f"{SUBJECT_ROOT}.>"], storage=StorageType.FILE, num_replicas=self.replicas,
            duplicate_window=600.0,  # seconds; the inbox catches duplicates older than this
        )
        try:
            await self.js.stream_info(self.stream)
        except NotFoundError:
            await self.js.add_stream(config)

    async def publish(self, subject: str, body: bytes, msg_id: str) -> bool:
        """Publish and wait for the stream's ack; True if the stream saw this id before."""
        ack = await self.js.publish(subject, body, stream=self.stream, headers={"Nats-Msg-Id": msg_id})
        return bool(ack.duplicate)

    async def subscription(self, tenant: str):  # noqa: ANN201
        """The tenant's durable pull subscription (created on first use; an existing consumer whose
        ``ack_wait`` differs from the setting is updated in place, keeping its position)."""
        subject, durable = f"{SUBJECT_ROOT}.{tenant}.>", durable_name(tenant)
        config = ConsumerConfig(
            durable_name=durable, name=durable, filter_subject=subject, ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL, ack_wait=self.ack_wait, max_deliver=-1,
        )
        try:
            info = await self.js.consumer_info(self.stream, durable)
        except NotFoundError:
            info = None
        if info is None or info.config.ack_wait != self.ack_wait:
            await self.js.add_consumer(self.stream, config)
        return await self.js.pull_subscribe_bind(durable=durable, stream=self.stream)

    async def close(self) -> None:
        """Drain and close the connection."""
        if self.nc is not None and not self.nc.is_closed:
            try:
                await self.nc.drain()
            except Exception:  # closing anyway; a half-dead connection must not block shutdown
                log.debug("drain failed", exc_info=True)
                await self.nc.close()
        self.nc = None
