"""The generated isolation sweep (issue 7): every route and method of the live app, called by every kind
of caller with real ids, each answer judged against what the policy layer allows.

What it reads from the code, so that a new route is covered (or the sweep fails naming it):

- the routes and methods: ``app.routes`` and each route's ``route_handler_map``;
- what a route requires: the ``authorize(actor, "obj", "act")`` calls in its handler (``if not
  can(A): authorize(B)`` is "A or B"; an ``authorize_*`` helper it calls is read too); checks under any
  other ``if`` depend on the request and are not required;
- a valid body: the handler's ``data`` type (its msgspec JSON schema), unless a sample is given.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
from litestar import Litestar
from sqlalchemy import func, select

from duban.audit.models import AuditEntry
from duban.auth import PUBLIC
from duban.db.models import Base
from duban.events.models import PARKED, InboxEvent, OutboxEvent
from duban.notifications.models import Delivery
from duban.policy.policy import Actor, Policy

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Item actions a 督查组 member may take only on items of their own group (policy.may_act_for_group).
GROUP_ACTIONS = {"create", "update", "submit", "assign"}
# Tables that refused or public requests write by design: the audit log (every denial is recorded) and
# the sessions (logins); anything else changing during the sweep is a write that got through.
VOLATILE_TABLES = {"audit", "login_sessions"}


class SweepError(AssertionError):
    """The generator cannot cover a route: the sweep fails and names it."""


# ---- routes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteMethod:
    path: str  # the route's template, e.g. /api/items/{item_id:str}
    method: str
    handler: Any
    params: tuple[str, ...]  # path parameter names

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        """Answered without a login: Litestar's own OPTIONS answer, and the paths auth.PUBLIC names (among
        them, deliberately, /health and /ready, which name no host or secret, and /metrics, which guards
        itself: DUBAN_METRICS_TOKEN, or this host only — tests/observability/ tests who may read it)."""
        return self.is_auto_options or any(re.match(p, self.path) for p in PUBLIC)

    @property
    def page(self) -> bool:
        """A web page or a page form's action (pages/): without a valid session a browser is sent to the login
        page (303 to /login), where the API answers 401."""
        return getattr(getattr(self.handler, "fn", None), "__module__", "").startswith("duban.pages")

    @property
    def is_auto_options(self) -> bool:
        return self.method == "OPTIONS" and getattr(self.handler, "handler_name", "") == "options_handler"

    def url(self, values: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), self.path)


def route_methods(app: Litestar) -> list[RouteMethod]:
    """Every (route, method) the app answers, from the app itself."""
    found = []
    for route in app.routes:
        handler_map = getattr(route, "route_handler_map", None)
        if handler_map is None:  # a websocket or ASGI mount: the sweep would need to learn it
            raise SweepError(f"route {route.path} is not an HTTP route; teach the sweep how to call it")
        for method, entry in sorted(handler_map.items()):
            handler = entry[0] if isinstance(entry, tuple) else entry
            found.append(RouteMethod(route.path, method, handler, tuple(route.path_parameters)))
    return found


# ---- what a route requires, read from its handler ----------------------------------------------

Permission = tuple[str, str]
Rule = list[tuple[Permission, ...]]  # every entry must hold; an entry holds if any of its permissions does


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return ""


def _pair(call: ast.Call) -> Permission | None:
    args = call.args[-2:]
    if len(args) == 2 and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
        return args[0].value, args[1].value
    return None


def _resolve(fn: Callable, call: ast.Call) -> Callable | None:
    """The function an ``x.authorize_y(...)`` or ``authorize_y(...)`` call in ``fn`` names."""
    func, scope = call.func, getattr(fn, "__globals__", {})
    if isinstance(func, ast.Name):
        return scope.get(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in scope:
        return getattr(scope[func.value.id], func.attr, None)
    return None


def rule_of(fn: Callable, depth: int = 0) -> Rule:
    """The permissions a handler (or an ``authorize_*`` helper it calls) always requires."""
    fn = inspect.unwrap(getattr(fn, "__func__", fn))
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    rule: Rule = []

    def visit(node: ast.AST, guards: tuple[Permission, ...]) -> None:
        if isinstance(node, ast.If):
            test = node.test
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _call_name(test.operand) == "can":
                pair = _pair(test.operand)
                if pair:
                    for child in node.body:
                        visit(child, (*guards, pair))
            return  # any other branch depends on the request: not an unconditional requirement
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name == "authorize" and (pair := _pair(node)):
                rule.append((*guards, pair))
            elif name.startswith("authorize_") and name != "authorize_group" and depth < 3:
                target = _resolve(fn, node)
                if callable(target):
                    for entry in rule_of(target, depth + 1):
                        rule.append((*guards, *entry))
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, guards)

    for statement in tree.body[0].body:
        visit(statement, ())
    return rule


def decision(policy: Policy, actor: Actor, rule: Rule, group: str | None) -> str:
    """What the policy layer says of the actor on this rule: "allowed"; "role" (a role lacks a right:
    the route must refuse before anything else); or "group" (the role has it, but for an item action a
    group member takes only on their own group's items, not on this item's 督查组: the service refuses
    once it has read the item, so it may first answer what the item's state allows, 409)."""
    verdict = "allowed"
    for entry in rule:
        if not any(policy.can(actor, obj, act) for obj, act in entry):
            return "role"
        if group is not None and any(obj == "item" and act in GROUP_ACTIONS for obj, act in entry):
            if not policy.may_act_for_group(actor, group):
                verdict = "group"
    return verdict


# ---- bodies ---------------------------------------------------------------------------------------

def data_type(handler: Any) -> Any:
    parameter = handler.parsed_fn_signature.parameters.get("data")
    return None if parameter is None else parameter.annotation


def generated_body(kind: Any, today: date, hints: dict[str, Any]) -> Any:
    """A value of ``kind`` with its required fields filled (field-name hints first: real unit codes)."""
    schema = msgspec.json.schema(kind)
    defs = schema.get("$defs", {})

    def make(s: dict, name: str = "") -> Any:
        if "$ref" in s:
            return make(defs[s["$ref"].rsplit("/", 1)[1]], name)
        if "anyOf" in s:
            options = [o for o in s["anyOf"] if o.get("type") != "null"]
            return make(options[0], name) if options else None
        if name in hints:
            return hints[name]
        if "enum" in s:
            return sorted(s["enum"])[0]
        kind_ = s.get("type")
        if kind_ == "object":
            return {k: make(v, k) for k, v in s.get("properties", {}).items() if k in s.get("required", [])}
        if kind_ == "array":
            return [make(s.get("items", {}), name) for _ in range(s.get("minItems", 0))]
        if kind_ == "string":
            if s.get("format") == "date":
                return (today + timedelta(days=10)).isoformat()
            if "pattern" in s:  # the first of some usual shapes that matches
                for candidate in ("123456", "weekly", "abc", "A", "a1", "x-1", "monthly:1"):
                    if re.search(s["pattern"], candidate):
                        return candidate
            return "检查" * max(1, (s.get("minLength", 1) + 1) // 2)
        if kind_ == "integer":
            return max(1, s.get("minimum", 1))
        if kind_ == "boolean":
            return False
        if kind_ == "number":
            return 1
        return None

    return make(schema)


def _ledger(today: date) -> bytes:
    """A 台账 of one valid row (ledgers/): what the import route takes."""
    import io  # noqa: PLC0415

    from openpyxl import Workbook  # noqa: PLC0415

    from duban.ledgers.sheet import COLUMNS  # noqa: PLC0415

    book = Workbook()
    book.active.append(list(COLUMNS))
    book.active.append(["", "其他", "检查导入", "市长", "清江浦区人民政府", "", "", today + timedelta(days=10), "",
                        "正在办理", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Routes whose body is a file (multipart/form-data, field ``file``), not JSON: a valid file for each.
UPLOADS: dict[str, Callable[[date], tuple[str, bytes, str]]] = {
    "POST /api/items/import": lambda today: (
        "台账.xlsx", _ledger(today), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def body_for(route: RouteMethod, samples: dict[str, Any], today: date, hints: dict[str, Any]) -> tuple[str, Any]:
    """("json", body) / ("multipart", files) / ("none", None) for a route; the body decodes as the handler's
    ``data`` type (or is a valid upload), so a refusal is the handler's, never the body's."""
    if route.key in UPLOADS:
        return "multipart", {"file": UPLOADS[route.key](today)}
    if route.key in samples:
        return "json", samples[route.key]
    kind = data_type(route.handler)
    if kind is None or route.method not in WRITES:
        return "none", None
    try:
        body = generated_body(kind, today, hints)
        msgspec.json.decode(msgspec.json.encode(body), type=kind)
    except (msgspec.ValidationError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise SweepError(f"{route.key}: cannot build a valid body of {kind} ({exc}); add a sample") from exc
    return "json", body


# ---- state ---------------------------------------------------------------------------------------

async def digest(platform: Any, tenants: tuple[str, ...] | list[str]) -> dict[tuple[str, str], str]:
    """A SHA-256 of every row of every table (but the audit log and sessions), per tenant and table."""
    found: dict[tuple[str, str], str] = {}
    tables = [t for t in Base.metadata.sorted_tables if t.name not in VOLATILE_TABLES]
    for tenant in tenants:
        async with platform.db.transaction(tenant, snapshot=True) as session:
            for table in tables:
                order = list(table.primary_key.columns) or list(table.columns)
                query = select(table).order_by(*order)
                if table.name == "counters":  # the audit log's own numbering moves with every denial
                    query = query.where(~table.c.key.startswith("audit"))
                rows = (await session.execute(query)).all()
                found[(tenant, table.name)] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return found


async def writes(platform: Any, tenants: tuple[str, ...] | list[str]) -> dict[str, int]:
    """How many write requests each tenant's audit log holds: a write that got through commits its audit
    row with it (deps.provide_ctx), so this names the route at once, at the cost of one count."""
    found = {}
    for tenant in tenants:
        async with platform.db.transaction(tenant, snapshot=True) as session:
            found[tenant] = (await session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "write"))).scalar_one()
    return found


async def settled(platform: Any, tenants: tuple[str, ...] | list[str]) -> bool:
    """Nothing in flight: every event sent and taken by its (hosted) receiver, none waiting, and every
    notification delivered or given up."""
    received: dict[str, set[str]] = {}
    sent: list[tuple[str, str]] = []
    for tenant in tenants:
        async with platform.db.transaction(tenant, snapshot=True) as session:
            if (await session.execute(select(OutboxEvent.id).where(OutboxEvent.sent_at.is_(None)).limit(1))).first():
                return False
            sent += [(r.to_tenant, r.id) for r in (await session.execute(select(OutboxEvent))).scalars()]
            inbox = (await session.execute(select(InboxEvent.id, InboxEvent.status))).all()
            if any(status == PARKED for _, status in inbox):
                return False
            received[tenant] = {event_id for event_id, _ in inbox}
            if (await session.execute(select(Delivery.id).where(Delivery.state == "pending").limit(1))).first():
                return False
    return all(event_id in received[to] for to, event_id in sent if to in received)


# ---- outcomes ------------------------------------------------------------------------------------

@dataclass
class Caller:
    name: str  # how the report names it: "anonymous", "city/inspector", "tampered:flipped", …
    kind: str  # anonymous | tampered | owner | foreign
    headers: dict[str, str] = field(default_factory=dict)
    actor: Actor | None = None


@dataclass
class Tally:
    calls: int = 0
    skipped: int = 0  # writes the policy allows the caller: not made, they would change the shared state
    leaks: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # refused, but not with 401/403/404
    over_refused: list[str] = field(default_factory=list)  # the policy allows it, the route said 403
    statuses: dict[int, int] = field(default_factory=dict)
    covered: dict[str, set[str]] = field(default_factory=dict)  # route key → caller kinds that called it

    def record(self, route: RouteMethod, caller: Caller, status: int) -> None:
        self.calls += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.covered.setdefault(route.key, set()).add(caller.kind)
