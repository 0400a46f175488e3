"""The second factor (TOTP, RFC 6238) of approvers and administrators: the login asks for the code, a
wrong or replayed code is refused and counts against the account, a recovery code works once, and a new
holder of such a role enrolls before doing anything else. Time is the platform's clock, moved."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from datetime import datetime
from urllib.parse import unquote

from sqlalchemy import select

from duban.accounts import totp
from duban.accounts.service import DEMO_PASSWORD
from duban.audit.models import AuditEntry
from helpers import DUBAN, duban_env, login, plan


def _secret(settings, tenant: str = "city", username: str = "approver") -> str:
    return totp.read_identities(settings.data_dir)[tenant][username]["totp_secret"]


async def _login(client, username: str, password: str = DEMO_PASSWORD, tenant: str = "city", **more):
    return await client.post("/api/login", json={"tenant": tenant, "username": username, "password": password,
                                                  **more})


async def _audit(platform, tenant: str = "city") -> list[tuple[str, str, str, str]]:
    async with platform.db.transaction(tenant) as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.action, r.actor, r.target, r.detail) for r in rows]


async def test_an_approver_logs_in_with_the_current_code_once(client, platform, settings):
    secret, now = _secret(settings), platform.time.now()
    r = await _login(client, "approver")
    assert r.status_code == 401 and "动态口令" in r.json()["detail"] and "totp" in r.json()["detail"]
    r = await _login(client, "approver", "wrong password", totp=totp.code_at(secret, now))
    assert r.status_code == 401 and "用户名或密码错误" in r.json()["detail"]  # the password is checked first
    wrong = f"{(int(totp.code_at(secret, now)) + 1) % 1_000_000:06d}"
    r = await _login(client, "approver", totp=wrong)
    assert r.status_code == 401 and "动态口令错误" in r.json()["detail"]

    code = totp.code_at(secret, now)
    r = await _login(client, "approver", totp=code)
    assert r.status_code == 200 and r.json()["roles"] == ["approver"]
    assert not r.json()["must_enroll_second_factor"]
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    # The same code again, within its window: refused (someone who saw it over the shoulder).
    r = await _login(client, "approver", totp=code)
    assert r.status_code == 401 and "已使用" in r.json()["detail"]
    # So is the previous step's code (older than the one used); the next step's is still good.
    assert (await _login(client, "approver", totp=totp.code_at_step(secret, totp.step_of(now) - 1))).status_code == 401
    assert (await _login(client, "approver", totp=totp.code_at_step(secret, totp.step_of(now) + 1))).status_code == 200
    # Thirty seconds on, the clock's own code works.
    platform.time.advance(seconds=60)
    assert (await _login(client, "approver", totp=totp.code_at(secret, platform.time.now()))).status_code == 200

    failed = [row for row in await _audit(platform) if row[0] == "login_failed" and row[1] == "city/approver"]
    assert [detail.endswith("second factor") for *_, detail in failed] == [True, False, True, True, True]


async def test_wrong_codes_count_towards_the_lockout(client, platform, settings):
    secret = _secret(settings)
    for n in range(5):
        r = await _login(client, "approver", totp=f"{n:06d}" if f"{n:06d}" != totp.code_at(secret, platform.time.now())
                         else "999999")
        assert r.status_code == 401
    r = await _login(client, "approver", totp=totp.code_at(secret, platform.time.now()))
    assert r.status_code == 429 and "暂停" in r.json()["detail"]  # even with the right code, for now
    platform.time.advance(minutes=15, seconds=1)
    assert (await _login(client, "approver", totp=totp.code_at(secret, platform.time.now()))).status_code == 200


async def test_a_recovery_code_works_once(client, platform, settings):
    codes = totp.read_identities(settings.data_dir)["city"]["approver"]["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    r = await _login(client, "approver", recovery_code=codes[3].lower())  # case does not matter
    assert r.status_code == 200, r.text
    r = await _login(client, "approver", recovery_code=codes[3])
    assert r.status_code == 401 and "恢复码" in r.json()["detail"]
    assert (await _login(client, "approver", recovery_code="AAAAA-BBBBB")).status_code == 401
    assert (await _login(client, "approver", recovery_code=codes[4])).status_code == 200
    used = [row for row in await _audit(platform) if row[0] == "recovery_code_used"]
    assert [(actor, target) for _, actor, target, _ in used] == [("city/approver", "city/approver")] * 2
    # Only hashes are kept.
    async with platform.db.transaction("city") as session:
        from duban.accounts.models import RecoveryCode

        stored = list(await session.scalars(select(RecoveryCode.code_hash)))
    assert not set(stored) & {c.replace("-", "") for c in codes} and totp.recovery_hash(codes[0]) in stored


async def test_a_new_approver_may_only_enroll_then_needs_the_code(client, platform):
    admin = await login(client, "city", "admin")
    r = await client.put("/api/users/supervisor/roles", json={"roles": ["supervisor", "approver"]}, headers=admin)
    assert r.status_code == 200 and r.json() == ["approver", "supervisor"]

    r = await _login(client, "supervisor")  # not enrolled: the password alone opens a session that can only enroll
    assert r.status_code == 200 and r.json()["must_enroll_second_factor"]
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await client.get("/api/items", headers=headers)
    assert r.status_code == 403 and "动态口令" in r.json()["detail"]
    assert (await client.get("/api/me", headers=headers)).status_code == 200

    r = await client.post("/api/account/totp", headers=headers)
    assert r.status_code == 200
    secret, uri = r.json()["secret"], r.json()["otpauth_uri"]
    assert unquote(uri).startswith("otpauth://totp/督查督办:supervisor@city?secret=") and f"secret={secret}" in uri
    r = await client.post("/api/account/totp/confirm", json={"code": "000000" if totp.code_at(
        secret, platform.time.now()) != "000000" else "111111"}, headers=headers)
    assert r.status_code == 400 and "动态口令不正确" in r.json()["detail"]
    r = await client.post("/api/account/totp/confirm", json={"code": totp.code_at(secret, platform.time.now())},
                          headers=headers)
    assert r.status_code == 200 and len(r.json()["recovery_codes"]) == 10
    assert (await client.get("/api/items", headers=headers)).status_code == 200  # this session is whole now
    assert (await client.post("/api/account/totp", headers=headers)).status_code == 409  # enrolled already

    assert (await _login(client, "supervisor")).status_code == 401  # from now on, with a code
    platform.time.advance(seconds=30)
    r = await _login(client, "supervisor", totp=totp.code_at(secret, platform.time.now()))
    assert r.status_code == 200 and not r.json()["must_enroll_second_factor"]
    assert ("totp_enrolled", "city/supervisor", "city/supervisor", "") in await _audit(platform)


async def test_an_administrator_resets_a_lost_second_factor(client, platform, settings):
    admin = await login(client, "city", "admin")
    approver = await login(client, "city", "approver")
    r = await client.post("/api/users/approver/second-factor-reset", headers=admin)
    assert r.status_code == 204
    assert (await client.get("/api/me", headers=approver)).status_code == 401  # its sessions ended
    r = await _login(client, "approver")
    assert r.status_code == 200 and r.json()["must_enroll_second_factor"]
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.post("/api/items", json=plan(), headers=headers)).status_code == 403


async def test_the_demo_identities_file_is_private_and_the_cli_prints_the_code(platform, settings):
    path = totp.identities_path(settings.data_dir)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    identities = totp.read_identities(settings.data_dir)
    assert "totp_secret" in identities["city"]["approver"] and "totp_secret" in identities["city"]["admin"]
    assert "totp_secret" not in identities["city"]["inspector"]
    at = "2026-11-02T10:00:00+08:00"
    command = [str(DUBAN), "totp", "code", "--tenant", "city", "--user", "approver"]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60,
                                   env=duban_env(settings, DUBAN_FIXED_TIME=at))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == totp.code_at(_secret(settings), datetime.fromisoformat(at))
    done = await asyncio.to_thread(subprocess.run, [str(DUBAN), "totp", "code", "--tenant", "city", "--user",
                                                    "inspector"], capture_output=True, text=True,
                                   env=duban_env(settings), timeout=60)
    assert done.returncode == 1 and "no TOTP secret" in done.stderr
