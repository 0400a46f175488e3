"""Request-scoped dependencies: the platform, and the unit of work of the caller's tenant."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar import Request

from duban.context import TenantContext
from duban.platform import Platform
from duban.policy.policy import Actor


def platform_of(request: Request) -> Platform:
    return request.app.state.platform


async def provide_platform(request: Request) -> Platform:
    """The node's platform."""
    return platform_of(request)


async def provide_ctx(request: Request) -> AsyncGenerator[TenantContext, None]:
    """One transaction in the caller's tenant: committed after the handler, before the response is sent."""
    platform = platform_of(request)
    actor: Actor = request.user
    async with platform.db.transaction(actor.tenant) as session:
        yield TenantContext(actor.tenant, session, actor, platform.registry, platform.policy, platform.calendar,
                            platform.time)
    platform.committed(actor.tenant)  # send its new events and notifications now
