"""Which files may be attached: a plain name whose extension the settings allow, first bytes that agree
with that extension, and never anything that runs (a program or a script), whatever it is called."""

from __future__ import annotations

import unicodedata

from duban.errors import InvalidInput

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with entries; an empty zip
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # the compound file of old Word/Excel/WPS documents

# What a file of each type starts with. A type without an entry (plain text) is checked only for the
# signatures of programs below.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "ofd": _ZIP, "docx": _ZIP, "xlsx": _ZIP, "pptx": _ZIP, "zip": _ZIP,
    "doc": _OLE, "xls": _OLE, "ppt": _OLE, "wps": _OLE + _ZIP, "et": _OLE + _ZIP,
    "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
    "tif": (b"II*\x00", b"MM\x00*"), "tiff": (b"II*\x00", b"MM\x00*"),
}
CONTENT_TYPES = {
    "pdf": "application/pdf", "ofd": "application/ofd", "zip": "application/zip",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "wps": "application/vnd.ms-works", "et": "application/vnd.ms-excel",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "tif": "image/tiff", "tiff": "image/tiff", "txt": "text/plain; charset=utf-8",
}
# Programs and scripts: refused by name even if a setting lists them, and by content under any name.
EXECUTABLE_TYPES = frozenset({
    "exe", "dll", "com", "scr", "msi", "bat", "cmd", "ps1", "vbs", "vbe", "js", "jse", "wsf", "hta", "jar",
    "sh", "bash", "py", "pl", "elf", "so", "bin", "app", "apk", "lnk", "reg", "cpl",
})
EXECUTABLE_MAGIC = (
    b"MZ",  # Windows programs and libraries
    b"\x7fELF",  # Linux programs
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java classes
    b"#!",  # scripts
)
HEAD = 16  # bytes needed to decide
_MAX_NAME_BYTES = 200


def check_name(raw: str, allowed: tuple[str, ...]) -> tuple[str, str]:
    """The file's plain name (any folder a browser sends is dropped) and its extension, or InvalidInput."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name or name in (".", ".."):
        raise InvalidInput("附件须有文件名 (the file needs a name)")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise InvalidInput("附件文件名含有不可见的控制字符 (the file name holds control characters)")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise InvalidInput(f"附件文件名过长（最多 {_MAX_NAME_BYTES} 字节）(the file name is too long)")
    allowed = tuple(t.strip().lower().lstrip(".") for t in allowed)
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    if not dot or not stem or not ext:
        raise InvalidInput("附件文件名须带扩展名，如 .pdf (the file name needs an extension such as .pdf)")
    if ext in EXECUTABLE_TYPES:
        raise InvalidInput(f"不接受可执行文件或脚本（.{ext}）(executables and scripts are refused)")
    if ext not in allowed:
        raise InvalidInput(f"不支持的附件类型 .{ext}，允许的类型：{'、'.join(allowed)} "
                           f"(file type .{ext} is not allowed)")
    return name, ext


def check_head(ext: str, head: bytes) -> None:
    """The first bytes of the file agree with its extension, and are not those of a program."""
    if not head:
        raise InvalidInput("附件是空文件 (the file is empty)")
    if head.startswith(EXECUTABLE_MAGIC):
        raise InvalidInput("不接受可执行文件或脚本，无论扩展名为何 (executables and scripts are refused)")
    expected = MAGIC.get(ext)
    if expected and not head.startswith(expected):
        raise InvalidInput(f"文件内容与扩展名 .{ext} 不符，请确认文件未损坏、未被改名 "
                           f"(the content is not that of a .{ext} file)")


def content_type(ext: str) -> str:
    """What the file is served as: from its checked extension, never from what the browser claimed."""
    return CONTENT_TYPES.get(ext, "application/octet-stream")
