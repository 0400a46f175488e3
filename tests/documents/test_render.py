"""The renderers on their own: one description with every block kind, as DOCX and PDF."""

from __future__ import annotations

import asyncio
import io
import threading

import docx
import pytest
from checks import assert_docx_fonts, assert_fonts_embedded, assert_text, first_page_png, missing_tools
from docx.oxml.ns import qn

from duban.documents import render
from duban.documents.layout import Document, Field, Form, Heading, PageBreak, Paragraph, Signature, Table

# The PDFs need fonts-noto-cjk and their checks poppler-utils (CI installs both; checks.missing_tools).
pytestmark = pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))

SAMPLE = Document(
    kind="bulletin", title="关于2026年第三季度督查事项办理情况的通报", masthead="淮安市人民政府办公室督查室",
    number="第3期", addressees="各县区人民政府，市各委办局", issued="2026-11-27",
    blocks=(
        Paragraph("根据市政府工作安排，现将第三季度交办事项办理情况通报如下："),
        Heading("一、总体情况"),
        Paragraph("三季度共交办事项42件，已办结30件，完成率71.4%。"),
        Heading("（一）会议交办事项", 2),
        Paragraph("重点事项", align="center", bold=True),
        Form((Field("编号", "督办〔2026〕12号"), Field("承办单位", "主办：市住建局\n协办：市财政局")),
             caption="签收回执"),
        Table(("承办单位", "承办件数", "办结数", "在办数", "超时未办数", "按时办结率"),
              tuple((f"单位{i:02d}", "10", "8", "2", "0", "80.0%") for i in range(40)),
              widths=(3, 1, 1, 1, 1.2, 1.2), caption="附件：各单位办理情况"),
        PageBreak(),
        Paragraph("（此页无正文）", align="right"),
        Signature("淮安市人民政府办公室督查室", "2026年11月27日", ("联系人：张三，电话：0517-12345678",)),
    ),
    footer=("抄送：市委办公室。", "淮安市人民政府办公室督查室　　2026年11月27日印发"),
)


def test_docx_names_office_fonts_everywhere():
    data = render.render_docx(SAMPLE)
    d = assert_docx_fonts(data, "第3期", "一、总体情况", "单位39", "80.0%", "抄送：市委办公室。")
    # The defaults and the Normal style name the body font, with no theme font left to fall back on.
    defaults = d.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for rfonts in (defaults.find(qn("w:rFonts")), d.styles["Normal"].element.rPr.find(qn("w:rFonts"))):
        assert rfonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
        assert rfonts.get(qn("w:asciiTheme")) is None and rfonts.get(qn("w:eastAsiaTheme")) is None
    fonts = {r._r.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")): r.text for p in d.paragraphs for r in p.runs
             if r.text.strip()}
    assert fonts["方正小标宋简体"] and fonts["黑体"] and fonts["楷体_GB2312"] and fonts["仿宋_GB2312"]
    masthead = next(r for p in d.paragraphs for r in p.runs if r.text == SAMPLE.masthead)
    assert str(masthead.font.color.rgb) == render.RED
    table = d.tables[1]
    grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert len(grid) == 6 and abs(sum(grid) - int(docx.shared.Mm(156).twips)) < 10
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # the header repeats on each page


def test_renditions_are_the_same_bytes_every_time():
    assert render.render_docx(SAMPLE) == render.render_docx(SAMPLE)
    assert render.render_pdf(SAMPLE) == render.render_pdf(SAMPLE)


def test_pdf_embeds_its_fonts_and_holds_the_text():
    pdf = render.render_pdf(SAMPLE)
    assert_text(pdf, SAMPLE.title, SAMPLE.masthead, "第3期", "单位00", "单位39", "71.4%", "签收回执",
                "抄送：市委办公室。")
    fonts = assert_fonts_embedded(pdf)
    assert {f.split("+", 1)[1] for f in fonts} >= {"Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC"}
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3  # the long table ran on, and the page break was kept
    box = reader.pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 210 and round(float(box.height) / 72 * 25.4) == 297
    first_page_png(pdf, "render-sample")


async def test_pdf_is_made_off_the_event_loop():
    loop_thread = threading.get_ident()
    seen = []
    original = render.render_pdf

    def spy(doc):
        seen.append(threading.get_ident())
        return original(doc)

    render.render_pdf = spy
    try:
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        pdf = await render.render_pdf_async(SAMPLE)
        task.cancel()
    finally:
        render.render_pdf = original
    assert pdf.startswith(b"%PDF") and seen and seen[0] != loop_thread
    assert ticks > 1  # the loop kept running while the page was set


def test_long_titles_break_into_even_lines_outside_book_titles():
    assert render.title_lines("领导批办事项通知单") == "领导批办事项通知单"
    assert render.title_lines("关于《推进淮安东站综合客运枢纽建设》办理情况的专报") == \
        "关于《推进淮安东站综合客运枢纽建设》\n办理情况的专报"
    long = "关于加快推进全市老旧小区改造和城市更新工作中若干重点难点问题督查情况的报告"
    lines = render.title_lines(long).split("\n")
    assert "".join(lines) == long and len(lines) == 2 and all(len(line) <= render.TITLE_CHARS for line in lines)
    assert min(len(line) for line in lines) > 1  # never one character alone


def test_a_pdf_is_refused_with_a_sentence_where_the_cjk_fonts_are_missing(monkeypatch):
    from duban.errors import ServiceUnavailable

    monkeypatch.setattr(render, "_CJK_FACE", "No Such CJK Face")
    monkeypatch.setattr(render, "_fonts_checked", False)
    with pytest.raises(ServiceUnavailable, match="fonts-noto-cjk"):
        render.render_pdf(SAMPLE)
    assert render.render_docx(SAMPLE)  # the DOCX needs no font files
