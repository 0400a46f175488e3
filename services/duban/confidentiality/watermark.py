"""Watermarks on downloads of protected files (第八条: a copy carries who took it, from where, and when).

- **PDF**: every page gets an overlay drawn by reportlab and merged by pypdf: the reader's name, unit and
  time, in a band along the foot of the page and diagonally across it in light grey. The text uses
  reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1), which needs no font file: the PDF names the
  font and the reader's viewer supplies it, so Chinese shows and is searchable/extractable.
- **Images** (PNG, JPEG, GIF, TIFF): Pillow draws a band along the foot (a solid dark strip with the text
  in white) and repeats the text faintly across the picture. It needs a TrueType font for Chinese: the
  first CJK font fontconfig knows (``fc-list :lang=zh``) or ``DUBAN_WATERMARK_FONT``. Without one it
  writes the text in ASCII — the reader's user name, the tenant code and the time — and says so
  (``Mark.ascii_only``), since Pillow's built-in font has no Chinese glyphs.
- **Anything else** (Word, Excel, OFD, zip, text …) cannot be marked here: the download is refused with a
  message (service.py), never served unmarked.

Files are marked in memory (a protected document is a report, not a data dump); the work runs in a
thread so the node keeps answering meanwhile.
"""

from __future__ import annotations

import functools
import io
import math
import os
import shutil
import subprocess
from dataclasses import dataclass

PDF_TYPES = frozenset({"application/pdf"})
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/tiff": "TIFF"}
CID_FONT = "STSong-Light"
BAND = 0.06  # the foot band's height, as a share of the image's height (at least 24 px)


class CannotMark(Exception):
    """The file is not one this module can mark (unreadable, encrypted, or of another type)."""


@dataclass(frozen=True)
class Mark:
    """What goes on the copy."""

    reader: str  # the reader's name (display name, else user name)
    username: str
    unit: str  # the reader's tenant's name
    unit_code: str
    at: str  # platform time, China, "YYYY-MM-DD HH:MM"

    @property
    def text(self) -> str:
        return f"{self.reader}（{self.username}） {self.unit} {self.at} 下载 仅供本人阅办 不得复制外传"

    @property
    def ascii_text(self) -> str:
        return f"{self.username}@{self.unit_code} {self.at} DO NOT COPY"


def can_mark(content_type: str) -> bool:
    return content_type in PDF_TYPES or content_type in IMAGE_TYPES


def apply(data: bytes, content_type: str, mark: Mark) -> tuple[bytes, bool]:
    """The marked copy, and whether its text had to fall back to ASCII (images without a CJK font)."""
    if content_type in PDF_TYPES:
        return mark_pdf(data, mark), False
    if content_type in IMAGE_TYPES:
        return mark_image(data, IMAGE_TYPES[content_type], mark)
    raise CannotMark(content_type)


# -- PDF -----------------------------------------------------------------------------------------------------
@functools.cache
def _cid_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def _overlay(width: float, height: float, mark: Mark) -> object:
    """One page the size of the original's, carrying the mark."""
    from pypdf import PdfReader
    from reportlab.pdfgen import canvas

    font = _cid_font()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(width, height))
    size = max(7.0, min(10.0, width / 60))
    c.setFillColorRGB(0.35, 0.35, 0.35)
    c.setFont(font, size)
    c.drawString(18, 12, mark.text)  # the foot band: always whole and legible
    c.saveState()
    c.setFillColorRGB(0.6, 0.6, 0.6, alpha=0.25)
    c.setFont(font, max(12.0, min(22.0, width / 28)))
    c.translate(width / 2, height / 2)
    c.rotate(math.degrees(math.atan2(height, width)))
    line = f"{mark.reader} {mark.unit} {mark.at}"
    for dy in (-height / 3, 0, height / 3):
        c.drawCentredString(0, dy, line)
    c.restoreState()
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(out.getvalue())).pages[0]


def mark_pdf(data: bytes, mark: Mark) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise CannotMark("encrypted PDF")
        writer = PdfWriter(clone_from=reader)
        overlays: dict[tuple[float, float], object] = {}
        for page in writer.pages:
            box = page.mediabox
            size = (float(box.width), float(box.height))
            if size not in overlays:
                overlays[size] = _overlay(*size, mark)
            page.merge_page(overlays[size])  # type: ignore[arg-type]
        writer.add_metadata({"/DubanWatermark": mark.text})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except CannotMark:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise CannotMark(f"unreadable PDF: {exc}") from exc


# -- images ------------------------------------------------------------------------------------------------------
@functools.cache
def cjk_font_path() -> str | None:
    """A TrueType/OpenType font with Chinese glyphs: DUBAN_WATERMARK_FONT, else fontconfig's first."""
    given = os.environ.get("DUBAN_WATERMARK_FONT")
    if given and os.path.isfile(given):
        return given
    if shutil.which("fc-list"):
        try:
            listing = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10,
                                     check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for line in sorted(listing.splitlines()):
            path = line.split(":", 1)[0].strip()
            if path and os.path.isfile(path):
                return path
    return None


def mark_image(data: bytes, kind: str, mark: Mark) -> tuple[bytes, bool]:
    from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

    try:
        original = Image.open(io.BytesIO(data))
        original.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CannotMark(f"unreadable image: {exc}") from exc
    image = original.convert("RGBA")
    width, height = image.size
    band = max(24, int(height * BAND))
    font_path = cjk_font_path()
    size = max(10, int(band * 0.55))
    if font_path:
        font = ImageFont.truetype(font_path, size)
        text, ascii_only = mark.text, False
    else:
        font = ImageFont.load_default(size=size)
        text, ascii_only = mark.ascii_text, True
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    step = max(band * 3, 60)  # the faint repeated text across the picture
    for y in range(0, max(height - band, 1), step):
        draw.text((((y // step) % 2) * step // 2, y), text, font=font, fill=(128, 128, 128, 70))
    draw.rectangle((0, height - band, width, height), fill=(40, 40, 40, 255))  # the foot band
    # Centred on the band's middle line (anchor "lm"), so a font with deep descenders (Noto CJK) stays inside it.
    draw.text((6, height - band / 2), text, font=font, fill=(255, 255, 255, 255), anchor="lm")
    marked = Image.alpha_composite(image, layer)
    out = io.BytesIO()
    if kind == "JPEG":
        marked.convert("RGB").save(out, "JPEG", quality=90)
    elif kind == "GIF":
        marked.convert("P", palette=Image.Palette.ADAPTIVE).save(out, "GIF")
    elif kind == "PNG":
        (marked if original.mode in ("RGBA", "LA", "P") else marked.convert("RGB")).save(out, "PNG")
    else:
        marked.convert("RGB").save(out, kind)
    return out.getvalue(), ascii_only
