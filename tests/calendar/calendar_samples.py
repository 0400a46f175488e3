"""Notices the calendar tests load. 2027's content is invented for the tests (the real notice is not
known here), so the repository ships no 2027 file."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FILE_2026 = REPO / "calendars" / "2026.toml"

NOTICE_2027_TOML = """\
year = 2027
notice = "测试用 2027年部分节假日安排（非真实通知）"

[[holidays]]
name = "元旦"
start = 2027-01-01
end = 2027-01-03

[[holidays]]
name = "国庆节"
start = 2027-10-01
end = 2027-10-07
makeup_workdays = [2027-09-26, 2027-10-09]
"""

NOTICE_2027 = {
    "year": 2027,
    "notice": "测试用 2027年部分节假日安排（非真实通知）",
    "holidays": [
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
        {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07", "makeup_workdays": ["2027-09-26", "2027-10-09"]},
    ],
}

# A correction of 2026 that the package does not have: 国庆 one day longer (2026-10-08, a Thursday, off).
CORRECTED_2026_TOML = FILE_2026.read_text(encoding="utf-8").replace("end = 2026-10-07", "end = 2026-10-08")
