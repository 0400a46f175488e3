"""Wiring: one ``Platform`` is one node — the registry, the hosted tenants' storage, the policy, the
event relay and consumer, and the archive."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from duban.accounts.repository import AccountRepository
from duban.accounts.service import DEMO_PASSWORD, create_user, demo_accounts, load_grants
from duban.archive import ArchiveStore
from duban.db.database import Database
from duban.errors import InvalidInput
from duban.events.bus import Bus
from duban.events.consumer import Consumer
from duban.events.inbox import Inbox
from duban.events.relay import Relay
from duban.items.events import HANDLERS
from duban.policy.policy import Policy
from duban.settings import Settings
from duban.tenancy.registry import Registry, load_registry

log = logging.getLogger("duban")


def build_registry(settings: Settings) -> Registry:
    """Load the tenant registry named by the settings."""
    return load_registry(settings.tenants_file)


def hosted_tenants(settings: Settings, registry: Registry) -> list[str]:
    """The tenants this node serves (all, unless the settings name some)."""
    if not settings.hosted_tenants:
        return [t.code for t in registry.tenants]
    unknown = [c for c in settings.hosted_tenants if c not in registry]
    if unknown:
        raise InvalidInput(f"DUBAN_HOSTED_TENANTS names unknown tenants: {', '.join(unknown)}")
    return list(settings.hosted_tenants)


def build_database(settings: Settings, registry: Registry | None = None) -> Database:
    """Storage for the hosted tenants."""
    registry = registry or build_registry(settings)
    return Database(settings, hosted_tenants(settings, registry))


class Platform:
    """One node: everything a request or an event needs, started and stopped together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = build_registry(settings)
        self.tenants = hosted_tenants(settings, self.registry)
        self.db = Database(settings, self.tenants)
        self.policy = Policy(settings.policies_dir, self.registry)
        self.bus = Bus(settings.nats_url, settings.nats_stream, settings.nats_replicas, settings.nats_ack_wait)
        self.archive = ArchiveStore(
            settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key,
            secure=settings.s3_secure, bucket_prefix=settings.s3_bucket_prefix,
        )
        self.relay = Relay(self.db, self.bus, self.tenants, settings.relay_poll_seconds)
        self.inbox = Inbox(self.db, self.policy, HANDLERS, timedelta(minutes=settings.gap_alert_minutes))
        self.consumer = Consumer(self.db, self.bus, self.inbox, self.tenants, on_commit=self.relay.wake)
        self._tasks: list[asyncio.Task] = []

    async def migrate(self) -> None:
        """Apply migrations to every hosted tenant."""
        await self.db.migrate()

    async def seed_demo(self) -> list[tuple[str, str, list[str]]]:
        """Create the demo accounts of every hosted tenant that has no users yet; returns all logins."""
        logins = []
        for code in self.tenants:
            tenant = self.registry.get(code)
            accounts = demo_accounts(code, tenant.kind if tenant else "")
            async with self.db.transaction(code) as session:
                repo = AccountRepository(session, code)
                if not await repo.all_with_roles():
                    for username, name, roles in accounts:
                        await create_user(repo, self.policy, username, name, DEMO_PASSWORD, roles,
                                          cost=self.settings.password_cost)
            logins += [(code, username, roles) for username, _, roles in accounts]
        return logins

    async def start(self) -> None:
        """Load grants, connect to NATS, start the relay and the consumers."""
        for code in self.tenants:
            async with self.db.transaction(code) as session:
                await load_grants(AccountRepository(session, code), self.policy)
        await self.bus.connect()
        self._tasks = [
            asyncio.create_task(self.relay.run(), name="duban-relay"),
            asyncio.create_task(self.consumer.run(), name="duban-consumer"),
        ]

    async def stop(self) -> None:
        """Stop background work, drain NATS, close the databases."""
        self.consumer.stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=5)
            for task in stuck:
                log.warning("background task %s did not stop in time", task.get_name())
        self._tasks = []
        await self.consumer.close()
        await self.bus.close()
        await self.db.dispose()
