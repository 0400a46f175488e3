"""A user's own account (log out everywhere, change the password, enroll the second factor) and a tenant
administrator's management of the tenant's users. Each change is written to the tenant's audit log with
who did what to whom, in the same transaction as the change."""

from __future__ import annotations

import asyncio
import re
import secrets
import string
from datetime import datetime

from duban.accounts import totp as totp_codes
from duban.accounts.models import User
from duban.accounts.repository import AccountRepository
from duban.accounts.schemas import UserRead
from duban.accounts.service import (
    ENROLL,
    PASSWORD,
    create_user,
    hash_password,
    needs_second_factor,
    token_hash,
    verify_password,
)
from duban.audit import service as audit
from duban.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from duban.policy.policy import Actor, Policy
from duban.tenancy.registry import Registry

MIN_LENGTH = 10
WEAK = (f"新密码太弱：至少{MIN_LENGTH}位，须包含大写字母、小写字母、数字、符号中的至少三类，且不得包含用户名 "
        f"(password too weak: at least {MIN_LENGTH} characters with three of upper case, lower case, digits and "
        f"symbols, not containing the username)")
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")


def check_strength(password: str, username: str) -> None:
    """The minimum strength rule for a password a user chooses."""
    classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
    if len(password) < MIN_LENGTH or classes < 3 or username.lower() in password.lower():
        raise InvalidInput(WEAK)


def temporary_password() -> str:
    """A random password meeting the rule, for a new user or a reset (to be changed at first login)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(14)) + secrets.choice("-_.!@#")
        if sum((any(c.islower() for c in candidate), any(c.isupper() for c in candidate),
                any(c.isdigit() for c in candidate))) == 3:
            return candidate


async def _session_user(repo: AccountRepository, token: str) -> User:
    user = await repo.user_of_session(token_hash(token))
    if user is None:
        raise NotAuthenticated("登录已失效，请重新登录 (session expired or unknown)")
    return user


# -- one's own account ---------------------------------------------------------------------------------
async def log_out_everywhere(repo: AccountRepository, actor: Actor, token: str, now: datetime) -> int:
    """End every session of the caller's user, this one included; returns how many."""
    user = await _session_user(repo, token)
    ended = await repo.drop_sessions(user.id)
    await audit.record(repo.session, repo.tenant, actor.ref, "logout_all", actor.ref, now, f"sessions ended: {ended}")
    return ended


async def change_password(repo: AccountRepository, actor: Actor, token: str, old: str, new: str, cost: int,
                          now: datetime, second_factor_roles: tuple[str, ...]) -> int:
    """Change the caller's password (the current one required, the new one strong enough); the user's
    other sessions end. Returns how many ended. ``Forbidden`` for a wrong current password."""
    user = await _session_user(repo, token)
    if not await asyncio.to_thread(verify_password, old, user.password_hash):
        raise Forbidden("原密码错误 (the current password is wrong)")
    if new == old:
        raise InvalidInput("新密码不能与原密码相同 (the new password must differ from the current one)")
    check_strength(new, user.username)
    user.password_hash = await asyncio.to_thread(hash_password, new, cost)
    security = await repo.security_for_update(user.id)
    security.must_change_password, security.password_changed_at = False, now
    keep = token_hash(token)
    ended = await repo.drop_sessions(user.id, keep=keep)
    enroll = security.totp_enrolled_at is None and needs_second_factor([r.role for r in user.roles],
                                                                       second_factor_roles)
    await repo.set_session_scope(keep, ENROLL if enroll else None)
    await audit.record(repo.session, repo.tenant, actor.ref, "password_changed", actor.ref, now,
                       f"other sessions ended: {ended}")
    return ended


