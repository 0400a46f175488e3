"""Login request and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class LoginCreate(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=32, description="tenant code, e.g. city")]
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LoginRead(msgspec.Struct):
    token: str
    tenant: str
    username: str
    display_name: str
    roles: list[str]
    expires_at: datetime


class MeRead(msgspec.Struct):
    tenant: str
    tenant_name: str
    username: str
    display_name: str
    roles: list[str]
    group: str | None = None  # the 督查组 of a group member
