"""The policy layer: every API call and every incoming event is decided here (ARCHITECTURE §5).

The Casbin files in ``policies/`` are the single source of truth. Permission lines carry no domain,
so their number does not grow with the tenants; ``FastEnforcer`` indexes them by object and action
(by kind for events), so a decision evaluates only the one or two lines that can match. A decision
cache in front answers repeated questions without touching Casbin, and is cleared on every grant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import casbin

from duban.errors import Forbidden
from duban.tenancy.registry import Registry

audit = logging.getLogger("duban.audit")
MAX_CACHED = 200_000  # decisions kept; every user x permission of a large city fits
# Casbin logs the whole model and policy at INFO on every load.
logging.getLogger("casbin").setLevel(logging.WARNING)


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


class Policy:
    """Decides what a user may do in a tenant and which events may flow between tenants."""

    def __init__(self, policies_dir: Path, registry: Registry) -> None:
        self._roles = casbin.FastEnforcer(
            str(policies_dir / "model.conf"), str(policies_dir / "roles.csv"), cache_key_order=[1, 2]
        )
        self._events = casbin.FastEnforcer(
            str(policies_dir / "events.conf"), str(policies_dir / "events.csv"), cache_key_order=[0]
        )
        # Casbin follows 10 role links by default; a tenant tree may be deeper than that.
        self._events.get_role_manager().max_hierarchy_level = 64
        for child, parent in registry.tree_edges():
            self._events.add_grouping_policy(child, parent)
        self._decisions: dict[tuple[str, str, str, str], bool] = {}
        self._groups: dict[tuple[str, str], str] = {}  # (tenant, username) → the 督查组 the user belongs to

    # -- grants -----------------------------------------------------------------------------------
    def grant(self, tenant: str, username: str, roles: list[str] | tuple[str, ...], group: str | None = None) -> None:
        """Make ``roles`` the user's roles in the tenant (replacing earlier ones), and ``group`` the
        督查组 the user belongs to (None: none)."""
        subject = f"u:{username}"
        for role in self._roles.get_roles_for_user_in_domain(subject, tenant):
            self._roles.delete_roles_for_user_in_domain(subject, role, tenant)
        for role in roles:
            self._roles.add_role_for_user_in_domain(subject, role, tenant)
        if group is None:
            self._groups.pop((tenant, username), None)
        else:
            self._groups[(tenant, username)] = group
        self._decisions.clear()

    def group_of(self, actor: Actor) -> str | None:
        """The 督查组 the actor belongs to, if any."""
        return self._groups.get((actor.tenant, actor.username))

    def roles_of(self, actor: Actor) -> list[str]:
        """The actor's roles in its tenant."""
        return sorted(self._roles.get_roles_for_user_in_domain(actor.subject, actor.tenant))

    def known_roles(self) -> set[str]:
        """Every role that has at least one permission line."""
        return {rule[0] for rule in self._roles.get_policy()} - {"*"}

    # -- decisions --------------------------------------------------------------------------------
    def can(self, actor: Actor, obj: str, act: str) -> bool:
        """May the actor do ``act`` on ``obj`` in its own tenant?"""
        key = (actor.subject, actor.tenant, obj, act)
        decision = self._decisions.get(key)  # the hot path: a dict lookup, nothing else
        if decision is None:
            decision = self._remember(key, self._roles.enforce(actor.subject, obj, act, actor.tenant))
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
        key = ("event", sender, receiver, kind)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._remember(key, self._events.enforce(kind, sender, receiver))
        return decision

    def _remember(self, key: tuple[str, str, str, str], decision: object) -> bool:
        if len(self._decisions) >= MAX_CACHED:
            self._decisions.clear()  # rare; a full rebuild costs one enforce per question asked again
        self._decisions[key] = bool(decision)
        return bool(decision)
