"""The policy layer: every API call and every incoming event is decided here (ARCHITECTURE §5).

The Casbin files in ``policies/`` are the single source of truth. Permission lines carry no domain,
so their number does not grow with the tenants; ``FastEnforcer`` indexes them by object and action
(by kind for events), so a decision evaluates only the one or two lines that can match.

Each tenant has an enforcer of its own (the shared permission lines plus only that tenant's grants)
and a decision cache of its own in front of it. A grant, or reloading a tenant's grants, replaces
that tenant's enforcer state and drops that tenant's cache only: other tenants' cached decisions stay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import casbin
from casbin.model import FastModel
from casbin.persist import Adapter, load_policy_line

from duban.errors import Forbidden
from duban.tenancy.registry import Registry

audit = logging.getLogger("duban.audit")
MAX_CACHED = 50_000  # decisions kept per tenant; every user x permission of a large tenant fits
# Casbin logs the whole model and policy at INFO on every load, and every denied request at WARNING
# (authorize() audits denials itself, once, with who and what).
logging.getLogger("casbin").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user of one tenant (from the session), or a tenant's event handler."""

    tenant: str
    username: str
    display_name: str = ""

    @property
    def subject(self) -> str:
        # Users get a prefix so a user named like a role ("chief") never matches that role itself.
        return f"u:{self.username}"

    @property
    def ref(self) -> str:
        """How the actor is written in history and events."""
        return f"{self.tenant}/{self.username}"


