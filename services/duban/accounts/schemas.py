"""Login request and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class LoginCreate(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=32, description="tenant code, e.g. city")]
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # The second factor of an enrolled account (approvers and administrators must enroll): the
    # authenticator's current 6-digit code, or one of the recovery codes.
    totp: Annotated[str, msgspec.Meta(min_length=6, max_length=8, pattern=r"^[0-9 ]+$")] | None = None
    recovery_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None


class LoginRead(msgspec.Struct):
    token: str
    tenant: str
    username: str
    display_name: str
    roles: list[str]
    expires_at: datetime
    # A restricted session: it may only change the password (after a reset) / only enroll the second factor.
    must_change_password: bool = False
    must_enroll_second_factor: bool = False


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    old_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class EnrollmentRead(msgspec.Struct):
    secret: str  # base32, for typing into an authenticator app
    otpauth_uri: str  # the same as a URI (a QR code of it is what apps scan)


class EnrollmentConfirm(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=6, max_length=8, pattern=r"^[0-9 ]+$")]


class RecoveryCodesRead(msgspec.Struct):
    recovery_codes: list[str]  # each works once; shown only now


class UserRead(msgspec.Struct):
    username: str
    display_name: str
    roles: list[str]
    active: bool
    email: str | None
    group: str | None
    second_factor: bool  # TOTP enrolled
    must_change_password: bool
    created_at: datetime


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=2, max_length=64)]
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    roles: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]], msgspec.Meta(min_length=1,
                                                                                                   max_length=10)]
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    group: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class RolesUpdate(msgspec.Struct, forbid_unknown_fields=True):
    roles: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]], msgspec.Meta(min_length=1,
                                                                                                   max_length=10)]


class TemporaryPasswordRead(msgspec.Struct):
    username: str
    temporary_password: str  # shown once; the user must change it at the next login


class MeRead(msgspec.Struct):
    tenant: str
    tenant_name: str
    username: str
    display_name: str
    roles: list[str]
    group: str | None = None  # the 督查组 of a group member
