"""SQL for users, their roles and their login sessions in one tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from duban.accounts.models import LoginSession, User, UserRole


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
                  email: str | None = None) -> User:
        """Create a user with roles."""
        user = User(username=username, display_name=display_name, password_hash=password_hash, email=email,
                    roles=[UserRole(role=r) for r in roles])
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

    async def session_of(self, token_hash: str, now: datetime) -> tuple[LoginSession, User] | None:
        """An unexpired session token and its active user."""
        row = (await self.session.execute(
            select(LoginSession, User).join(User, LoginSession.user_id == User.id)
            .where(LoginSession.token_hash == token_hash, LoginSession.expires_at > now, User.active.is_(True))
        )).first()
        return (row[0], row[1]) if row else None

    async def drop_session(self, token_hash: str) -> None:
        """Forget a login (log out)."""
        await self.session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))