async def start_enrollment(repo: AccountRepository, actor: Actor, token: str) -> tuple[str, str]:
    """A new TOTP secret for the caller, pending until confirmed with a code: (secret, otpauth URI)."""
    user = await _session_user(repo, token)
    security = await repo.security_for_update(user.id)
    if security.totp_enrolled_at is not None:
        raise Conflict("已绑定动态口令；如需更换，请联系管理员重置 (a second factor is already enrolled; an "
                       "administrator can reset it)")
    security.totp_secret = totp_codes.new_secret()
    return security.totp_secret, totp_codes.uri(security.totp_secret, repo.tenant, user.username)


async def confirm_enrollment(repo: AccountRepository, actor: Actor, token: str, code: str, now: datetime) -> list[str]:
    """Confirm the pending secret with a code from the app: the second factor is on, the caller's other
    sessions end, this one may do everything (or change the password, if reset). Returns the recovery
    codes, shown this once."""
    user = await _session_user(repo, token)
    security = await repo.security_of(user.id)
    if security is None or security.totp_secret is None:
        raise Conflict("请先开始绑定 (start enrollment first: POST /api/account/totp)")
    if security.totp_enrolled_at is not None:
        raise Conflict("已绑定动态口令 (a second factor is already enrolled)")
    step = totp_codes.matching_step(security.totp_secret, code, now, security.totp_last_step)
    if step is None:
        raise InvalidInput("动态口令不正确，请输入身份验证器上当前的6位动态口令 (wrong code: send the app's current "
                           "6-digit code)")
    security.totp_enrolled_at, security.totp_last_step = now, step
    codes = totp_codes.new_recovery_codes()
    await repo.replace_recovery_codes(user.id, [totp_codes.recovery_hash(c) for c in codes])
    keep = token_hash(token)
    await repo.drop_sessions(user.id, keep=keep)
    await repo.set_session_scope(keep, PASSWORD if security.must_change_password else None)
    await audit.record(repo.session, repo.tenant, actor.ref, "totp_enrolled", actor.ref, now)
    return codes


async def enroll_demo(repo: AccountRepository, user_id: int, now: datetime) -> tuple[str, list[str]]:
    """Enroll a demo account at seeding: (secret, recovery codes), for the demo identities file."""
    security = await repo.security_for_update(user_id)
    security.totp_secret, security.totp_enrolled_at = totp_codes.new_secret(), now
    codes = totp_codes.new_recovery_codes()
    await repo.replace_recovery_codes(user_id, [totp_codes.recovery_hash(c) for c in codes])
    return security.totp_secret, codes


# -- a tenant administrator's work -----------------------------------------------------------------------
async def list_users(repo: AccountRepository) -> list[UserRead]:
    """Every user of the tenant, with their roles and account state."""
    security = await repo.security_by_user()
    views = []
    for user in await repo.all_with_roles():
        row = security.get(user.id)
        views.append(UserRead(user.username, user.display_name, sorted(r.role for r in user.roles), user.active,
                            user.email, user.group_code, bool(row and row.totp_enrolled_at),
                            bool(row and row.must_change_password), user.created_at))
    return views


async def _target(repo: AccountRepository, username: str) -> User:
    user = await repo.by_username(username)
    if user is None:
        raise NotFound(f"用户不存在 (no user {username!r} in this tenant)")
    return user


def _check_roles(policy: Policy, registry: Registry, tenant: str, roles: list[str], group: str | None) -> None:
    unknown = sorted(set(roles) - policy.known_roles())
    if unknown or not roles:
        raise InvalidInput(f"未知角色或未给角色 (unknown or no roles): {', '.join(unknown)}")
    if group is not None and group not in {g.code for g in registry.groups if g.tenant == tenant}:
        raise InvalidInput(f"本单位没有督查组 {group} (no group {group!r} in this tenant)")
    if "group_member" in roles and group is None:
        raise InvalidInput("督查组组员须指定督查组 (a group member needs a group)")


