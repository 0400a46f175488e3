"""One year's 国务院办公厅 holiday notice (部分节假日安排的通知), as a clerk transcribes it.

The file is TOML, UTF-8 (the tenant registry is TOML too); the API takes the same structure as JSON
with dates written ``"YYYY-MM-DD"``::

    year = 2027                       # the year the notice arranges
    notice = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕X号）"
    published = 2026-11-04            # optional: the notice's date

    [[holidays]]                      # one table per holiday, in any order
    name = "元旦"
    start = 2027-01-01                # first day off
    end = 2027-01-03                  # last day off (the same as start for a single day)
    makeup_workdays = []              # 调休上班: the Saturdays/Sundays worked for this holiday

    [[holidays]]
    name = "春节"
    start = 2027-02-06
    end = 2027-02-14
    makeup_workdays = [2027-02-20]

Every weekday that no holiday covers is a working day, every Saturday and Sunday that no
``makeup_workdays`` names is a rest day: the file lists only what the notice changes.

Rules (a file breaking any of them is refused whole, with every problem named):

- ``year``, ``notice`` and at least one holiday are required; field names are exactly the ones above.
- Dates are plain dates (no time). Every date lies in ``year``, except for a 元旦 holiday that crosses
  the new year: a holiday ending in January may start in the December before, and its make-up days
  may lie in that December (as in 2018-12-30 – 2019-01-01 with 2018-12-29 worked).
- ``end`` is not before ``start``; a holiday lasts at most 21 days (a longer one is a typo).
- Holidays do not overlap; a make-up day is a Saturday or Sunday, lies in no holiday, and is named once.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path

import msgspec

from duban.errors import InvalidInput

MAX_HOLIDAY_DAYS = 21
WEEKDAYS = "一二三四五六日"


class Holiday(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One holiday of the notice: its days off and the weekend days worked in exchange."""

    name: str
    start: date
    end: date
    makeup_workdays: list[date] = []

    @property
    def days(self) -> list[date]:
        """Every day off, from start to end."""
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


class Notice(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One year's holiday arrangements."""

    year: int
    notice: str
    published: date | None = None
    holidays: list[Holiday]

    def to_builtins(self) -> dict:
        """The notice as JSON-ready data (dates as ``YYYY-MM-DD``): the stored and the API form."""
        return msgspec.to_builtins(self)


class NoticeError(InvalidInput):
    """A notice file or body that cannot be loaded; ``problems`` lists each one (Chinese, then English)."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        where = f"{source}: " if source else ""
        head = f"{where}节假日安排通知有误，未载入 (the holiday notice was not loaded):"
        super().__init__("\n".join([head, *(f"  - {p}" for p in problems)]), detail={"problems": problems})
        self.problems = problems


# -- reading ------------------------------------------------------------------------------------------
def read_notice_file(path: Path | str) -> Notice:
    """Read and check a TOML notice file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NoticeError([f"文件无法读取 (cannot read the file): {exc.strerror or exc}"], str(path)) from exc
    return parse_notice_toml(raw, source=str(path))


def parse_notice_toml(raw: bytes | str, source: str = "") -> Notice:
    """Parse and check a notice written as TOML."""
    text = raw if isinstance(raw, str) else _utf8(raw, source)
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))  # Notepad's UTF-8 BOM is harmless
    except tomllib.TOMLDecodeError as exc:
        problem = f"不是有效的 TOML 格式，请核对引号、括号和日期写法 (not valid TOML): {exc}"
        raise NoticeError([problem], source) from exc
    return notice_from_data(data, source)


