"""The query parameters of the list routes, checked into a ``Listing`` (a bad value is a 400 with a message
a clerk can read), and the answer: the page as a JSON array, as before, with the next page named in
the headers ``X-Next-Cursor: <cursor>`` and ``Link: </api/…?…&cursor=<cursor>>; rel="next"`` (absent
on the last page). ``offset`` is gone: it answers 400 saying to follow the cursor.

The providers are Litestar dependencies that only collect the parameters, as text: a dependency that
fails while Litestar resolves them leaves the request's transaction (``ctx``, resolved beside it) open
and never cleaned up. Checking happens in the handler, after authorization: ``list_query.check(ctx)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.params import QueryParameter

from duban.context import TenantContext
from duban.errors import InvalidInput
from duban.events.models import STATUSES
from duban.items.schemas import SourceKind
from duban.items.service import STATE_LABELS
from duban.items.views import warn_until
from duban.lists.cursor import BAD_CURSOR, MAX_CURSOR, PageRequest
from duban.lists.filters import Filters

SOURCE_KINDS = get_args(SourceKind)
LIGHTS = ("green", "yellow", "red")
MAX_LIMIT, MAX_Q = 500, 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CODE = re.compile(r"^[a-z0-9_]{1,32}$")


def _param(description: str, name: str | None = None) -> Any:  # noqa: ANN401
    return Annotated[str | None, QueryParameter(name=name, description=description)] if name else \
        Annotated[str | None, QueryParameter(description=description)]


StateQ = _param("only this state", name="state")
SourceQ = _param(f"only this source kind: {', '.join(SOURCE_KINDS)}")
UnitQ = _param("only items assigned (交办) to this unit (tenant code)")
AssignerQ = _param("only assignments from this tenant (交办单位)")
GroupQ = _param("only this 督查组 (group code)")
LeaderQ = _param("only items of this issuing leader (leader code)")
LightQ = _param("only this traffic light: green, yellow, red")
DueFromQ = _param("deadline on or after (YYYY-MM-DD)")
DueToQ = _param("deadline on or before (YYYY-MM-DD)")
SearchQ = _param(f"words in the title or the text (a substring, 1–{MAX_Q} characters)")
StatusQ = _param(f"only this status: {', '.join(STATUSES)}")
FromTenantQ = _param("only events from this tenant")
CursorQ = _param("the next page: X-Next-Cursor of the page before")
LimitQ = _param(f"rows per page, 1–{MAX_LIMIT}")
OffsetQ = Annotated[str | None, QueryParameter(description="gone: page with cursor", include_in_schema=False)]


@dataclass(frozen=True)
class Listing:
    """One list request, checked: its filters, its page, and where it was asked (for the next page's link)."""

    filters: Filters
    page: PageRequest
    path: str
    params: tuple[tuple[str, str], ...]  # the query as asked, less the cursor

    def respond(self, rows: list[Any], next_cursor: str | None) -> Response[list[Any]]:
        """The page as a JSON array; the cursor of the next one in the headers, if there is one."""
        if next_cursor is None:
            return Response(rows)
        link = f"{self.path}?{urlencode([*self.params, ('cursor', next_cursor)])}"
        return Response(rows, headers={"X-Next-Cursor": next_cursor, "Link": f'<{link}>; rel="next"'})


@dataclass(frozen=True)
class ListQuery:
    """The parameters a list route was given, as text, not yet checked."""

    path: str
    params: tuple[tuple[str, str], ...]
    given: dict[str, str | None]  # the parameters this list takes
    default_limit: int

    def check(self, ctx: TenantContext) -> Listing:
        """The filters and the page, checked (InvalidInput with a message a clerk can read)."""
        g = self.given
        if g.get("offset") is not None:
            raise InvalidInput("不再支持 offset 分页，请使用上一页响应头 X-Next-Cursor 中的 cursor 参数 "
                               "(offset paging is gone: pass cursor=<X-Next-Cursor of the page before>)")
        start, end = _day(g.get("due_from"), "due_from"), _day(g.get("due_to"), "due_to")
        if start and end and start > end:
            raise InvalidInput("办结时限范围的起始日期晚于结束日期 (due_from is after due_to)")
        filters = Filters(
            state=_one_of(g.get("state"), STATE_LABELS, "状态", "state"),
            source=_one_of(g.get("source"), SOURCE_KINDS, "事项来源", "source kind"),
            unit=_tenant(ctx, g.get("unit")), assigner=_tenant(ctx, g.get("assigner")),
            group=_known(g.get("group"), ctx.registry.group, "督查组", "supervision group"),
            leader=_known(g.get("leader"), ctx.registry.leader, "交办领导", "leader"),
            light=_light(ctx, g.get("light")), due_from=start, due_to=end, q=_q(g.get("q")),
            status=_one_of(g.get("status"), STATUSES, "状态", "status"), from_tenant=_tenant(ctx, g.get("from_tenant")),
        )
        cursor = g.get("cursor")
        if cursor is not None and (not cursor or len(cursor) > MAX_CURSOR):
            raise InvalidInput(BAD_CURSOR)
        return Listing(filters, PageRequest(_limit(g.get("limit"), self.default_limit), cursor), self.path,
                       self.params)


def _query(request: Request, default_limit: int, **given: str | None) -> ListQuery:
    params = tuple((k, v) for k, v in request.query_params.multi_items() if k != "cursor")
    return ListQuery(request.url.path, params, given, default_limit)


def _text(value: str | None, label: str, max_length: int = 64) -> str | None:
    if value is None:
        return None
    if not value.strip() or len(value) > max_length or _CONTROL.search(value):
        raise InvalidInput(f"{label}的值无效 (invalid {label})")
    return value.strip()


def _one_of(value: str | None, allowed, label: str, english: str) -> str | None:  # noqa: ANN001
    if (value := _text(value, label)) is not None and value not in allowed:
        raise InvalidInput(f"{label} {value} 不存在，应为 {'、'.join(allowed)} 之一 (unknown {english})")
    return value


def _known(value: str | None, lookup, label: str, english: str) -> str | None:  # noqa: ANN001
    if (value := _text(value, label)) is not None and (not _CODE.match(value) or lookup(value) is None):
        raise InvalidInput(f"{label} {value} 不存在 (unknown {english})")
    return value


def _tenant(ctx: TenantContext, value: str | None) -> str | None:
    return _known(value, ctx.registry.get, "单位", "unit")


def _light(ctx: TenantContext, value: str | None) -> tuple[str, date, date] | None:
    if (value := _one_of(value, LIGHTS, "信号灯", "light")) is None:
        return None
    return (value, *warn_until(ctx))


def _day(value: str | None, label: str) -> date | None:
    if (value := _text(value, label, 10)) is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidInput(f"{label} 应为 YYYY-MM-DD 格式的日期 ({label}: a date, YYYY-MM-DD)")


def _q(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip() or len(value) > MAX_Q or _CONTROL.search(value):
        raise InvalidInput(f"搜索词应为 1–{MAX_Q} 个字符，不含控制字符 (q: 1 to {MAX_Q} characters)")
    return value.strip()


def _limit(value: str | None, default: int) -> int:
    if value is None:
        return default
    if value.isascii() and value.isdigit() and len(value) <= 3 and 1 <= int(value) <= MAX_LIMIT:
        return int(value)
    raise InvalidInput(f"每页条数 limit 应为 1–{MAX_LIMIT} 的整数 (limit: 1 to {MAX_LIMIT})")


# -- the providers: collect, never fail ---------------------------------------------------------------------


async def item_query(
    request: Request, state_: StateQ = None, source: SourceQ = None, unit: UnitQ = None, group: GroupQ = None,
    leader: LeaderQ = None, light: LightQ = None, due_from: DueFromQ = None, due_to: DueToQ = None,
    q: SearchQ = None, cursor: CursorQ = None, limit: LimitQ = None, offset: OffsetQ = None,
) -> ListQuery:
    """``GET /api/items``: newest first."""
    return _query(request, 100, state=state_, source=source, unit=unit, group=group, leader=leader, light=light,
                  due_from=due_from, due_to=due_to, q=q, cursor=cursor, limit=limit, offset=offset)


async def queue_query(
    request: Request, state_: StateQ = None, source: SourceQ = None, assigner: AssignerQ = None,
    group: GroupQ = None, leader: LeaderQ = None, light: LightQ = None, due_from: DueFromQ = None,
    due_to: DueToQ = None, q: SearchQ = None, cursor: CursorQ = None, limit: LimitQ = None, offset: OffsetQ = None,
) -> ListQuery:
    """``GET /api/assignments``: what is due first."""
    return _query(request, 100, state=state_, source=source, assigner=assigner, group=group, leader=leader,
                  light=light, due_from=due_from, due_to=due_to, q=q, cursor=cursor, limit=limit, offset=offset)


async def inbox_query(request: Request, status: StatusQ = None, from_tenant: FromTenantQ = None,
                      cursor: CursorQ = None, limit: LimitQ = None, offset: OffsetQ = None) -> ListQuery:
    """``GET /api/inbox``: newest first."""
    return _query(request, 200, status=status, from_tenant=from_tenant, cursor=cursor, limit=limit, offset=offset)


async def plain_query(request: Request, cursor: CursorQ = None, limit: LimitQ = None,
                      offset: OffsetQ = None) -> ListQuery:
    """A list without filters (the reminders flagged for the 通报): newest first."""
    return _query(request, 200, cursor=cursor, limit=limit, offset=offset)
