"""SQL for users, their roles and their login sessions in one tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from duban.accounts.models import AccountSecurity, LoginSession, RecoveryCode, User, UserRole

_SESSION_OF = (
    select(LoginSession.created_at, LoginSession.last_seen_at, User.username, User.display_name,
           LoginSession.scope)
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

    def add_session(self, token_hash: str, user_id: int, expires_at: datetime, now: datetime,
                    scope: str | None = None) -> None:
        """Remember a login (``scope``: what a restricted session may do; None: anything)."""
        self.session.add(LoginSession(token_hash=token_hash, user_id=user_id, expires_at=expires_at, created_at=now,
                                      last_seen_at=now, scope=scope))

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

    async def user_of_session(self, token_hash: str) -> User | None:
        """The user a session belongs to, roles loaded."""
        return await self.session.scalar(
            select(User).options(selectinload(User.roles)).join(LoginSession, LoginSession.user_id == User.id)
            .where(LoginSession.token_hash == token_hash))

    async def drop_sessions(self, user_id: int, keep: str | None = None) -> int:
        """End every session of a user (but the one whose hash is ``keep``); returns how many."""
        statement = delete(LoginSession).where(LoginSession.user_id == user_id)
        if keep is not None:
            statement = statement.where(LoginSession.token_hash != keep)
        return (await self.session.execute(statement)).rowcount or 0

    async def set_session_scope(self, token_hash: str, scope: str | None) -> None:
        """Widen (or narrow) what a session may do."""
        await self.session.execute(update(LoginSession).where(LoginSession.token_hash == token_hash)
                                   .values(scope=scope))

    async def security_of(self, user_id: int) -> AccountSecurity | None:
        """A user's password state and second factor (None: neither ever set)."""
        return await self.session.get(AccountSecurity, user_id)

    async def security_for_update(self, user_id: int) -> AccountSecurity:
        """A user's security row, created when missing."""
        row = await self.security_of(user_id)
        if row is None:
            row = AccountSecurity(user_id=user_id, must_change_password=False)
            self.session.add(row)
            await self.session.flush()
        return row

    async def use_totp_step(self, user_id: int, step: int) -> bool:
        """Record ``step`` as the last used, only if it is later than the last one: False when another
        login used it (or a later one) first — one statement, so two racing logins cannot both win."""
        result = await self.session.execute(
            update(AccountSecurity)
            .where(AccountSecurity.user_id == user_id,
                   or_(AccountSecurity.totp_last_step.is_(None), AccountSecurity.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def replace_recovery_codes(self, user_id: int, hashes: list[str]) -> None:
        """A user's recovery codes are these (the old ones are void)."""
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        self.session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in hashes)

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        """Spend one unused recovery code; False when there is none with this hash."""
        result = await self.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None))
            .values(used_at=now).execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def unused_recovery_codes(self, user_id: int) -> int:
        """How many recovery codes a user has left."""
        rows = await self.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user_id,
                                                                       RecoveryCode.used_at.is_(None)))
        return len(list(rows))

    async def clear_totp(self, user_id: int) -> None:
        """Forget a user's second factor and recovery codes (they enroll again at the next login)."""
        await self.session.execute(update(AccountSecurity).where(AccountSecurity.user_id == user_id)
                                   .values(totp_secret=None, totp_enrolled_at=None, totp_last_step=None))
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))

    async def security_by_user(self) -> dict[int, AccountSecurity]:
        """Every user's security row, by user id."""
        return {row.user_id: row for row in await self.session.scalars(select(AccountSecurity))}

    async def set_roles(self, user_id: int, roles: list[str]) -> None:
        """Make these the user's roles (old rows deleted first: the (user, role) pair is unique)."""
        await self.session.execute(delete(UserRole).where(UserRole.user_id == user_id))
        self.session.add_all(UserRole(user_id=user_id, role=r) for r in roles)
        await self.session.flush()