def parse_notice_json(raw: bytes | str, source: str = "") -> Notice:
    """Parse and check a notice written as JSON (the API's body)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NoticeError([f"不是有效的 JSON (not valid JSON): {exc}"], source) from exc
    return notice_from_data(data, source)


def notice_from_data(data: object, source: str = "") -> Notice:
    """Check decoded data (from TOML, JSON or the table) and make it a ``Notice``."""
    if not isinstance(data, dict):
        raise NoticeError(["内容应为一个对象，含 year、notice、holidays (expected an object with year, notice, "
                           "holidays)"], source)
    try:
        notice = msgspec.convert(data, Notice)
    except msgspec.ValidationError as exc:
        raise NoticeError([_explain(str(exc), data)], source) from exc
    problems = check_notice(notice)
    if problems:
        raise NoticeError(problems, source)
    return notice


def _utf8(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            raw.decode("gbk")
            hint = "看起来是 GBK 编码，请用“另存为 UTF-8”保存后重试 (it looks GBK-encoded: save it as UTF-8)"
        except UnicodeDecodeError:
            hint = "请保存为 UTF-8 (save it as UTF-8)"
        raise NoticeError([f"文件不是 UTF-8 编码，{hint}; byte {exc.start}"], source) from exc


# -- what msgspec says, for a clerk -------------------------------------------------------------------
_FIELDS = {
    "year": "年份 year", "notice": "通知名称 notice", "published": "发布日期 published", "holidays": "假期 holidays",
    "name": "假期名称 name", "start": "放假开始日期 start", "end": "放假结束日期 end",
    "makeup_workdays": "调休上班日 makeup_workdays",
}
_TYPES = {"date": "日期，如 2027-01-01（不带时间）", "int": "整数", "str": "文字（加引号）", "array": "列表 [...]",
          "object": "表 [[holidays]]"}


def _where(path: str, data: dict) -> str:
    """``holidays[1].start`` → 第2个假期「春节」的放假开始日期 start."""
    parts = re.findall(r"\.(\w+)|\[(\d+)\]", path)
    words, holidays = [], data.get("holidays")
    for i, (name, index) in enumerate(parts):
        if index and i == 1 and parts[0][0] == "holidays":
            n = int(index)
            label = ""
            if isinstance(holidays, list) and n < len(holidays) and isinstance(holidays[n], dict):
                label = f"「{holidays[n].get('name', '')}」" if holidays[n].get("name") else ""
            words.append(f"第{n + 1}个假期{label}")
        elif index:
            words.append(f"第{int(index) + 1}项")
        elif not (name == "holidays" and len(parts) > 1):
            words.append(_FIELDS.get(name, name))
    return "的".join(words)


def _explain(message: str, data: dict) -> str:
    problem, _, path = message.partition(" - at `$")
    path = path.rstrip("`")
    where = _where(path, data) if path else ""
    if m := re.match(r"Object missing required field `(\w+)`", problem):
        zh = f"缺少{_FIELDS.get(m[1], m[1])}"
    elif m := re.match(r"Object contains unknown field `(\w+)`", problem):
        zh = f"有未知字段 {m[1]}（拼写有误？可用的字段见说明）"
    elif m := re.match(r"Expected `(\w+)`, got `(\w+)`", problem):
        zh = f"应为{_TYPES.get(m[1], m[1])}" + ("，不能带时间" if m[2] == "datetime" else "")
    elif problem.startswith("Invalid RFC3339 encoded date"):
        zh = "不是有效日期，应写作 YYYY-MM-DD 且日期存在"
    else:
        zh = "格式有误"
    field = f"{where}: " if where else ""
    english = f"{problem}" + (f" at {path.lstrip('.')}" if path else "")
    return f"{field}{zh} ({english})"


# -- the rules ----------------------------------------------------------------------------------------
def _day(d: date) -> str:
    return f"{d.isoformat()}（星期{WEEKDAYS[d.weekday()]}）"


def check_notice(n: Notice) -> list[str]:
    """Every problem of a decoded notice (empty when it can be loaded)."""
    problems: list[str] = []
    if not 2000 <= n.year <= 2100:
        problems.append(f"年份 year {n.year} 不合理 (year {n.year} is out of range 2000–2100)")
        return problems
    if not n.notice.strip():
        problems.append("通知名称 notice 不能为空 (notice must name the State Council notice)")
    if not n.holidays:
        problems.append("没有任何假期 [[holidays]] (the notice lists no holidays)")
    y = n.year
    taken: dict[date, str] = {}  # day off → its holiday
    for i, h in enumerate(n.holidays):
        who = f"第{i + 1}个假期「{h.name}」" if h.name.strip() else f"第{i + 1}个假期"
        en = f"holidays[{i}]"
        if not h.name.strip():
            problems.append(f"{who}的假期名称 name 不能为空 ({en}.name is empty)")
        if h.end < h.start:
            problems.append(f"{who}的结束日期 {h.end} 早于开始日期 {h.start} ({en}.end is before its start)")
            continue
        length = (h.end - h.start).days + 1
        if length > MAX_HOLIDAY_DAYS:
            problems.append(f"{who}长达 {length} 天，请核对结束日期 ({en} lasts {length} days, more than "
                            f"{MAX_HOLIDAY_DAYS}: check its end)")
        crossing = h.end.year == y and h.end.month == 1 and h.start.year == y - 1 and h.start.month == 12
        for field, d in (("start", h.start), ("end", h.end)):
            if d.year != y and not (field == "start" and crossing):
                problems.append(f"{who}的{_FIELDS[field].split()[0]} {d} 不在 {y} 年内 ({en}.{field} {d} is "
                                f"outside {y})")
        for d in h.days if length <= MAX_HOLIDAY_DAYS else []:
            if d in taken:
                problems.append(f"{who}与「{taken[d]}」在 {d} 重叠 ({en} overlaps {taken[d]} on {d})")
                break
        for d in h.days if length <= MAX_HOLIDAY_DAYS else []:
            taken.setdefault(d, h.name)
    makeup: dict[date, str] = {}
    for i, h in enumerate(n.holidays):
        who = f"第{i + 1}个假期「{h.name}」" if h.name.strip() else f"第{i + 1}个假期"
        en = f"holidays[{i}].makeup_workdays"
        for d in h.makeup_workdays:
            december_before = d.year == y - 1 and d.month == 12 and h.end.year == y and h.end.month == 1
            if d.year != y and not december_before:
                problems.append(f"{who}的调休上班日 {d} 不在 {y} 年内 ({en}: {d} is outside {y})")
            if d.weekday() < 5:
                problems.append(f"{who}的调休上班日 {_day(d)} 不是周六或周日，本来就上班 ({en}: {d} is not a "
                                f"Saturday or Sunday)")
            if d in taken:
                problems.append(f"{who}的调休上班日 {d} 在假期「{taken[d]}」之内 ({en}: {d} lies inside the "
                                f"holiday {taken[d]})")
            if d in makeup:
                problems.append(f"调休上班日 {d} 重复列出（「{makeup[d]}」和「{h.name}」） ({en}: {d} is listed "
                                f"twice)")
            makeup.setdefault(d, h.name)
    return problems


# -- writing ------------------------------------------------------------------------------------------
def notice_to_toml(n: Notice) -> str:
    """The notice in the file format above (what ``duban calendar show YEAR --toml`` prints)."""
    lines = [f"year = {n.year}", f"notice = {json.dumps(n.notice, ensure_ascii=False)}"]
    if n.published:
        lines.append(f"published = {n.published.isoformat()}")
    for h in sorted(n.holidays, key=lambda h: h.start):
        lines += ["", "[[holidays]]", f"name = {json.dumps(h.name, ensure_ascii=False)}",
                  f"start = {h.start.isoformat()}", f"end = {h.end.isoformat()}",
                  f"makeup_workdays = [{', '.join(d.isoformat() for d in sorted(h.makeup_workdays))}]"]
    return "\n".join(lines) + "\n"
