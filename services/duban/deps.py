"""Request-scoped dependencies: the platform, and the unit of work of the caller's tenant."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar import Request

from duban.audit import service as audit
from duban.auth import READ_SESSION, READS
from duban.context import TenantContext
from duban.errors import Forbidden
from duban.platform import Platform
from duban.policy.policy import Actor


def platform_of(request: Request) -> Platform:
    return request.app.state.platform


async def provide_platform(request: Request) -> Platform:
    """The node's platform."""
    return platform_of(request)


async def provide_ctx(request: Request) -> AsyncGenerator[TenantContext, None]:
    """One transaction in the caller's tenant: committed after the handler, before the response is sent.

    A read request works in the read-only transaction its session was checked in (auth.py), ended here
    too. A write request is recorded in the tenant's audit log in that same transaction (so only writes
    that happened are recorded); a denied request in a transaction of its own (the request's is ended
    first)."""
    platform = platform_of(request)
    actor: Actor = request.user
    target = f"{request.method} {request.url.path}"
    reading = request.scope.get(READ_SESSION)
    if reading is not None:
        try:
            yield TenantContext(actor.tenant, reading, actor, platform.registry, platform.policy, platform.calendar,
                                platform.time)
        except Forbidden as exc:
            await reading.close()
            async with platform.db.transaction(actor.tenant) as session:
                await audit.record(session, actor.tenant, actor.ref, "denied", target, platform.time.now(),
                                   exc.message)
            raise
        finally:
            await reading.close()  # before the answer is sent (a streamed one may take long)
        return
    try:
        async with platform.db.transaction(actor.tenant, snapshot=request.method in READS) as session:
            yield TenantContext(actor.tenant, session, actor, platform.registry, platform.policy, platform.calendar,
                                platform.time)
            if request.method not in READS:
                await audit.record(session, actor.tenant, actor.ref, "write", target, platform.time.now())
    except Forbidden as exc:
        async with platform.db.transaction(actor.tenant) as session:
            await audit.record(session, actor.tenant, actor.ref, "denied", target, platform.time.now(), exc.message)
        raise
    if request.method not in READS:  # a read wrote nothing to send
        platform.committed(actor.tenant)  # send its new events and notifications now
