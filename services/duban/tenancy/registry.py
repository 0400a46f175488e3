"""The tenant registry: who the tenants are, how they form a tree, the city's supervision groups and the
leaders whose portfolios they follow.

Loaded once at start from ``tenants/*.toml``; a broken file stops the start with an error that names
the file, the field and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import msgspec

TenantKind = Literal["city_office", "county", "zone", "department", "unit", "town"]
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class RegistryError(ValueError):
    """The registry file is unusable; the message names file, field and problem."""

    def __init__(self, file: Path | str, field: str, problem: str) -> None:
        super().__init__(f"{file}: {field}: {problem}")
        self.file, self.field, self.problem = str(file), field, problem


class _TenantEntry(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    kind: TenantKind
    parent: str | None = None
    division_code: str | None = None
    # Deadlines (第四条3): 签收 within this many working days of 交办; a clock shows yellow this many
    # working days before it is due.
    accept_workdays: Annotated[int, msgspec.Meta(ge=1, le=30)] = 1
    warn_workdays: Annotated[int, msgspec.Meta(ge=0, le=30)] = 3
    # 催办 steps this many working days before a due date (then on it, and after it; reminders/ladder.py).
    remind_before: Annotated[tuple[Annotated[int, msgspec.Meta(ge=1, le=30)], ...], msgspec.Meta(max_length=5)] = (3, 1)
    # 催办 goes out only inside these hours on working days (what falls outside waits for the next opening).
    working_hours: Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$")
                             ] = "08:30-17:30"
    # 建议提案 (PRACTICE.md): the proposer rated a reply 不满意 → a second reply within this many months.
    second_reply_months: Annotated[int, msgspec.Meta(ge=1, le=6)] = 1


class _GroupEntry(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    leader: str
    tenant: str


class _LeaderEntry(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    title: str  # 市长 / 常务副市长 / 副市长 …
    group: str  # the 督查组 that follows this leader's portfolio (第四条2)
    portfolio: str = ""  # 分管工作, in words


class _RegistryFile(msgspec.Struct, forbid_unknown_fields=True):
    tenants: list[_TenantEntry]
    groups: list[_GroupEntry] = []
    leaders: list[_LeaderEntry] = []
    name: str = ""


@dataclass(frozen=True)
class Tenant:
    """One body with its own queue: the city office, a county, a department..."""

    code: str
    name: str
    kind: str
    parent: str | None
    division_code: str | None = None
    accept_workdays: int = 1
    warn_workdays: int = 3
    working_hours: str = "08:30-17:30"
    remind_before: tuple[int, ...] = (3, 1)
    second_reply_months: int = 1


@dataclass(frozen=True)
class Group:
    """A 督查组: the supervision group of one leader's portfolio."""

    code: str
    name: str
    leader: str
    tenant: str


@dataclass(frozen=True)
class Leader:
    """A city leader (市长, 常务副市长, 副市长 …): items they issue go to the group of their portfolio."""

    code: str
    name: str
    title: str
    group: str
    portfolio: str = ""


class Registry:
    """The validated tenant tree."""

    def __init__(self, tenants: list[Tenant], groups: list[Group], source: str = "",
                 leaders: list[Leader] | None = None) -> None:
        self.source = source
        self._tenants = {t.code: t for t in tenants}
        self._groups = {g.code: g for g in groups}
        self._leaders = {leader.code: leader for leader in leaders or []}

    @property
    def tenants(self) -> list[Tenant]:
        return list(self._tenants.values())

    @property
    def groups(self) -> list[Group]:
        return list(self._groups.values())

    def get(self, code: str) -> Tenant | None:
        """The tenant with this code, or None."""
        return self._tenants.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._tenants

    def group(self, code: str) -> Group | None:
        """The supervision group with this code, or None."""
        return self._groups.get(code)

    @property
    def leaders(self) -> list[Leader]:
        return list(self._leaders.values())

    def leader(self, code: str) -> Leader | None:
        """The leader with this code, or None."""
        return self._leaders.get(code)

    def children(self, code: str) -> list[Tenant]:
        """Direct children of a tenant."""
        return [t for t in self._tenants.values() if t.parent == code]

    def ancestors(self, code: str) -> list[str]:
        """Codes from the parent up to the root."""
        out: list[str] = []
        node = self._tenants.get(code)
        while node is not None and node.parent is not None:
            out.append(node.parent)
            node = self._tenants.get(node.parent)
        return out

    def is_below(self, code: str, ancestor: str) -> bool:
        """True if ``code`` lies strictly inside ``ancestor``'s subtree."""
        return ancestor in self.ancestors(code)

    def tree_edges(self) -> list[tuple[str, str]]:
        """(child, parent) pairs, the tree as the policy layer sees it."""
        return [(t.code, t.parent) for t in self._tenants.values() if t.parent]


