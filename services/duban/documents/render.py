"""The two renditions of a :class:`~duban.documents.layout.Document`: DOCX (python-docx) and PDF (WeasyPrint).

Both follow GB/T 9704-2012 (党政机关公文格式): A4, 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm, 22 lines of 28
characters in 三号 (16 pt, fixed line pitch 28.95 pt); 发文机关标志 in red 小标宋 with the red rule under the
发文字号; title 二号 小标宋; 一级标题 黑体, 二级标题 楷体, body 仿宋; page numbers "— 1 —" in 四号, odd pages
right, even pages left; 版记 (抄送/印发) between rules at the end.

- **DOCX** names the fonts as offices have them (方正小标宋简体, 黑体, 楷体_GB2312, 仿宋_GB2312). python-docx's
  ``font.name`` sets only the Latin slots, so every run (and the Normal style and the document defaults) also
  gets ``w:eastAsia`` on ``w:rFonts`` and loses the theme-font attributes (``w:asciiTheme`` …), which Word
  would otherwise prefer. Tables carry ``w:tblGrid`` and each cell's ``w:tcW`` so Word and WPS agree.
- **PDF** is HTML/CSS set by WeasyPrint with the Debian ``fonts-noto-cjk`` faces, which it embeds (subset):
  'Noto Serif CJK SC' stands in for 仿宋/小标宋/楷体, 'Noto Sans CJK SC' for 黑体. Only those faces are named,
  so a page looks the same on every machine.

WeasyPrint is slow (~0.2 s a page) and blocking: async callers use :func:`render_pdf_async`, which runs it
in a worker thread behind a limiter so a burst of downloads cannot take both cores.
"""

from __future__ import annotations

import datetime
import html
import io
import zipfile
from collections.abc import Iterable

import anyio
import anyio.to_thread
from docx import Document as new_docx
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from duban.documents.layout import (
    Block,
    Document,
    Form,
    Heading,
    PageBreak,
    Paragraph,
    Signature,
    Table,
)
from duban.errors import ServiceUnavailable

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"

# Office font names (DOCX) -------------------------------------------------------------------------------------
FONT_TITLE = "方正小标宋简体"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_BODY = "仿宋_GB2312"

# Sizes (pt): 三号 16, 四号 14, 二号 22
SIZE_BODY = 16.0
SIZE_SMALL = 14.0
SIZE_TABLE = 12.0  # 小四: data tables (a 通报's per-unit table has six columns)
SIZE_TITLE = 22.0
LINE_PITCH = 28.95  # 225 mm / 22 lines
RED = "E60012"

# Page geometry (mm), GB/T 9704 7.1/5.2.1
PAGE_W, PAGE_H = 210, 297
MARGIN_TOP, MARGIN_LEFT = 37, 28
TEXT_W, TEXT_H = 156, 225
MARGIN_RIGHT = PAGE_W - MARGIN_LEFT - TEXT_W  # 26
MARGIN_BOTTOM = PAGE_H - MARGIN_TOP - TEXT_H  # 35

_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def masthead_size(text: str) -> float:
    """The masthead's size in pt: as large as 36 pt but never wider than the 版心 (156 mm ≈ 442 pt)."""
    return max(18.0, min(36.0, 415.0 / max(len(text), 1)))


def _lines(text: str) -> list[str]:
    return text.split("\n")


TITLE_CHARS = 19  # 二号 characters to a line of the 版心 (442 pt / 22 pt, less the bold face's wider digits)
_BREAK_AFTER = set("的》」）、，和与及于至日")


def _width(ch: str) -> float:
    return 0.6 if ord(ch) < 0x2E80 else 1.0