class _Lines(Adapter):
    """The permission lines of roles.csv, read once: every tenant's enforcer is made from the same text."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def load_policy(self, model: FastModel) -> None:
        for line in self.lines:
            load_policy_line(line, model)


class Policy:
    """Decides what a user may do in a tenant and which events may flow between tenants."""

    def __init__(self, policies_dir: Path, registry: Registry) -> None:
        self._model = (policies_dir / "model.conf").read_text(encoding="utf-8")
        self._lines = _Lines([line.strip() for line in (policies_dir / "roles.csv").read_text(encoding="utf-8")
                              .splitlines() if line.strip() and not line.lstrip().startswith("#")])
        self._base = self._enforcer()  # no grants: answers the lines for every signed-in user ("*")
        self._tenants: dict[str, casbin.FastEnforcer] = {}  # tenant → its enforcer, made at its first grant
        self._events = casbin.FastEnforcer(
            str(policies_dir / "events.conf"), str(policies_dir / "events.csv"), cache_key_order=[0]
        )
        # Casbin follows 10 role links by default; a tenant tree may be deeper than that.
        self._events.get_role_manager().max_hierarchy_level = 64
        for child, parent in registry.tree_edges():
            self._events.add_grouping_policy(child, parent)
        self._decisions: dict[str, dict[tuple[str, str, str], bool]] = {}  # tenant → (username, obj, act) → allowed
        self._flows: dict[tuple[str, str, str], bool] = {}  # (sender, receiver, kind) → allowed
        self._groups: dict[str, dict[str, str]] = {}  # tenant → username → the 督查组 the user belongs to

    def _enforcer(self) -> casbin.FastEnforcer:
        model = FastModel([1, 2])
        model.load_model_from_text(self._model)
        return casbin.FastEnforcer(model, self._lines, cache_key_order=[1, 2])

    # -- grants -----------------------------------------------------------------------------------
    def grant(self, tenant: str, username: str, roles: list[str] | tuple[str, ...], group: str | None = None) -> None:
        """Make ``roles`` the user's roles in the tenant (replacing earlier ones), and ``group`` the
        督查组 the user belongs to (None: none). Only this tenant's cached decisions are dropped."""
        enforcer = self._tenants.get(tenant)
        if enforcer is None:
            enforcer = self._tenants[tenant] = self._enforcer()
        subject = f"u:{username}"
        for role in enforcer.get_roles_for_user_in_domain(subject, tenant):
            enforcer.delete_roles_for_user_in_domain(subject, role, tenant)
        for role in roles:
            enforcer.add_role_for_user_in_domain(subject, role, tenant)
        groups = self._groups.setdefault(tenant, {})
        if group is None:
            groups.pop(username, None)
        else:
            groups[username] = group
        self._decisions.pop(tenant, None)

    def reload_tenant(self, tenant: str, grants: list[tuple[str, list[str] | tuple[str, ...], str | None]]) -> None:
        """Replace every grant of one tenant with ``grants`` ((username, roles, group) each). The new
        enforcer is built aside and swapped in; other tenants' enforcers and cached decisions are untouched."""
        enforcer = self._enforcer()
        rules = [[f"u:{username}", role, tenant] for username, roles, _ in grants for role in dict.fromkeys(roles)]
        if rules:
            enforcer.add_grouping_policies(rules)
        self._tenants[tenant] = enforcer
        self._groups[tenant] = {username: group for username, _, group in grants if group is not None}
        self._decisions.pop(tenant, None)

    def cached_decisions(self, tenant: str) -> int:
        """How many decisions of the tenant are cached (for the bench and the operator)."""
        return len(self._decisions.get(tenant, ()))

    def group_of(self, actor: Actor) -> str | None:
        """The 督查组 the actor belongs to, if any."""
        return self._groups.get(actor.tenant, {}).get(actor.username)

    def roles_of(self, actor: Actor) -> list[str]:
        """The actor's roles in its tenant."""
        enforcer = self._tenants.get(actor.tenant)
        return sorted(enforcer.get_roles_for_user_in_domain(actor.subject, actor.tenant)) if enforcer else []

    def known_roles(self) -> set[str]:
        """Every role that has at least one permission line."""
        return {rule[0] for rule in self._base.get_policy()} - {"*"}

    def permissions(self) -> list[tuple[str, str, str]]:
        """Every permission line of roles.csv: (role or "*", object, action)."""
        return [(rule[0], rule[1], rule[2]) for rule in self._base.get_policy()]

    # -- decisions --------------------------------------------------------------------------------
    def can(self, actor: Actor, obj: str, act: str) -> bool:
        """May the actor do ``act`` on ``obj`` in its own tenant?"""
        cache = self._decisions.get(actor.tenant)
        if cache is not None:
            decision = cache.get((actor.username, obj, act))  # the hot path: two dict lookups, nothing else
            if decision is not None:
                return decision
        return self._decide(actor.tenant, actor.username, obj, act)

    def _decide(self, tenant: str, username: str, obj: str, act: str) -> bool:
        """Ask the tenant's enforcer, and remember the answer in the tenant's cache."""
        enforcer = self._tenants.get(tenant, self._base)
        decision = bool(enforcer.enforce(f"u:{username}", obj, act, tenant))
        cache = self._decisions.get(tenant)
        if cache is None or len(cache) >= MAX_CACHED:
            cache = self._decisions[tenant] = {}  # full: rare; a rebuild costs one enforce per question asked again
        cache[(username, obj, act)] = decision
        return decision

    def authorize(self, actor: Actor, obj: str, act: str) -> None:
        """Raise ``Forbidden`` (and audit it) unless the actor may do it."""
        if not self.can(actor, obj, act):
            audit.warning("denied %s %s:%s in %s", actor.ref, obj, act, actor.tenant)
            raise Forbidden(f"您没有权限执行此操作 (not allowed: {obj}:{act})")

    def may_act_for_group(self, actor: Actor, group: str) -> bool:
        """May the actor draft and send items of this 督查组 (第四条2)? A role granted ``item_group:any``
        acts for every group; one granted ``item_group:own`` only for the group the user belongs to."""
        if self.can(actor, "item_group", "any"):
            return True
        return self.can(actor, "item_group", "own") and self.group_of(actor) == group

    def authorize_group(self, actor: Actor, group: str) -> None:
        """Raise ``Forbidden`` (and audit it) unless the actor may act for items of ``group``."""
        if not self.may_act_for_group(actor, group):
            audit.warning("denied %s items of group %s in %s", actor.ref, group, actor.tenant)
            mine = self.group_of(actor)
            raise Forbidden(f"只能办理本督查组（{mine or '无'}）的事项，不能办理督查组 {group} 的事项 "
                            f"(may act only for items of group {mine or '(none)'}, not {group})")

    def may_send(self, sender: str, receiver: str, kind: str) -> bool:
        """May tenant ``sender`` send an event of ``kind`` to tenant ``receiver``?"""
        key = (sender, receiver, kind)
        decision = self._flows.get(key)
        if decision is None:
            if len(self._flows) >= MAX_CACHED:
                self._flows.clear()
            decision = self._flows[key] = bool(self._events.enforce(kind, sender, receiver))
        return decision
