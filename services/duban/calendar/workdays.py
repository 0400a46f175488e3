"""The statutory working-day calendar: ``WorkCalendar``, synchronous and in memory.

Each year's days come from one notice: a notice loaded into the platform's table (``source`` 'table')
or, failing that, the ``chinesecalendar`` package's data for the year ('package', 2004–2026 in 1.11).
A loaded notice wins over the package for its year. A day is a working day if it is a weekday that no
holiday covers, or a Saturday/Sunday named as a make-up day (调休上班). The notice of year Y+1 also
decides the late-December days of year Y that it names (a 元旦 holiday crossing the new year).

A computation that needs a year with neither raises ``CalendarMissing`` (HTTP 422): never a guess.

Each year is turned once, on first use, into a per-day table with running counts, so ``is_workday``
is one lookup and ``add_workdays`` / ``workdays_between`` cost one step per year they cross.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from duban.calendar.notice import Holiday, Notice
from duban.errors import DubanError

Source = Literal["table", "package"]
NEVER = datetime.min.replace(tzinfo=UTC)  # the loaded_at of a notice given straight from a file
# The package shortens some names; the notices use the full ones.
_FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


class CalendarMissing(DubanError):
    """A computation needs a year for which no holiday notice is loaded and the package has no data."""

    status_code = 422

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year}年法定节假日安排尚未载入，无法计算工作日。请管理员依据国务院办公厅关于{year}年部分节假日安排的通知，"
            f"执行 `duban calendar load 文件` 或在系统中载入 (no statutory calendar for {year}: load the State "
            f"Council's holiday notice for {year} with `duban calendar load FILE` or POST /api/calendar)",
            detail={"year": year},
        )
        self.year = year


@dataclass(frozen=True)
class LoadedNotice:
    """A notice as the platform's table holds it: who loaded it and when."""

    notice: Notice
    loaded_by: str
    loaded_at: datetime


class _Year:
    """One year as a per-day table: ``work[i]`` for day i (0 = 1 January), ``prefix[i]`` working days
    before day i, ``ranks[k]`` the day of the k-th working day."""

    __slots__ = ("first", "prefix", "ranks", "work")

    def __init__(self, year: int, changes: dict[date, bool]) -> None:
        self.first = date(year, 1, 1).toordinal()
        size = date(year + 1, 1, 1).toordinal() - self.first
        # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday (0 = Monday).
        work = bytearray((self.first + i - 1) % 7 < 5 for i in range(size))
        for day, is_work in changes.items():
            work[day.toordinal() - self.first] = is_work
        self.work = bytes(work)
        self.ranks = [i for i in range(size) if work[i]]
        prefix, count = [0] * (size + 1), 0
        for i in range(size):
            prefix[i] = count
            count += work[i]
        prefix[size] = count
        self.prefix = prefix