async def create(repo: AccountRepository, policy: Policy, registry: Registry, actor: Actor, username: str,
                 display_name: str, roles: list[str], email: str | None, group: str | None, cost: int,
                 now: datetime) -> str:
    """Create a user with a temporary password (returned, shown once; changed at first login)."""
    if not USERNAME.match(username):
        raise InvalidInput("用户名须以小写字母开头，只含小写字母、数字和 _ . - (username: lower-case letters, digits, "
                           "_ . -, starting with a letter)")
    _check_roles(policy, registry, repo.tenant, roles, group)
    if await repo.by_username(username) is not None:
        raise Conflict(f"用户名已存在 (user {username!r} exists)")
    password = temporary_password()
    user = await create_user(repo, policy, username, display_name, password, roles, cost, email, group)
    (await repo.security_for_update(user.id)).must_change_password = True
    await audit.record(repo.session, repo.tenant, actor.ref, "user_created", f"{repo.tenant}/{username}", now,
                       f"roles: {', '.join(sorted(roles))}")
    return password


async def change_roles(repo: AccountRepository, policy: Policy, registry: Registry, actor: Actor, username: str,
                       roles: list[str], now: datetime, second_factor_roles: tuple[str, ...]) -> list[str]:
    """Make ``roles`` the user's roles (the policy's grants follow at once). Gaining a second-factor role
    without being enrolled ends the user's sessions (the next login enrolls first)."""
    user = await _target(repo, username)
    _check_roles(policy, registry, repo.tenant, roles, user.group_code)
    before = sorted(r.role for r in user.roles)
    if user.username == actor.username and "administrator" in before and "administrator" not in roles:
        raise Conflict("不能取消自己的管理员角色 (you cannot remove your own administrator role)")
    await repo.set_roles(user.id, sorted(set(roles)))
    security = await repo.security_of(user.id)
    if needs_second_factor(roles, second_factor_roles) and not (security and security.totp_enrolled_at):
        await repo.drop_sessions(user.id)
    policy.grant(repo.tenant, user.username, sorted(set(roles)), user.group_code)
    await audit.record(repo.session, repo.tenant, actor.ref, "user_roles_changed", f"{repo.tenant}/{username}", now,
                       f"roles: {', '.join(before)} -> {', '.join(sorted(set(roles)))}")
    return sorted(set(roles))


async def set_active(repo: AccountRepository, actor: Actor, username: str, active: bool, now: datetime) -> None:
    """Disable a user (their sessions end, logins are refused) or enable them again."""
    user = await _target(repo, username)
    if user.username == actor.username and not active:
        raise Conflict("不能停用自己的账户 (you cannot disable your own account)")
    user.active = active
    if not active:
        await repo.drop_sessions(user.id)
    await audit.record(repo.session, repo.tenant, actor.ref, "user_enabled" if active else "user_disabled",
                       f"{repo.tenant}/{username}", now)


async def reset_password(repo: AccountRepository, actor: Actor, username: str, cost: int, now: datetime) -> str:
    """Give a user a temporary password (returned, shown once): all their sessions end, and the next
    login may only change it."""
    user = await _target(repo, username)
    password = temporary_password()
    user.password_hash = await asyncio.to_thread(hash_password, password, cost)
    (await repo.security_for_update(user.id)).must_change_password = True
    ended = await repo.drop_sessions(user.id)
    await audit.record(repo.session, repo.tenant, actor.ref, "password_reset", f"{repo.tenant}/{username}", now,
                       f"sessions ended: {ended}")
    return password


async def reset_second_factor(repo: AccountRepository, actor: Actor, username: str, now: datetime) -> None:
    """Forget a user's second factor (a lost phone, codes gone): all their sessions end; the next login
    enrolls again."""
    user = await _target(repo, username)
    await repo.clear_totp(user.id)
    ended = await repo.drop_sessions(user.id)
    await audit.record(repo.session, repo.tenant, actor.ref, "totp_reset", f"{repo.tenant}/{username}", now,
                       f"sessions ended: {ended}")
