"""Passwords, logins and the demo accounts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from duban.accounts import totp as totp_codes
from duban.accounts.models import User
from duban.accounts.repository import AccountRepository
from duban.accounts.throttle import LoginThrottle
from duban.audit import service as audit
from duban.db.base import utcnow
from duban.db.database import Database
from duban.errors import Forbidden, InvalidInput, NotAuthenticated
from duban.policy.policy import Actor, Policy
from duban.tenancy.registry import Registry

_R, _P = 8, 1
DEMO_PASSWORD = "duban-demo"


def hash_password(password: str, cost: int = 14) -> str:
    """A salted scrypt hash (N = 2**cost), self-describing so the parameters can change later."""
    if not 10 <= cost <= 20:
        raise InvalidInput(f"password cost must be between 10 and 20, not {cost}")
    salt, n = secrets.token_bytes(16), 2**cost
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, n=n, r=_R, p=_P, maxmem=256 * n * _R)
    b64 = base64.b64encode
    return f"scrypt${n}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), dklen=len(expected), n=int(n), r=int(r), p=int(p),
        maxmem=256 * int(n) * int(r),
    )
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password("not a password")


def token_hash(token: str) -> str:
    """What is stored of a session token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def tenant_of_token(token: str) -> str:
    """Tokens read ``<tenant>.<secret>`` so a node finds the right tenant's sessions."""
    tenant, dot, _ = token.partition(".")
    if not dot or not tenant:
        raise NotAuthenticated("登录凭证无效 (malformed token)")
    return tenant


@dataclass(frozen=True)
class LoginResult:
    token: str
    actor: Actor
    roles: list[str]
    expires_at: object
    scope: str | None = None  # a restricted session (PASSWORD, ENROLL); None: a full one
    recovery_code_used: bool = False


# Roles whose holders must log in with a second factor (TOTP): they decide plans and manage users.
SECOND_FACTOR_ROLES = ("approver", "administrator")
PASSWORD, ENROLL = "password", "enroll"  # what a restricted session is for
WRONG_PASSWORD = "用户名或密码错误 (wrong username or password)"
TOTP_REQUIRED = ("请输入动态口令：该账户须使用第二重验证，请在 totp 字段填写身份验证器上的6位动态口令，"
                 "或在 recovery_code 字段填写一个恢复码 (a TOTP code is required for this account: send the "
                 "6-digit code as 'totp', or a recovery code as 'recovery_code')")
TOTP_WRONG = ("动态口令错误或已使用过，请输入身份验证器上当前的6位动态口令 (wrong or already used TOTP code: send "
              "the current 6-digit code)")
RECOVERY_WRONG = "恢复码错误或已使用过 (wrong or already used recovery code)"


class SecondFactorFailed(NotAuthenticated):
    """The password was right; the second factor missing or wrong (counts against the account too)."""


def needs_second_factor(roles: list[str] | tuple[str, ...], second_factor_roles: tuple[str, ...]) -> bool:
    return any(role in second_factor_roles for role in roles)