class WorkCalendar:
    """Working days from the package's data plus loaded notices (a loaded notice wins for its year).

    Immutable once made: the node swaps in a new one when a notice is loaded."""

    def __init__(self, loaded: Iterable[Notice | LoadedNotice] = (), *, package: bool = True) -> None:
        self._package = package_notices() if package else {}
        self._loaded: dict[int, LoadedNotice] = {}
        for entry in loaded:
            if isinstance(entry, Notice):
                entry = LoadedNotice(entry, "", NEVER)
            self._loaded[entry.notice.year] = entry
        self._years: dict[int, _Year] = {}

    def with_loaded(self, *loaded: LoadedNotice) -> WorkCalendar:
        """A new calendar with these notices in place of whatever their years had."""
        fresh = WorkCalendar(package=False)
        fresh._package = self._package
        fresh._loaded = {**self._loaded, **{entry.notice.year: entry for entry in loaded}}
        return fresh

    # -- what it knows ----------------------------------------------------------------------------------
    def year_source(self, year: int) -> Source | None:
        """Where a year's days come from: 'table' (a loaded notice), 'package', or None (unknown)."""
        if year in self._loaded:
            return "table"
        return "package" if year in self._package else None

    def years(self) -> list[int]:
        """Every year the calendar can compute in."""
        return sorted(self._loaded.keys() | self._package.keys())

    def notice(self, year: int) -> Notice:
        """The notice a year's days come from (the package's data written as a notice for a package year)."""
        if year in self._loaded:
            return self._loaded[year].notice
        if year in self._package:
            return self._package[year]
        raise CalendarMissing(year)

    def loaded(self, year: int) -> LoadedNotice | None:
        """The loaded notice of a year, with who loaded it and when; None for a package or unknown year."""
        return self._loaded.get(year)

    def loaded_at(self) -> dict[int, datetime]:
        """When each loaded year was loaded (a node compares this with its tables to see a newer load)."""
        return {year: entry.loaded_at for year, entry in self._loaded.items()}

    # -- computing --------------------------------------------------------------------------------------
    def is_workday(self, day: date) -> bool:
        """Is ``day`` a working day?"""
        year = self._year(day.year)
        return bool(year.work[day.toordinal() - year.first])

    def add_workdays(self, start: date, n: int) -> date:
        """The date ``n`` working days after ``start`` (before it, for negative ``n``).

        The same as ``chinese_calendar.find_workday(n, start)``: for n >= 0 counting begins at the first
        working day on or after ``start`` (so a start on a rest day counts from the next working day, and
        ``n = 0`` gives that day); for n < 0 the answer is the |n|-th working day before ``start``."""
        year_no = start.year
        year = self._year(year_no)
        rank = year.prefix[start.toordinal() - year.first] + n  # the answer's rank among its year's working days
        while rank >= len(year.ranks):
            rank -= len(year.ranks)
            year_no += 1
            year = self._year(year_no)
        while rank < 0:
            year_no -= 1
            year = self._year(year_no)
            rank += len(year.ranks)
        return date.fromordinal(year.first + year.ranks[rank])

    def workdays_between(self, a: date, b: date) -> int:
        """How many working days lie after ``a`` up to and including ``b``; negative when ``b`` is before ``a``.

        So ``workdays_between(due, done)`` is how many working days late ``done`` is (0 when done on the
        due date, or on a rest day right after it), and ``workdays_between(today, due)`` is how many
        working days are left (a due date "within 3 working days" has 0 <= it <= 3). For a working day
        ``a`` and n >= 0, ``workdays_between(a, add_workdays(a, n)) == n``."""
        if a == b:
            return 0
        if b < a:
            return -self.workdays_between(b, a)
        return self._count(a + timedelta(days=1), b)

    def _count(self, first: date, last: date) -> int:
        """Working days in [first, last] (first <= last)."""
        year = self._year(first.year)
        i = first.toordinal() - year.first
        if first.year == last.year:
            return year.prefix[last.toordinal() - year.first + 1] - year.prefix[i]
        total = year.prefix[-1] - year.prefix[i]
        for year_no in range(first.year + 1, last.year):
            total += self._year(year_no).prefix[-1]
        end = self._year(last.year)
        return total + end.prefix[last.toordinal() - end.first + 1]

    def _year(self, year_no: int) -> _Year:
        year = self._years.get(year_no)
        if year is None:
            changes: dict[date, bool] = {}
            for notice in (self.notice(year_no), self._notice_or_none(year_no + 1)):
                # The next year's notice comes second: it decides the late-December days it names.
                for h in notice.holidays if notice else []:
                    changes.update((d, False) for d in h.days if d.year == year_no)
                    changes.update((d, True) for d in h.makeup_workdays if d.year == year_no)
            year = self._years[year_no] = _Year(year_no, changes)
        return year

    def _notice_or_none(self, year: int) -> Notice | None:
        entry = self._loaded.get(year)
        return entry.notice if entry else self._package.get(year)


@functools.cache
def package_notices() -> dict[int, Notice]:
    """The ``chinesecalendar`` package's data, written as one notice per year.

    The package keeps a name per date; consecutive days off of one name make a holiday, filed under the
    year it ends in (so 2018-12-30 – 2019-01-01 is in 2019's), and each make-up day goes to the nearest
    holiday of its name."""
    from chinese_calendar import constants

    def chinese(english: str) -> str:
        name = constants.Holiday(english).chinese
        return _FULL_NAMES.get(name, name)

    ranges: list[list] = []  # [name, start, end]
    for day, english in sorted(constants.holidays.items()):
        name = chinese(english)
        if ranges and ranges[-1][0] == name and ranges[-1][2] + timedelta(days=1) == day:
            ranges[-1][2] = day
        else:
            ranges.append([name, day, day])
    makeup: dict[int, list[date]] = {}
    for day, english in sorted(constants.workdays.items()):
        name = chinese(english)
        nearest = min((i for i, r in enumerate(ranges) if r[0] == name),
                      key=lambda i: min(abs((ranges[i][1] - day).days), abs((ranges[i][2] - day).days)))
        makeup.setdefault(nearest, []).append(day)
    version = importlib.metadata.version("chinesecalendar")
    by_year: dict[int, list[Holiday]] = {}
    for i, (name, start, end) in enumerate(ranges):
        by_year.setdefault(end.year, []).append(
            Holiday(name=name, start=start, end=end, makeup_workdays=makeup.get(i, [])))
    return {year: Notice(year=year, notice=f"chinesecalendar {version} 所载 {year} 年节假日安排 (package data)",
                         holidays=holidays)
            for year, holidays in by_year.items()}