def load_registry(path: Path | str) -> Registry:
    """Read and validate a registry file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryError(path, "(file)", f"cannot be read: {exc.strerror or exc}") from exc
    try:
        data = msgspec.toml.decode(raw, type=_RegistryFile)
    except msgspec.ValidationError as exc:
        field, problem = _split_msgspec(str(exc))
        raise RegistryError(path, field, problem) from exc
    except msgspec.DecodeError as exc:
        raise RegistryError(path, "(syntax)", f"not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 (save it as UTF-8, not GBK): {exc.reason} at byte {exc.start}"
        raise RegistryError(path, "(file)", problem) from exc
    return _validate(path, data)


def _split_msgspec(message: str) -> tuple[str, str]:
    # msgspec says "Expected `str`, got `int` - at `$.tenants[2].code`"
    if " - at `$." in message:
        problem, _, where = message.rpartition(" - at `$.")
        return where.rstrip("`"), problem
    return "(file)", message


def _validate(path: Path, data: _RegistryFile) -> Registry:
    seen: dict[str, int] = {}
    for i, t in enumerate(data.tenants):
        where = f"tenants[{i}]"
        if not _CODE.match(t.code):
            raise RegistryError(
                path, f"{where}.code", f"{t.code!r} must be 2-31 lower-case letters, digits or _"
            )
        if t.code in seen:
            raise RegistryError(path, f"{where}.code", f"{t.code!r} is already used by tenants[{seen[t.code]}]")
        if not t.name.strip():
            raise RegistryError(path, f"{where}.name", "must not be empty")
        seen[t.code] = i
    roots = [t for t in data.tenants if t.parent is None]
    if len(roots) != 1:
        raise RegistryError(path, "tenants", f"exactly one tenant must have no parent, found {len(roots)}")
    for i, t in enumerate(data.tenants):
        if t.parent is not None and t.parent not in seen:
            raise RegistryError(path, f"tenants[{i}].parent", f"unknown tenant {t.parent!r}")
    tenants = [Tenant(t.code, t.name, t.kind, t.parent, t.division_code, t.accept_workdays, t.warn_workdays,
                      t.working_hours, t.remind_before, t.second_reply_months)
               for t in data.tenants]
    registry = Registry(tenants, [], source=str(path))
    for i, t in enumerate(tenants):
        # A cycle would make the ancestor walk loop forever; refuse it here.
        node, steps = t, 0
        while node.parent is not None:
            steps += 1
            if steps > len(tenants):
                raise RegistryError(path, f"tenants[{i}].parent", "the parent chain loops")
            node = registry.get(node.parent)  # type: ignore[assignment]
    groups: list[Group] = []
    group_codes: set[str] = set()
    for i, g in enumerate(data.groups):
        if not _CODE.match(g.code):
            raise RegistryError(path, f"groups[{i}].code", f"{g.code!r} must be 2-31 lower-case letters, digits or _")
        if g.code in group_codes:
            raise RegistryError(path, f"groups[{i}].code", f"{g.code!r} is used twice")
        if g.tenant not in seen:
            raise RegistryError(path, f"groups[{i}].tenant", f"unknown tenant {g.tenant!r}")
        group_codes.add(g.code)
        groups.append(Group(g.code, g.name, g.leader, g.tenant))
    leaders: list[Leader] = []
    leader_codes: dict[str, int] = {}
    for i, leader in enumerate(data.leaders):
        where = f"leaders[{i}]"
        if not _CODE.match(leader.code):
            raise RegistryError(path, f"{where}.code", f"{leader.code!r} must be 2-31 lower-case letters, digits or _")
        if leader.code in leader_codes:
            raise RegistryError(path, f"{where}.code",
                                f"{leader.code!r} is already used by leaders[{leader_codes[leader.code]}]")
        for name in ("name", "title"):
            if not getattr(leader, name).strip():
                raise RegistryError(path, f"{where}.{name}", "must not be empty")
        if leader.group not in group_codes:
            raise RegistryError(path, f"{where}.group", f"unknown group {leader.group!r}")
        leader_codes[leader.code] = i
        leaders.append(Leader(leader.code, leader.name, leader.title, leader.group, leader.portfolio))
    return Registry(tenants, groups, source=str(path), leaders=leaders)
