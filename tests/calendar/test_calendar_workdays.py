"""WorkCalendar: the statutory working days from the package and from loaded notices."""

from __future__ import annotations

import random
from datetime import date, timedelta

import chinese_calendar
import pytest
from calendar_samples import CORRECTED_2026_TOML, FILE_2026, NOTICE_2027_TOML

from duban.calendar import CalendarMissing, WorkCalendar, read_notice_file
from duban.calendar.notice import check_notice, parse_notice_toml
from duban.calendar.workdays import package_notices
from duban.errors import DubanError

CAL = WorkCalendar()
WITH_2027 = WorkCalendar([parse_notice_toml(NOTICE_2027_TOML)])


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_seven_working_days_after_28_september_2026_is_13_october():
    assert CAL.add_workdays(date(2026, 9, 28), 7) == date(2026, 10, 13)
    assert chinese_calendar.find_workday(7, date(2026, 9, 28)) == date(2026, 10, 13)


def test_the_make_up_saturday_10_october_2026_is_a_working_day():
    assert date(2026, 10, 10).weekday() == 5
    assert CAL.is_workday(date(2026, 10, 10))
    assert not CAL.is_workday(date(2026, 10, 11))  # the Sunday after it rests
    assert not any(CAL.is_workday(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))


def test_2027_is_refused_with_a_message_naming_the_year_and_how_to_load_it():
    with pytest.raises(CalendarMissing) as refused:
        CAL.add_workdays(date(2027, 3, 1), 1)
    error = refused.value
    assert isinstance(error, DubanError) and error.status_code == 422 and error.detail == {"year": 2027}
    assert "2027年法定节假日安排尚未载入" in error.message
    assert "duban calendar load" in error.message and "国务院办公厅" in error.message
    for needs_2027 in (lambda: CAL.is_workday(date(2027, 1, 4)),
                       lambda: CAL.add_workdays(date(2026, 12, 28), 7),  # runs into 2027
                       lambda: CAL.workdays_between(date(2026, 12, 1), date(2027, 1, 10)),
                       lambda: CAL.notice(2027)):
        with pytest.raises(CalendarMissing, match="2027"):
            needs_2027()
    assert CAL.year_source(2027) is None and CAL.year_source(2026) == "package"
    assert CAL.add_workdays(date(2026, 12, 24), 4) == date(2026, 12, 30), "2026 alone still computes"


def test_a_loaded_2027_notice_is_computed_from():
    assert WITH_2027.year_source(2027) == "table"
    assert WITH_2027.add_workdays(date(2027, 9, 28), 7) == date(2027, 10, 13)
    assert WITH_2027.is_workday(date(2027, 10, 9)) and not WITH_2027.is_workday(date(2027, 10, 4))
    # Across the new year: 2026 from the package, 2027 from the notice (元旦 1–3 January off).
    assert WITH_2027.add_workdays(date(2026, 12, 28), 7) == date(2027, 1, 7)
    assert WITH_2027.workdays_between(date(2026, 12, 28), date(2027, 1, 7)) == 7
    assert WITH_2027.add_workdays(date(2027, 1, 4), -1) == date(2026, 12, 31)
    with pytest.raises(CalendarMissing, match="2028"):
        WITH_2027.add_workdays(date(2027, 12, 27), 10)


def test_the_shipped_2026_file_agrees_with_the_package_on_every_day():
    from_file = WorkCalendar([read_notice_file(FILE_2026)], package=False)
    assert from_file.years() == [2026] and from_file.year_source(2026) == "table"
    for d in days(date(2026, 1, 1), date(2026, 12, 31)):
        assert from_file.is_workday(d) == chinese_calendar.is_workday(d), d
    assert from_file.add_workdays(date(2026, 9, 28), 7) == date(2026, 10, 13)
    makeup = sorted(d for h in read_notice_file(FILE_2026).holidays for d in h.makeup_workdays)
    assert [d.strftime("%m-%d") for d in makeup] == ["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"]