def title_lines(title: str, per_line: int = TITLE_CHARS) -> str:
    """A long title broken into lines of about equal length (GB/T 9704 7.3.3: 回行时要做到词意完整, 排列
    对称), preferring a break after 的, 》, 、 and the like, never inside a number or alone on a line (the
    PDF's title; the DOCX leaves wrapping to the word processor)."""
    if "\n" in title:
        return title
    widths = [_width(ch) for ch in title]
    total = sum(widths)
    if total <= per_line:
        return title
    n = int(-(-total // per_line))
    target = total / n
    cuts, used, start = [], 0.0, 0
    running = [sum(widths[: i + 1]) for i in range(len(title))]
    inside, depth = [], 0  # within 《…》: a book title is not broken if it can be helped
    for ch in title:
        depth += (ch == "《") - (ch == "》")
        inside.append(depth > 0)
    for k in range(1, n):
        goal = target * k
        best, best_cost = None, None
        for i in range(start + 1, len(title) - 1):  # a cut after character i
            line = running[i] - used
            if line > per_line:
                break
            if total - running[i] > per_line * (n - k):  # what is left would not fit the lines left
                continue
            if title[i].isascii() and title[i].isalnum() and title[i + 1].isascii() and title[i + 1].isalnum():
                continue  # never inside a number (2026, 30日) or a Latin word
            cost = abs(running[i] - goal) - (3 if title[i] in _BREAK_AFTER else 0) + (8 if inside[i] else 0)
            if best_cost is None or cost < best_cost:
                best, best_cost = i, cost
        if best is None:
            break
        cuts.append(best + 1)
        used, start = running[best], best + 1
    parts, prev = [], 0
    for c in cuts:
        parts.append(title[prev:c])
        prev = c
    parts.append(title[prev:])
    return "\n".join(p for p in parts if p)


# ============================================================================================================
# DOCX
# ============================================================================================================
def _set_rfonts(rpr, font: str) -> None:
    """Name ``font`` in every slot of ``w:rFonts`` (East Asian included) and drop the theme attributes."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)
    for attr in _THEME_ATTRS:
        if rfonts.get(qn(attr)) is not None:
            del rfonts.attrib[qn(attr)]


def _run(paragraph, text: str, font: str, size: float, *, bold: bool = False, color: str | None = None):
    """Add ``text`` (newlines become line breaks) as one run in ``font``."""
    run = paragraph.add_run()
    for i, line in enumerate(_lines(text)):
        if i:
            run.add_break(WD_BREAK.LINE)
        run.add_text(line)
    run.font.name = font
    run.font.size = Pt(size)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    _set_rfonts(run._r.get_or_add_rPr(), font)
    return run


def _para(container, *, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_chars: float = 0, size: float = SIZE_BODY,
          pitch: float | None = LINE_PITCH, before: float = 0, after: float = 0, right_chars: float = 0):
    p = container.add_paragraph()
    fmt = p.paragraph_format
    p.alignment = align
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
    if right_chars:
        fmt.right_indent = Pt(size * right_chars)
    if pitch:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(pitch)
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    return p


def _border(p, side: str, color: str, size_eighths: int) -> None:
    ppr = p._p.get_or_add_pPr()
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = OxmlElement("w:pBdr")
        ppr.append(bdr)
    el = OxmlElement(f"w:{side}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size_eighths))
    el.set(qn("w:space"), "1")
    el.set(qn("w:color"), color)
    bdr.append(el)


def _page_number_footer(footer, align) -> None:
    p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = Pt(SIZE_SMALL)
    else:
        fmt.left_indent = Pt(SIZE_SMALL)
    _run(p, "— ", FONT_BODY, SIZE_SMALL)
    run = _run(p, "", FONT_BODY, SIZE_SMALL)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    _run(p, " —", FONT_BODY, SIZE_SMALL)


def _setup(docx) -> None:
    """A4 with GB/T 9704 margins, fonts without theme fallbacks, odd/even page numbers."""
    section = docx.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(MARGIN_BOTTOM - 7 - 6)  # the number sits ~7 mm below the 版心
    docx.settings.odd_and_even_pages_header_footer = True
    _page_number_footer(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number_footer(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)

    normal = docx.styles["Normal"]
    normal.font.name = FONT_BODY
    normal.font.size = Pt(SIZE_BODY)
    _set_rfonts(normal.element.get_or_add_rPr(), FONT_BODY)
    # The template's document defaults name theme fonts (minorEastAsia …): replace them too.
    defaults = docx.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            _set_rfonts(rpr, FONT_BODY)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)


def _docx_table(docx, headers: Iterable[str] | None, rows: list[tuple[str, ...]], widths: list[float],
                header_font: str = FONT_H1, first_col_font: str | None = None) -> None:
    headers = list(headers) if headers else None
    ncols = len(widths)
    nrows = len(rows) + (1 if headers else 0)
    table = docx.add_table(rows=nrows, cols=ncols)
    table.style = docx.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    total = sum(widths) or 1.0
    col_mm = [TEXT_W * w / total for w in widths]
    tbl = table._tbl
    tblpr = tbl.tblPr
    tblw = tblpr.find(qn("w:tblW"))
    if tblw is None:
        tblw = OxmlElement("w:tblW")
        tblpr.append(tblw)
    tblw.set(qn("w:type"), "dxa")
    tblw.set(qn("w:w"), str(int(Mm(TEXT_W).twips)))
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    grid = tbl.tblGrid
    for gc, mm in zip(grid.findall(qn("w:gridCol")), col_mm, strict=True):
        gc.set(qn("w:w"), str(int(Mm(mm).twips)))
    size = SIZE_SMALL if first_col_font else SIZE_TABLE  # a form in 四号, a data table in 小四
    all_rows = ([tuple(headers)] if headers else []) + [tuple(r) for r in rows]
    for r, (row, values) in enumerate(zip(table.rows, all_rows, strict=True)):
        is_header = headers is not None and r == 0
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))  # a row stays on one page …
        if is_header:
            trpr.append(OxmlElement("w:tblHeader"))  # … and the header row repeats on the next
        for c, cell in enumerate(row.cells):
            cell.width = Mm(col_mm[c])  # w:tcW, type dxa
            value = values[c] if c < len(values) else ""
            p = cell.paragraphs[0]
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            p.paragraph_format.line_spacing = Pt(size * 1.5)
            p.paragraph_format.space_before = Pt(2)
            p.paragraph_format.space_after = Pt(2)
            if is_header:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _run(p, value, header_font, size)
            elif first_col_font and c == 0:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _run(p, value, first_col_font, size)
            elif first_col_font:  # a form's value: written from the left
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
                _run(p, value, FONT_BODY, size)
            else:
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT if len(value) > 8 else WD_ALIGN_PARAGRAPH.CENTER
                _run(p, value, FONT_BODY, size)


def _docx_block(docx, block: Block) -> None:
    if isinstance(block, Heading):
        font = FONT_H1 if block.level == 1 else FONT_H2
        _run(_para(docx, indent_chars=2), block.text, font, SIZE_BODY)
    elif isinstance(block, Paragraph):
        align = {"left": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                 "right": WD_ALIGN_PARAGRAPH.RIGHT}[block.align]
        p = _para(docx, align=align, indent_chars=2 if block.align == "left" else 0,
                  right_chars=2 if block.align == "right" else 0)
        _run(p, block.text, FONT_BODY, SIZE_BODY, bold=block.bold)
    elif isinstance(block, Form):
        if block.caption:
            _run(_para(docx, align=WD_ALIGN_PARAGRAPH.CENTER, before=6), block.caption, FONT_H1, SIZE_BODY)
        _docx_table(docx, None, [(f.label, f.value) for f in block.fields], [0.26, 0.74],
                    first_col_font=FONT_H1)
    elif isinstance(block, Table):
        if block.caption:
            _run(_para(docx, align=WD_ALIGN_PARAGRAPH.CENTER, before=6), block.caption, FONT_H1, SIZE_BODY)
        widths = list(block.widths) if block.widths else [1.0] * len(block.headers)
        _docx_table(docx, block.headers, list(block.rows), widths)
    elif isinstance(block, Signature):
        _para(docx)  # GB/T 9704: the signature sits below the text after a blank line
        _run(_para(docx, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4), block.issuer, FONT_BODY, SIZE_BODY)
        _run(_para(docx, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4), block.date, FONT_BODY, SIZE_BODY)
        for line in block.contact:
            _run(_para(docx, indent_chars=2), line, FONT_BODY, SIZE_BODY)
    elif isinstance(block, PageBreak):
        docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    else:  # pragma: no cover - a new block kind without a renderer is a programming error
        raise TypeError(f"unknown block {type(block).__name__}")


def render_docx(doc: Document) -> bytes:
    """The document as DOCX bytes (公文 look, East Asian font names set on every run)."""
    docx = new_docx()
    _setup(docx)
    body = docx.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # the template's empty first paragraph
        body.remove(p)
    props = docx.core_properties
    props.title = doc.title
    props.subject = doc.kind
    props.author = doc.masthead or ""
    issued = datetime.datetime.fromisoformat(doc.issued) if doc.issued else datetime.datetime(2000, 1, 1)
    props.created = props.modified = issued.replace(tzinfo=None)
    props.last_modified_by = ""
    props.revision = 1

    if doc.masthead:
        size = masthead_size(doc.masthead)
        _run(_para(docx, align=WD_ALIGN_PARAGRAPH.CENTER, pitch=size * 1.3), doc.masthead, FONT_TITLE, size,
             color=RED)
        _para(docx)
        p = _para(docx, align=WD_ALIGN_PARAGRAPH.CENTER)
        _run(p, doc.number or "", FONT_BODY, SIZE_BODY)
        _border(p, "bottom", RED, 16)  # the red rule under the 发文字号 (2 pt)
        _para(docx)
    # The title stays one run: Word and WPS wrap it themselves (a reader searching the text finds it whole).
    _run(_para(docx, align=WD_ALIGN_PARAGRAPH.CENTER, pitch=SIZE_TITLE * 1.6, after=8), doc.title,
         FONT_TITLE, SIZE_TITLE)
    if doc.number and not doc.masthead:
        _run(_para(docx, align=WD_ALIGN_PARAGRAPH.RIGHT), doc.number, FONT_BODY, SIZE_BODY)
    if doc.addressees:
        text = doc.addressees if doc.addressees.endswith(("：", ":")) else doc.addressees + "："
        _run(_para(docx, align=WD_ALIGN_PARAGRAPH.LEFT), text, FONT_BODY, SIZE_BODY)
    for block in doc.blocks:
        _docx_block(docx, block)
    if doc.footer:
        _para(docx)
        for i, line in enumerate(doc.footer):
            p = _para(docx, align=WD_ALIGN_PARAGRAPH.LEFT, size=SIZE_SMALL, pitch=SIZE_SMALL * 1.8)
            p.paragraph_format.left_indent = Pt(SIZE_SMALL)
            if i == 0:
                _border(p, "top", "000000", 8)
            _border(p, "bottom", "000000", 8 if i == len(doc.footer) - 1 else 4)
            _run(p, line, FONT_BODY, SIZE_SMALL)

    out = io.BytesIO()
    docx.save(out)
    return _fixed_zip(out.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same package with every member dated 1980-01-01: python-docx stamps members with the time of
    saving, and a rendition must hash the same every time it is made (its SHA-256 is kept and archived)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


# ============================================================================================================
# PDF
# ============================================================================================================
SERIF = "'Noto Serif CJK SC'"
SANS = "'Noto Sans CJK SC'"

CSS = f"""
@page {{
  size: A4;
  margin: {MARGIN_TOP}mm {MARGIN_RIGHT}mm {MARGIN_BOTTOM}mm {MARGIN_LEFT}mm;
}}
@page :right {{
  @bottom-right {{ content: "— " counter(page) " —"; font: {SIZE_SMALL}pt {SERIF}; padding-right: 1em;
                  vertical-align: top; padding-top: 7mm; }}
}}
@page :left {{
  @bottom-left {{ content: "— " counter(page) " —"; font: {SIZE_SMALL}pt {SERIF}; padding-left: 1em;
                 vertical-align: top; padding-top: 7mm; }}
}}
html {{ font-family: {SERIF}; font-size: {SIZE_BODY}pt; line-height: {LINE_PITCH}pt; color: #000; }}
body {{ margin: 0; }}
p {{ margin: 0; text-align: justify; }}
.masthead {{ color: #{RED}; text-align: center; font-weight: bold;
             margin-top: 6mm; }}
.number {{ text-align: center; margin-top: {LINE_PITCH}pt; padding-bottom: 4mm;
           border-bottom: 2pt solid #{RED}; }}
.number.plain {{ text-align: right; border: none; margin-top: 0; padding-bottom: 0; }}
.title {{ text-align: center; font-size: {SIZE_TITLE}pt; line-height: {SIZE_TITLE * 1.5}pt; font-weight: bold;
          margin: {LINE_PITCH}pt 0 {LINE_PITCH / 2}pt 0; }}
.addressees {{ text-align: left; }}
.h1 {{ font-family: {SANS}; text-indent: 2em; }}
.h2 {{ font-weight: bold; text-indent: 2em; }}
.body {{ text-indent: 2em; }}
.center {{ text-align: center; }}
.right {{ text-align: right; padding-right: 2em; }}
.bold {{ font-weight: bold; }}
.caption {{ font-family: {SANS}; text-align: center; margin-top: 0.5em; break-after: avoid; }}
table {{ width: 100%; border-collapse: collapse; table-layout: fixed; margin: 0.3em 0 0.6em 0;
         font-size: {SIZE_SMALL}pt; line-height: {SIZE_SMALL * 1.5}pt; }}
table.data {{ font-size: {SIZE_TABLE}pt; line-height: {SIZE_TABLE * 1.45}pt; }}
th, td {{ border: 0.75pt solid #000; padding: 2pt 4pt; vertical-align: middle; }}
th {{ font-family: {SANS}; font-weight: normal; text-align: center; }}
td.label {{ font-family: {SANS}; text-align: center; }}
td.num {{ text-align: center; }}
tr {{ page-break-inside: avoid; }}
.signature {{ margin-top: {LINE_PITCH}pt; padding-right: 4em; }}
.signature p {{ text-align: right; }}
.contact {{ text-indent: 2em; }}
.pagebreak {{ break-after: page; }}
.banji {{ margin-top: {LINE_PITCH}pt; border-top: 1pt solid #000; border-bottom: 1pt solid #000;
          font-size: {SIZE_SMALL}pt; line-height: {SIZE_SMALL * 1.8}pt; }}
.banji p {{ padding: 0 1em; border-bottom: 0.5pt solid #000; }}
.banji p:last-child {{ border-bottom: none; }}
"""


def _h(text: str) -> str:
    return "<br/>".join(html.escape(line) for line in _lines(text))


def _html_table(headers: Iterable[str] | None, rows: list[tuple[str, ...]], widths: list[float],
                label_first: bool = False) -> str:
    total = sum(widths) or 1.0
    cols = "".join(f'<col style="width:{100 * w / total:.2f}%"/>' for w in widths)
    out = [f'<table class="{"form" if label_first else "data"}"><colgroup>{cols}</colgroup>']
    if headers:
        out.append("<thead><tr>" + "".join(f"<th>{_h(h)}</th>" for h in headers) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = []
        for c in range(len(widths)):
            value = row[c] if c < len(row) else ""
            cls = "label" if (label_first and c == 0) else ("num" if len(value) <= 8 and not label_first else "")
            cells.append(f'<td class="{cls}">{_h(value)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f'<p class="h{block.level}">{_h(block.text)}</p>'
    if isinstance(block, Paragraph):
        cls = {"left": "body", "center": "center", "right": "right"}[block.align]
        if block.bold:
            cls += " bold"
        return f'<p class="{cls}">{_h(block.text)}</p>'
    if isinstance(block, Form):
        cap = f'<p class="caption">{_h(block.caption)}</p>' if block.caption else ""
        return cap + _html_table(None, [(f.label, f.value) for f in block.fields], [0.26, 0.74], label_first=True)
    if isinstance(block, Table):
        cap = f'<p class="caption">{_h(block.caption)}</p>' if block.caption else ""
        widths = list(block.widths) if block.widths else [1.0] * len(block.headers)
        return cap + _html_table(block.headers, list(block.rows), widths)
    if isinstance(block, Signature):
        contact = "".join(f'<p class="contact">{_h(line)}</p>' for line in block.contact)
        return (f'<div class="signature"><p>{_h(block.issuer)}</p><p>{_h(block.date)}</p></div>{contact}')
    if isinstance(block, PageBreak):
        return '<div class="pagebreak"></div>'
    raise TypeError(f"unknown block {type(block).__name__}")  # pragma: no cover


def render_html(doc: Document) -> str:
    """The HTML the PDF is set from (also handy to preview a document in a browser)."""
    parts = [f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"/><title>{_h(doc.title)}</title>',
             f"<style>{CSS}</style></head><body>"]
    if doc.masthead:
        size = masthead_size(doc.masthead)
        parts.append(f'<p class="masthead" style="font-size:{size:.1f}pt;line-height:{size * 1.3:.1f}pt">'
                     f"{_h(doc.masthead)}</p>")
        parts.append(f'<p class="number">{_h(doc.number or "")}</p>')
    parts.append(f'<p class="title">{_h(title_lines(doc.title))}</p>')
    if doc.number and not doc.masthead:
        parts.append(f'<p class="number plain">{_h(doc.number)}</p>')
    if doc.addressees:
        text = doc.addressees if doc.addressees.endswith(("：", ":")) else doc.addressees + "："
        parts.append(f'<p class="addressees">{_h(text)}</p>')
    parts.extend(_html_block(b) for b in doc.blocks)
    if doc.footer:
        parts.append('<div class="banji">' + "".join(f"<p>{_h(line)}</p>" for line in doc.footer) + "</div>")
    parts.append("</body></html>")
    return "".join(parts)


_CJK_FACE = "Noto Serif CJK SC"
_fonts_checked = False


def _require_cjk_fonts() -> None:
    """Refuse to make a PDF whose Chinese would print as empty boxes: the faces come from Debian's
    fonts-noto-cjk (looked up once per process, through fontconfig as pango does)."""
    global _fonts_checked
    if _fonts_checked:
        return
    import subprocess

    try:
        families = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                                  timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        families = ""
    if _CJK_FACE not in families:
        raise ServiceUnavailable("本服务器未安装中文字体，暂不能生成 PDF（DOCX 可下载）。请管理员安装 fonts-noto-cjk "
                                 "(the server lacks the CJK fonts for PDFs: apt-get install fonts-noto-cjk)")
    _fonts_checked = True


def render_pdf(doc: Document) -> bytes:
    """The document as PDF bytes (blocking, ~0.2 s a page: from async code use :func:`render_pdf_async`)."""
    from weasyprint import HTML  # imported lazily: loading pango costs ~0.5 s

    _require_cjk_fonts()
    return HTML(string=render_html(doc)).write_pdf()


_limiter: anyio.CapacityLimiter | None = None


def _pdf_limiter() -> anyio.CapacityLimiter:
    # One render at a time per process: WeasyPrint is CPU-bound and pango/fontconfig are not reliably
    # thread-safe; queued downloads wait instead of starving the event loop.
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(1)
    return _limiter


async def render_pdf_async(doc: Document) -> bytes:
    """:func:`render_pdf` in a worker thread, off the event loop."""
    return await anyio.to_thread.run_sync(render_pdf, doc, limiter=_pdf_limiter())


async def render_docx_async(doc: Document) -> bytes:
    """:func:`render_docx` in a worker thread (fast, but a long table is still tens of milliseconds)."""
    return await anyio.to_thread.run_sync(render_docx, doc)


async def render_async(doc: Document, fmt: str) -> bytes:
    """``fmt``: "docx" or "pdf"."""
    if fmt == "docx":
        return await render_docx_async(doc)
    if fmt == "pdf":
        return await render_pdf_async(doc)
    raise ValueError(fmt)
