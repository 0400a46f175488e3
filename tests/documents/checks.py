"""What every generated document must pass: its PDF's text, its embedded fonts, its DOCX's East Asian font
names, and a picture of its first page kept as a test artifact."""

from __future__ import annotations

import io
import os
import re
import subprocess
import tempfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
from pypdf import PdfReader

REPO = Path(__file__).resolve().parents[2]
THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
OFFICE_FONTS = {"方正小标宋简体", "黑体", "楷体_GB2312", "仿宋_GB2312"}


def missing_tools() -> str | None:
    """Why documents cannot be checked on this machine (None when they can): the PDFs need Debian's
    fonts-noto-cjk (else Chinese renders as boxes) and the checks poppler-utils' pdftotext and pdftoppm.
    `.ci/run` installs them; on another machine: apt-get install fonts-noto-cjk poppler-utils."""
    import shutil

    missing = [tool for tool in ("pdftotext", "pdftoppm") if shutil.which(tool) is None]
    try:
        fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    except OSError:
        fonts = ""
    if "Noto Serif CJK SC" not in fonts:
        missing.append("the font Noto Serif CJK SC (fonts-noto-cjk)")
    return f"needs {', '.join(missing)}: apt-get install fonts-noto-cjk poppler-utils" if missing else None


def artifacts_dir() -> Path:
    """Where the pictures go: DUBAN_TEST_ARTIFACTS, else tests/.artifacts (gitignored)."""
    path = Path(os.environ.get("DUBAN_TEST_ARTIFACTS") or REPO / "tests" / ".artifacts") / "documents"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as pdftotext (poppler) extracts it, with line breaks and spaces removed (a long
    title or a table cell may be broken across lines)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", f.name, "-"], capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", out.decode("utf-8"))


def assert_text(pdf: bytes, *expected: str) -> str:
    text = pdf_text(pdf)
    for e in expected:
        assert re.sub(r"\s+", "", e) in text, f"{e!r} not in the PDF's text: {text[:600]}"
    return text


def assert_fonts_embedded(pdf: bytes) -> set[str]:
    """Every font of every page has its file in the PDF (FontFile, FontFile2 or FontFile3); their names."""
    reader = PdfReader(io.BytesIO(pdf))
    names: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font")
        assert fonts is not None, "a page without fonts"
        for ref in fonts.get_object().values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants.get_object()[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), \
                f"font {font.get('/BaseFont')} is not embedded"
            names.add(str(font.get("/BaseFont")))
    return names


def assert_docx_fonts(data: bytes, *expected: str) -> docx.document.Document:
    """Every run with text names an East Asian font (w:eastAsia) of the office set and no theme font; the
    body's text holds ``expected``; tables carry w:tblGrid and each cell its w:tcW."""
    d = docx.Document(io.BytesIO(data))
    runs = [r for p in d.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in d.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs
             if r.text.strip()]
    assert runs
    for r in runs:
        rfonts = r._r.rPr.find(qn("w:rFonts"))
        assert rfonts is not None, r.text
        assert rfonts.get(qn("w:eastAsia")) in OFFICE_FONTS, (r.text, rfonts.get(qn("w:eastAsia")))
        assert all(rfonts.get(qn(a)) is None for a in THEME_ATTRS), r.text
    for t in d.tables:
        assert t._tbl.find(qn("w:tblGrid")) is not None
        for row in t.rows:
            for c in row.cells:
                tcw = c._tc.tcPr.find(qn("w:tcW"))
                assert tcw is not None and int(tcw.get(qn("w:w"))) > 0
    section = d.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    text = "".join(p.text for p in d.paragraphs) + "".join(
        c.text for t in d.tables for row in t.rows for c in row.cells)
    text = re.sub(r"\s+", "", text)  # a long title is broken into lines
    for e in expected:
        assert re.sub(r"\s+", "", e) in text, f"{e!r} not in the DOCX"
    return d


def first_page_png(pdf: bytes, name: str) -> Path:
    """The first page at 60 dpi (pdftoppm), kept in the artifacts folder with the PDF; the PNG's path."""
    target = artifacts_dir() / name
    target.with_suffix(".pdf").write_bytes(pdf)  # the whole document too, to look at its other pages
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", "1", f.name, str(target)], check=True)
    png = target.with_suffix(".png")
    assert png.stat().st_size > 1000
    return png