def test_a_loaded_notice_wins_over_the_package_for_its_year():
    corrected = WorkCalendar([parse_notice_toml(CORRECTED_2026_TOML)])
    assert corrected.year_source(2026) == "table" and corrected.year_source(2025) == "package"
    assert chinese_calendar.is_workday(date(2026, 10, 8)) and not corrected.is_workday(date(2026, 10, 8))
    assert corrected.add_workdays(date(2026, 9, 28), 7) == date(2026, 10, 14)
    assert corrected.is_workday(date(2025, 10, 9)) == chinese_calendar.is_workday(date(2025, 10, 9))


def test_a_next_year_notice_decides_the_december_days_it_names():
    # 2019's notice put 元旦 on 2018-12-30 – 2019-01-01 with Saturday 2018-12-29 worked.
    assert CAL.is_workday(date(2018, 12, 29)) and not CAL.is_workday(date(2018, 12, 31))
    notice = parse_notice_toml(NOTICE_2027_TOML.replace(
        'name = "元旦"\nstart = 2027-01-01', 'name = "元旦"\nstart = 2026-12-31'))
    cal = WorkCalendar([notice])
    assert not cal.is_workday(date(2026, 12, 31)) and CAL.is_workday(date(2026, 12, 31))
    assert cal.year_source(2026) == "package"


def test_every_package_year_reads_as_a_valid_notice_and_matches_the_package():
    notices = package_notices()
    assert sorted(notices) == list(range(2004, 2027))
    for year, notice in notices.items():
        assert check_notice(notice) == [], year
    from_notices = WorkCalendar(notices.values(), package=False)
    for d in days(date(2004, 1, 1), date(2026, 12, 31)):
        assert from_notices.is_workday(d) == chinese_calendar.is_workday(d), d


def test_add_workdays_is_find_workday():
    rnd = random.Random(145)
    for _ in range(3000):
        start, n = date(2005, 1, 1) + timedelta(days=rnd.randrange(7700)), rnd.randrange(-40, 41)
        expected = chinese_calendar.find_workday(n, start)
        if 2004 < expected.year < 2027:
            assert CAL.add_workdays(start, n) == expected, (start, n)


def test_add_workdays_counts_from_the_next_working_day_when_started_on_a_rest_day():
    saturday = date(2026, 10, 3)  # inside 国庆
    assert CAL.add_workdays(saturday, 0) == date(2026, 10, 8)
    assert CAL.add_workdays(saturday, 1) == date(2026, 10, 9)
    assert CAL.add_workdays(date(2026, 10, 8), 0) == date(2026, 10, 8)
    assert CAL.add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert CAL.add_workdays(date(2026, 10, 3), -1) == date(2026, 9, 30)


@pytest.mark.parametrize(("a", "b", "count"), [
    (date(2026, 9, 28), date(2026, 9, 28), 0),
    (date(2026, 9, 28), date(2026, 10, 13), 7),  # the inverse of add_workdays from a working day
    (date(2026, 10, 13), date(2026, 9, 28), -7),
    (date(2026, 9, 30), date(2026, 10, 7), 0),  # done in 国庆 after a 30 September due date: late by 0
    (date(2026, 9, 30), date(2026, 10, 8), 1),
    (date(2026, 10, 9), date(2026, 10, 10), 1),  # the make-up Saturday counts
    (date(2026, 10, 10), date(2026, 10, 12), 1),  # the Sunday does not
    (date(2025, 12, 31), date(2026, 1, 5), 2),  # 1–3 January off, Sunday 4 January worked
])
def test_workdays_between(a: date, b: date, count: int):
    assert CAL.workdays_between(a, b) == count
    slow = sum(CAL.is_workday(d) for d in days(min(a, b) + timedelta(days=1), max(a, b)))
    assert abs(count) == slow


def test_within_three_working_days_threshold():
    # today Friday 2026-09-18, due Wednesday 2026-09-23: Sunday 20 September (make-up), Monday, Tuesday,
    # Wednesday are four working days away — not yet "within 3"; on Monday 21 September it is 2.
    assert CAL.workdays_between(date(2026, 9, 18), date(2026, 9, 23)) == 4
    assert CAL.workdays_between(date(2026, 9, 21), date(2026, 9, 23)) == 2


def test_bulk_computation_is_fast():
    import time

    cal = WorkCalendar()
    start = time.perf_counter()
    for i in range(20_000):
        cal.add_workdays(date(2026, 1, 1) + timedelta(days=i % 300), 7)
    assert time.perf_counter() - start < 0.5
