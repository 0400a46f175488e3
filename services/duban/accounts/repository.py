"""SQL for users, their roles and their login sessions in one tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from duban.accounts.models import LoginSession, User, UserRole

_SESSION_OF = (
    select(LoginSession.created_at, LoginSession.last_seen_at, User.username, User.display_name)
    .join(User, LoginSession.user_id == User.id)
    .where(LoginSession.token_hash == bindparam("token_hash"), LoginSession.expires_at > bindparam("now"),
           User.active.is_(True))
)


class AccountRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def by_username(self, username: str) -> User | None:
        """The user with this name, roles loaded."""
        return await self.session.scalar(
            select(User).options(selectinload(User.roles)).where(User.username == username)
        )

    async def all_with_roles(self) -> list[User]:
        """Every user of the tenant, roles loaded."""
        return list(await self.session.scalars(select(User).options(selectinload(User.roles)).order_by(User.id)))

    async def add(self, username: str, display_name: str, password_hash: str, roles: list[str],
                  email: str | None = None, group: str | None = None) -> User:
        """Create a user with roles (and the 督查组 a group member belongs to)."""
        user = User(username=username, display_name=display_name, password_hash=password_hash, email=email,
                    group_code=group, roles=[UserRole(role=r) for r in roles])
        self.session.add(user)
        await self.session.flush()
        return user

    async def usernames_with_role(self, role: str) -> list[str]:
        """The active users holding a role (whom a reminder of that step goes to)."""
        return list(await self.session.scalars(
            select(User.username).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role, User.active.is_(True)).order_by(User.username)))

    def add_session(self, token_hash: str, user_id: int, expires_at: datetime, now: datetime) -> None:
        """Remember a login."""
        self.session.add(LoginSession(token_hash=token_hash, user_id=user_id, expires_at=expires_at, created_at=now,
                                      last_seen_at=now))

    async def session_of(self, token_hash: str, now: datetime) -> Row | None:
        """An unexpired session token's (created_at, last_seen_at) and its active user's (username,
        display_name). Asked on every request: one statement built once, run on the session's connection
        (plain rows: none of the ORM's work per statement)."""
        connection = await self.session.connection()
        return (await connection.execute(_SESSION_OF, {"token_hash": token_hash, "now": now})).first()

    async def touch_session(self, token_hash: str, now: datetime) -> None:
        """Record a use of a session (its idle time starts again)."""
        await self.session.execute(update(LoginSession).where(LoginSession.token_hash == token_hash)
                                   .values(last_seen_at=now))

    async def drop_session(self, token_hash: str) -> None:
        """Forget a login (log out)."""
        await self.session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))
