"""The holiday notice file: what a clerk may write, and what they are told when it is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from calendar_samples import FILE_2026, NOTICE_2027, NOTICE_2027_TOML

from duban.calendar import NoticeError, notice_from_data, parse_notice_json, read_notice_file
from duban.calendar.notice import notice_to_toml, parse_notice_toml
from duban.errors import InvalidInput


def test_the_toml_file_and_the_json_body_read_the_same():
    from_toml, from_json = parse_notice_toml(NOTICE_2027_TOML), parse_notice_json(json.dumps(NOTICE_2027))
    assert from_toml == from_json
    assert from_toml.year == 2027 and [h.name for h in from_toml.holidays] == ["元旦", "国庆节"]
    assert from_toml.holidays[0].makeup_workdays == []
    assert notice_from_data(from_toml.to_builtins()) == from_toml, "the stored JSON reads back the same"
    assert parse_notice_toml(notice_to_toml(from_toml)) == from_toml
    assert parse_notice_toml(notice_to_toml(read_notice_file(FILE_2026))) == read_notice_file(FILE_2026)


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path: Path):
    path = tmp_path / "2027.toml"
    path.write_bytes(b"\xef\xbb\xbf" + NOTICE_2027_TOML.encode())
    assert read_notice_file(path).year == 2027


def edit(old: str, new: str) -> str:
    assert old in NOTICE_2027_TOML
    return NOTICE_2027_TOML.replace(old, new)


# (the file, what the clerk must read in the message: Chinese and English)
BROKEN = [
    (edit("end = 2027-10-07", "end = 2027-09-30"), ["「国庆节」的结束日期 2027-09-30 早于开始日期 2027-10-01",
                                                   "holidays[1].end is before its start"]),
    (edit("start = 2027-10-01", "start = 2026-10-01"),
     ["不在 2027 年内", "holidays[1].start 2026-10-01 is outside 2027"]),
    (edit("end = 2027-10-07", "end = 2028-10-07"), ["不在 2027 年内", "outside 2027"]),
    (edit("end = 2027-01-03", "end = 2027-10-02"), ["长达", "check its end"]),
    (NOTICE_2027_TOML + '\n[[holidays]]\nname = "中秋节"\nstart = 2027-10-06\nend = 2027-10-08\n',
     ["第3个假期「中秋节」与「国庆节」在 2027-10-06 重叠", "holidays[2] overlaps 国庆节 on 2027-10-06"]),
    (edit("2027-09-26, ", "2027-09-27, "), ["2027-09-27（星期一） 不是周六或周日", "is not a Saturday or Sunday"]),
    (edit("2027-09-26, ", "2027-10-02, "), ["在假期「国庆节」之内", "lies inside the holiday 国庆节"]),
    (edit("2027-09-26, ", "2027-10-09, "), ["重复列出", "listed twice"]),
    (edit("2027-09-26, ", "2026-12-26, "), ["调休上班日 2026-12-26 不在 2027 年内", "outside 2027"]),
    (edit("end = 2027-10-07", "end = 2027-10-7"), ["不是有效的 TOML", "not valid TOML"]),
    (edit("end = 2027-10-07", 'end = "2027-10-32"'), ["第2个假期「国庆节」的放假结束日期 end: 不是有效日期",
                                                      "Invalid RFC3339 encoded date at holidays[1].end"]),
    (edit("end = 2027-10-07", "end = 2027-10-07T08:00:00"), ["应为日期", "不能带时间", "holidays[1].end"]),
    (edit("start = 2027-10-01\n", ""),
     ["第2个假期「国庆节」: 缺少放假开始日期 start", "missing required field `start`"]),
    (edit("makeup_workdays", "makeup_workday"), ["未知字段 makeup_workday", "unknown field `makeup_workday`"]),
    (edit('year = 2027', 'year = "2027"'), ["年份 year: 应为整数", "Expected `int`, got `str`"]),
    (edit('notice = "测试用 2027年部分节假日安排（非真实通知）"', 'notice = " "'), ["通知名称 notice 不能为空"]),
    ('year = 2027\nnotice = "x"\nholidays = []\n', ["没有任何假期", "lists no holidays"]),
    (edit('name = "元旦"', 'name = ""'), ["第1个假期的假期名称 name 不能为空", "holidays[0].name is empty"]),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN, ids=[e[-1] for _, e in BROKEN])
def test_a_broken_file_is_refused_naming_the_field_and_the_problem(tmp_path: Path, text: str, expected: list[str]):
    path = tmp_path / "2027.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NoticeError) as refused:
        read_notice_file(path)
    error = refused.value
    assert isinstance(error, InvalidInput) and error.status_code == 400
    assert error.message.startswith(f"{path}: 节假日安排通知有误，未载入 (the holiday notice was not loaded):")
    for words in expected:
        assert words in error.message, error.message
    assert error.detail["problems"] == error.problems


def test_every_problem_is_listed_at_once():
    text = edit("2027-09-26, ", "2027-09-27, ").replace("end = 2027-10-07", "end = 2027-09-30")
    problems = parse_notice_toml_problems(text)
    assert len(problems) == 2, problems


def parse_notice_toml_problems(text: str) -> list[str]:
    with pytest.raises(NoticeError) as refused:
        parse_notice_toml(text)
    return refused.value.problems


def test_a_gbk_file_is_refused_with_how_to_fix_it(tmp_path: Path):
    path = tmp_path / "2027.toml"
    path.write_bytes(NOTICE_2027_TOML.encode("gbk"))
    with pytest.raises(NoticeError, match="GBK") as refused:
        read_notice_file(path)
    assert "UTF-8" in refused.value.message and "另存为 UTF-8" in refused.value.message


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(NoticeError, match="文件无法读取"):
        read_notice_file(tmp_path / "nowhere.toml")


@pytest.mark.parametrize("body", ["[1, 2]", "not json", '{"year": 2027}'])
def test_a_bad_json_body_is_refused(body: str):
    with pytest.raises(NoticeError):
        parse_notice_json(body)


def test_a_new_year_holiday_may_start_in_the_december_before():
    notice = parse_notice_toml(edit('start = 2027-01-01\nend = 2027-01-03',
                                    'start = 2026-12-31\nend = 2027-01-02\nmakeup_workdays = [2026-12-26]'))
    assert notice.holidays[0].start.year == 2026
    problems = parse_notice_toml_problems(edit('start = 2027-10-01', 'start = 2026-12-01'))
    assert any("outside 2027" in p for p in problems), "only a holiday ending in January may reach back"
