"""What the API (and ``duban calendar show``) says about a year of the calendar."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from duban.calendar.workdays import WorkCalendar


class HolidayRead(msgspec.Struct):
    name: str
    start: date
    end: date
    days: int
    makeup_workdays: list[date]


class CalendarYearRead(msgspec.Struct):
    year: int
    source: str  # "table": a loaded notice; "package": the chinesecalendar package's data
    notice: str
    published: date | None
    holidays: list[HolidayRead]
    makeup_workdays: list[date]  # every 调休上班 day of the year's notice, in order
    workdays: int  # working days in the year
    loaded_by: str | None
    loaded_at: datetime | None

    @classmethod
    def of(cls, cal: WorkCalendar, year: int) -> CalendarYearRead:
        """A year as the calendar has it (``CalendarMissing`` for a year without data)."""
        notice = cal.notice(year)
        loaded = cal.loaded(year)
        holidays = [HolidayRead(h.name, h.start, h.end, len(h.days), sorted(h.makeup_workdays))
                    for h in sorted(notice.holidays, key=lambda h: h.start)]
        return cls(
            year=year, source=cal.year_source(year) or "", notice=notice.notice, published=notice.published,
            holidays=holidays, makeup_workdays=sorted(d for h in notice.holidays for d in h.makeup_workdays),
            workdays=cal.workdays_between(date(year - 1, 12, 31), date(year, 12, 31)),
            loaded_by=loaded.loaded_by if loaded else None, loaded_at=loaded.loaded_at if loaded else None,
        )


class AfterRead(msgspec.Struct):
    start: date
    n: int
    date: date  # n working days after start
