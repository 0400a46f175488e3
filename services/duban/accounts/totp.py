"""The second factor: time-based one-time codes (TOTP, RFC 6238: 6 digits, 30-second steps, SHA-1,
what every authenticator app speaks) and one-time recovery codes; the demo accounts' identities file.

A code is accepted for the step it names and one step either side (clock drift), and only for a step
later than the last one used: a code, once used, cannot be used again (nor an older one). Recovery codes
are random, shown once, and kept only as SHA-256 (they carry 50 bits of randomness: no slow hash needed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime
from pathlib import Path

import pyotp

STEP = 30  # seconds
DRIFT = 1  # steps accepted either side of now
ISSUER = "督查督办"
RECOVERY_CODES = 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper without mistakes


def new_secret() -> str:
    """A random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def uri(secret: str, tenant: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or pasted)."""
    return pyotp.TOTP(secret).provisioning_uri(name=f"{username}@{tenant}", issuer_name=ISSUER)


def step_of(at: datetime) -> int:
    """The time step a moment falls in."""
    return int(at.timestamp()) // STEP


def code_at_step(secret: str, step: int) -> str:
    """The code of one time step."""
    return pyotp.TOTP(secret).generate_otp(step)


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator app shows at this moment."""
    return code_at_step(secret, step_of(at))


def matching_step(secret: str, code: str, at: datetime, after: int | None) -> int | None:
    """The step (within DRIFT of ``at``, later than ``after``) whose code this is; None: none."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    now = step_of(at)
    found = None
    for step in range(now - DRIFT, now + DRIFT + 1):  # every candidate compared: no early exit to time
        if hmac.compare_digest(code_at_step(secret, step), code) and (after is None or step > after):
            found = step if found is None else found
    return found


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Fresh recovery codes, ``XXXXX-XXXXX``."""
    def one() -> str:
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        return f"{raw[:5]}-{raw[5:]}"
    return [one() for _ in range(count)]


def recovery_hash(code: str) -> str:
    """What is kept of a recovery code (spaces, dashes and case do not matter)."""
    normal = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


# -- the demo accounts' identities (written by seeding, read by `duban totp code` and tests) ---------------
IDENTITIES_FILE = "demo-identities.json"


def identities_path(data_dir: Path) -> Path:
    return data_dir / IDENTITIES_FILE


def read_identities(data_dir: Path) -> dict[str, dict[str, dict]]:
    """tenant → username → {"password", and for a second-factor account "totp_secret", "recovery_codes"}."""
    path = identities_path(data_dir)
    return json.loads(path.read_text()) if path.exists() else {}


def write_identities(data_dir: Path, tenants: dict[str, dict[str, dict]]) -> Path:
    """Add these demo identities to the file (others kept); the file is 0600 (it holds secrets)."""
    path = identities_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = read_identities(data_dir)
    for tenant, users in tenants.items():
        merged[tenant] = {**merged.get(tenant, {}), **users}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(merged, out, ensure_ascii=False, indent=1)
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