async def login(repo: AccountRepository, policy: Policy, username: str, password: str, hours: int,
                now: datetime | None = None, *, totp: str | None = None, recovery_code: str | None = None,
                second_factor_roles: tuple[str, ...] = SECOND_FACTOR_ROLES) -> LoginResult:
    """Check the password (and, for an enrolled account, the TOTP code or a recovery code) and open a
    session. A holder of a second-factor role not enrolled yet gets a session that may only enroll;
    a user whose password was reset, one that may only change it."""
    user = await repo.by_username(username)
    # Hash even for unknown users so timing doesn't tell which usernames exist; in a worker thread, so
    # the hashing (tens of milliseconds by design) never holds up the node's other requests.
    ok = await asyncio.to_thread(verify_password, password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.active:
        raise NotAuthenticated(WRONG_PASSWORD)
    now = now or utcnow()
    security = await repo.security_of(user.id)
    scope, recovered = None, False
    if security is not None and security.totp_enrolled_at is not None:
        recovered = await _second_factor(repo, user.id, security.totp_secret or "", security.totp_last_step, totp,
                                         recovery_code, now)
    elif needs_second_factor([r.role for r in user.roles], second_factor_roles):
        scope = ENROLL
    if security is not None and security.must_change_password:
        scope = PASSWORD
    token = f"{repo.tenant}.{secrets.token_urlsafe(32)}"
    expires_at = now + timedelta(hours=hours)
    repo.add_session(token_hash(token), user.id, expires_at, now, scope)
    actor = Actor(repo.tenant, user.username, user.display_name)
    return LoginResult(token, actor, policy.roles_of(actor), expires_at, scope, recovered)


async def _second_factor(repo: AccountRepository, user_id: int, secret: str, last_step: int | None,
                         code: str | None, recovery_code: str | None, now: datetime) -> bool:
    """Check the TOTP code (used up: its step is recorded) or spend a recovery code; True for the latter."""
    if recovery_code:
        if await repo.use_recovery_code(user_id, totp_codes.recovery_hash(recovery_code), now):
            return True
        raise SecondFactorFailed(RECOVERY_WRONG)
    if not code:
        raise SecondFactorFailed(TOTP_REQUIRED)
    step = totp_codes.matching_step(secret, code, now, last_step)
    if step is None or not await repo.use_totp_step(user_id, step):
        raise SecondFactorFailed(TOTP_WRONG)
    return False


async def sign_in(db: Database, policy: Policy, throttle: LoginThrottle, tenant: str, username: str, password: str,
                  address: str, now: datetime, hours: int, *, totp: str | None = None,
                  recovery_code: str | None = None,
                  second_factor_roles: tuple[str, ...] = SECOND_FACTOR_ROLES) -> LoginResult:
    """A login through the throttle: refused early when the address floods or the account is paused;
    a wrong password or second factor counts against the account, a full success clears it."""
    throttle.check(tenant, username, address, now)
    try:
        if tenant not in db.tenants:  # costs the same hashing as a wrong password: timing tells nothing
            await asyncio.to_thread(verify_password, password, _DUMMY_HASH)
            raise NotAuthenticated(WRONG_PASSWORD)
        async with db.transaction(tenant) as session:
            result = await login(AccountRepository(session, tenant), policy, username, password, hours, now,
                                 totp=totp, recovery_code=recovery_code, second_factor_roles=second_factor_roles)
            await audit.record(session, tenant, result.actor.ref, "login", f"{tenant}/{username}", now, address)
            if result.recovery_code_used:
                await audit.record(session, tenant, result.actor.ref, "recovery_code_used", f"{tenant}/{username}",
                                   now, address)
    except NotAuthenticated as exc:
        throttle.failed(tenant, username, now)
        if tenant in db.tenants:  # a failure is kept too (the name tried, from where)
            detail = f"{address} second factor" if isinstance(exc, SecondFactorFailed) else address
            async with db.transaction(tenant) as session:
                await audit.record(session, tenant, f"{tenant}/{username}", "login_failed", f"{tenant}/{username}",
                                   now, detail)
        raise
    throttle.succeeded(tenant, username)
    return result


# What a restricted session may call besides seeing who it is and logging out.
_ANY_SCOPE = {("GET", "/api/me"), ("HEAD", "/api/me"), ("POST", "/api/logout"), ("POST", "/api/logout/all"),
              ("POST", "/logout")}  # the pages' (pages/account.py) as the API's
_SCOPE_ALLOWS = {
    PASSWORD: ({("POST", "/api/account/password"), ("GET", "/account/password"), ("POST", "/account/password")},
               "您使用的是管理员设置的临时密码，请先修改密码后再继续 (a temporary password: change it first, "
               "POST /api/account/password)"),
    ENROLL: ({("POST", "/api/account/totp"), ("POST", "/api/account/totp/confirm"), ("GET", "/account/totp"),
              ("POST", "/account/totp"), ("POST", "/account/totp/confirm")},
             "您的角色须使用动态口令登录，请先绑定身份验证器后再继续 (your role needs a second factor: enroll "
             "first, POST /api/account/totp then /api/account/totp/confirm)"),
}


def check_scope(scope: str | None, method: str, path: str) -> None:
    """Refuse (403) what a restricted session may not do."""
    if scope is None or (method, path) in _ANY_SCOPE:
        return
    allowed, message = _SCOPE_ALLOWS.get(scope, (set(), "登录受限 (restricted session)"))
    if (method, path) not in allowed:
        raise Forbidden(message)


TOUCH_EVERY = timedelta(minutes=1)  # how stale a session's last use may be recorded (saves a write a request)
SESSION_UNKNOWN = "登录已失效，请重新登录 (session expired or unknown)"
SESSION_IDLE = "长时间未操作，登录已超时，请重新登录 (session idle too long: log in again)"


@dataclass(frozen=True)
class SessionState:
    """What reading a session found: its actor, and whether something is due to be written."""

    actor: Actor
    idle: bool  # unused for longer than the idle time: the session ends (it is deleted)
    stale: bool  # its last use was recorded more than TOUCH_EVERY ago: record this one
    scope: str | None = None  # a restricted session: what it may do (check_scope); None: anything

    @property
    def needs_write(self) -> bool:
        return self.idle or self.stale


async def session_state(repo: AccountRepository, token: str, now: datetime, idle: timedelta | None) -> SessionState:
    """Read the session behind a bearer token (no write: a read-only transaction will do);
    ``NotAuthenticated`` when it is unknown, expired, or its user inactive."""
    found = await repo.session_of(token_hash(token), now)
    if found is None:
        raise NotAuthenticated(SESSION_UNKNOWN)
    created_at, last_seen_at, username, display_name, scope = found
    last = last_seen_at or created_at
    return SessionState(Actor(repo.tenant, username, display_name), bool(idle) and last <= now - idle,
                        last <= now - TOUCH_EVERY, scope)


async def authenticate(repo: AccountRepository, token: str, now: datetime | None = None,
                       idle: timedelta | None = None) -> Actor | None:
    """In a write transaction: the actor behind a bearer token, this use recorded (at most once every
    TOUCH_EVERY, which keeps the idle time exact to the minute); ``None`` when the session was unused for
    longer than ``idle`` and has now been deleted (commit, then refuse with SESSION_IDLE);
    ``NotAuthenticated`` when it is unknown or expired."""
    now = now or utcnow()
    state = await session_state(repo, token, now, idle)
    if state.idle:
        await repo.drop_session(token_hash(token))
        return None
    if state.stale:
        await repo.touch_session(token_hash(token), now)
    return state.actor


async def create_user(
    repo: AccountRepository, policy: Policy, username: str, display_name: str, password: str, roles: list[str],
    cost: int = 14, email: str | None = None, group: str | None = None,
) -> User:
    """Add a user with roles (roles must exist in the policy files) and, for a group member, the 督查组."""
    unknown = sorted(set(roles) - policy.known_roles())
    if unknown:
        raise InvalidInput(f"未知角色 (unknown roles): {', '.join(unknown)}")
    hashed = await asyncio.to_thread(hash_password, password, cost)  # off the event loop
    user = await repo.add(username, display_name, hashed, roles, email, group)
    policy.grant(repo.tenant, username, roles, group)
    return user


def demo_email(tenant_code: str, username: str) -> str:
    """The e-mail address of a demo account (``.test``: a domain that never receives mail)."""
    return f"{username}@{tenant_code}.duban.test"


def demo_accounts(tenant_code: str, tenant_kind: str) -> list[tuple[str, str, list[str]]]:
    """(username, display name, roles) of the demo accounts of one tenant."""
    if tenant_kind == "city_office":
        return [
            ("inspector", "督查室督查员", ["inspector"]),
            ("approver", "秘书长", ["approver"]),
            ("chief", "办公室主任（第一责任人）", ["chief"]),
            ("supervisor", "督查室主任", ["supervisor"]),
            ("admin", "系统管理员", ["administrator"]),
            ("registrar", "建议提案登记员", ["registrar"]),
        ]
    return [
        ("chief", "第一责任人", ["chief"]),
        ("leader", "分管领导", ["leader_in_charge"]),
        ("handler", "承办人", ["handler"]),
        ("supervisor", "督查员", ["supervisor"]),
    ]


def demo_group_members(registry: Registry, tenant_code: str) -> list[tuple[str, str, list[str], str]]:
    """(username, display name, roles, group) of one demo member of each 督查组 the tenant holds."""
    return [(f"member_{g.code}", f"{g.name}组员", ["group_member"], g.code)
            for g in registry.groups if g.tenant == tenant_code]


async def load_grants(repo: AccountRepository, policy: Policy) -> int:
    """Load the tenant's user → role assignments (and group members' groups) into the policy; returns
    how many users."""
    users = await repo.all_with_roles()
    # One swap for the whole tenant: its earlier grants go, other tenants' cached decisions stay.
    policy.reload_tenant(repo.tenant, [(u.username, [r.role for r in u.roles], u.group_code) for u in users])
    return len(users)
