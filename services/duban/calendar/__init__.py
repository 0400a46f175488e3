"""The statutory working-day calendar (法定节假日与调休): the ``chinesecalendar`` package's data plus each
year's 国务院办公厅 holiday notice loaded by an administrator."""

from .notice import Holiday, Notice, NoticeError, notice_from_data, parse_notice_json, read_notice_file
from .workdays import CalendarMissing, LoadedNotice, WorkCalendar

__all__ = [
    "CalendarMissing",
    "Holiday",
    "LoadedNotice",
    "Notice",
    "NoticeError",
    "WorkCalendar",
    "notice_from_data",
    "parse_notice_json",
    "read_notice_file",
]
