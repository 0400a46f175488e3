"""Wiring: one ``Platform`` is one node — the registry, the hosted tenants' storage, the policy, the
event relay and consumer, and the archive."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from duban.accounts.manage import enroll_demo
from duban.accounts.repository import AccountRepository
from duban.accounts.service import (
    DEMO_PASSWORD,
    create_user,
    demo_accounts,
    demo_email,
    demo_group_members,
    load_grants,
    needs_second_factor,
)
from duban.accounts.throttle import LoginThrottle
from duban.accounts.totp import write_identities
from duban.archive import ArchiveStore
from duban.attachments.store import AttachmentStore
from duban.auth import SeenSessions
from duban.calendar.service import read_calendar, watch
from duban.calendar.workdays import WorkCalendar
from duban.context import EventContext
from duban.counits.service import HANDLERS as COUNIT_HANDLERS
from duban.db.database import Database
from duban.errors import InvalidInput
from duban.events.bus import Bus
from duban.events.consumer import Consumer
from duban.events.inbox import Inbox
from duban.events.keys import Keyring
from duban.events.relay import Relay
from duban.extensions.service import HANDLERS as EXTENSION_HANDLERS
from duban.figures.job import FiguresJob
from duban.figures.service import HANDLERS as FIGURES_HANDLERS
from duban.items.events import HANDLERS as ITEM_HANDLERS
from duban.notifications.channels import channels_from_settings
from duban.notifications.service import Dispatcher
from duban.policy.policy import Policy
from duban.proposals.service import HANDLERS as PROPOSAL_HANDLERS
from duban.reminders.job import ReminderJob
from duban.reminders.service import HANDLERS as REMINDER_HANDLERS
from duban.settings import Settings
from duban.supervision.service import HANDLERS as SUPERVISION_HANDLERS
from duban.tenancy.registry import Registry, load_registry
from duban.timesource import time_source
from duban.tree.service import HANDLERS as TREE_HANDLERS

log = logging.getLogger("duban")
# What each event kind does at the receiver, by domain.
HANDLERS = {**ITEM_HANDLERS, **SUPERVISION_HANDLERS, **EXTENSION_HANDLERS, **REMINDER_HANDLERS, **TREE_HANDLERS,
            **FIGURES_HANDLERS, **COUNIT_HANDLERS, **PROPOSAL_HANDLERS}


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
        self.bus = Bus(settings.nats_url, settings.nats_stream, settings.nats_replicas, settings.nats_ack_wait,
                       user=settings.nats_user, password=settings.nats_password, ca_file=settings.nats_ca_file)
        self.archive = ArchiveStore(
            settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key,
            secure=settings.s3_secure, bucket_prefix=settings.s3_bucket_prefix,
        )
        self.attachments = AttachmentStore(
            settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key,
            secure=settings.s3_secure, bucket_prefix=settings.s3_bucket_prefix,
            kill_after_copy=settings.fault_kill_after_copy,
        )
        # Every tenant's public keys; the private keys of the hosted tenants (`duban keys init`).
        self.keys = Keyring(settings.keys_path, settings.private_keys_path, self.tenants)
        self.relay = Relay(self.db, self.bus, self.tenants, settings.relay_poll_seconds, self.keys)
        # Raises InvalidInput at start for an unknown channel or one missing its settings.
        self.dispatcher = Dispatcher(self.db, self.tenants, channels_from_settings(settings),
                                     settings.relay_poll_seconds)
        # Tests put a FixedTime here to move time; DUBAN_FIXED_TIME stops it for drills.
        self.time = time_source(settings.fixed_time)
        self.seen_sessions = SeenSessions(settings.session_cache_seconds)  # auth.py
        self.reminders = ReminderJob(self)
        self.figures = FiguresJob(self)
        self.login_throttle = LoginThrottle(settings.login_max_failures, settings.login_lockout_minutes,
                                            settings.login_rate_per_minute)
        # The statutory working days: the package's years until start() adds the notices loaded here.
        self.calendar = WorkCalendar()
        self.inbox = Inbox(self.db, self.policy, HANDLERS, self.keys, timedelta(minutes=settings.gap_alert_minutes),
                           contexts=self.event_context)
        self.consumer = Consumer(self.db, self.bus, self.inbox, self.tenants, on_commit=self.committed)
        self._tasks: list[asyncio.Task] = []

    def event_context(self, session: AsyncSession, tenant: str) -> EventContext:
        """What an incoming event's handler works with."""
        return EventContext(tenant, session, self.registry, self.calendar, self.time, self.attachments)

    def committed(self, tenant: str) -> None:
        """A transaction of ``tenant`` committed: send its new events and notifications now."""
        self.relay.wake(tenant)
        self.dispatcher.wake(tenant)

    async def migrate(self) -> None:
        """Apply migrations to every hosted tenant."""
        await self.db.migrate()

    async def seed_demo(self) -> list[tuple[str, str, list[str]]]:
        """Create the demo accounts of every hosted tenant that has no users yet; returns all logins.
        Those holding a second-factor role are enrolled; their secrets go to the data directory's
        demo identities file."""
        logins, identities = [], {}
        for code in self.tenants:
            tenant = self.registry.get(code)
            accounts = [(*account, None) for account in demo_accounts(code, tenant.kind if tenant else "")]
            accounts += demo_group_members(self.registry, code)  # 第四条2: a member of each 督查组
            async with self.db.transaction(code) as session:
                repo = AccountRepository(session, code)
                if not await repo.all_with_roles():
                    identities[code] = {}
                    for username, name, roles, group in accounts:
                        user = await create_user(repo, self.policy, username, name, DEMO_PASSWORD, roles,
                                                 cost=self.settings.password_cost, email=demo_email(code, username),
                                                 group=group)
                        identities[code][username] = {"password": DEMO_PASSWORD}
                        if needs_second_factor(roles, self.settings.second_factor_roles):  # enrolled: TOTP
                            secret, codes = await enroll_demo(repo, user.id, self.time.now())
                            identities[code][username].update(totp_secret=secret, recovery_codes=codes)
            logins += [(code, username, roles) for username, _, roles, _ in accounts]
        if identities:  # the demo passwords and TOTP secrets, 0600 (`duban totp code` reads it)
            write_identities(self.settings.data_dir, identities)
        return logins

    async def start(self, *, worker: bool = False) -> None:
        """Load grants, connect to NATS, start the relay, the consumers and (``run_jobs``) the jobs.
        A ``worker`` (``duban worker``) runs the jobs and what sends their output, but takes no events."""
        for code in self.tenants:
            async with self.db.transaction(code) as session:
                await load_grants(AccountRepository(session, code), self.policy)
        self.calendar = await read_calendar(self.db)
        missing = self.keys.missing_private()
        if missing:
            raise InvalidInput(f"no signing key for {', '.join(missing)} in {self.keys.private_keys_dir}: "
                               f"run `duban keys init` on this node")
        await self.bus.connect()
        self._tasks = [
            asyncio.create_task(self.relay.run(), name="duban-relay"),
            asyncio.create_task(self.dispatcher.run(), name="duban-dispatcher"),
            asyncio.create_task(watch(self), name="duban-calendar"),
        ]
        if not worker:
            self._tasks.append(asyncio.create_task(self.consumer.run(), name="duban-consumer"))
        if self.settings.run_jobs or worker:
            self._tasks.append(asyncio.create_task(self.reminders.run(), name="duban-reminders"))
            self._tasks.append(asyncio.create_task(self.figures.run(), name="duban-figures"))

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
