"""Confidentiality levels (密级 / 敏感, GLOSSARY ``confidentiality``) and what each one means here.

The platform runs on a government network that is *not* cleared for state secrets (非涉密网络). So:

- ``public`` (公开/普通) and ``internal`` (内部, the default) are open to everyone whose role reads the work;
- ``sensitive`` (敏感: 领导批示件、工作秘密) is **protected**: need-to-know (access.py), every read recorded,
  downloads watermarked, no bulk export;
- the state-secret levels 秘密 / 机密 / 绝密 (``confidential`` / ``secret`` / ``top_secret``) are refused
  with a message: such documents go through the 涉密 channel, never through this platform. A level of that
  kind that reaches a tenant anyway (an old row, an event) is treated as protected.
"""

from __future__ import annotations

from duban.errors import InvalidInput

LABELS = {"public": "普通", "internal": "内部", "sensitive": "敏感"}
CLASSIFIED = {"confidential": "秘密", "secret": "机密", "top_secret": "绝密"}
PROTECTED = frozenset({"sensitive", *CLASSIFIED})
ORDER = ("public", "internal", "sensitive", "confidential", "secret", "top_secret")


def is_protected(level: str | None) -> bool:
    """Does this level mean need-to-know, recorded reads, watermarks and no bulk export?"""
    return level in PROTECTED


def check_level(level: str) -> str:
    """The level if this platform may hold it; InvalidInput naming the 涉密 channel for a state secret."""
    if level in CLASSIFIED:
        raise InvalidInput(
            f"「{CLASSIFIED[level]}」级涉密文件不得在本平台（非涉密网络）登记或流转，请通过涉密渠道（机要）办理 "
            f"(state-secret level {level} is refused on this non-classified network: use the classified channel)")
    if level not in LABELS:
        raise InvalidInput(f"密级 {level} 无效，可选：普通(public)、内部(internal)、敏感(sensitive) "
                           f"(unknown confidentiality level {level})")
    return level


def higher(a: str, b: str) -> str:
    """The stricter of two levels."""
    return max(a, b, key=lambda level: ORDER.index(level) if level in ORDER else len(ORDER))
