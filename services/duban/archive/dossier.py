"""Build a dossier (案卷): the files of a finished item plus a DA/T 22 manifest with their digests."""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "duban-dossier/1"
CATEGORY = "WS"  # 门类: 文书 — every supervision record is a 文书 archive

# 保管期限 -> the code used inside the 档号
RETENTION_CODES = {"permanent": "Y", "30y": "D30", "10y": "D10"}

# sm3 comes from OpenSSL; a build without it still gets SHA-256, and the manifest says which it has.
HAS_SM3 = "sm3" in hashlib.algorithms_available

# The name is also part of an S3 key and of a transfer zip later, so keep it one plain path segment.
_MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class DossierMeta:
    fonds: str  # 全宗号, e.g. "J001"
    year: int  # 年度
    retention: str  # "permanent" | "30y" | "10y"  (保管期限 永久/定期30年/定期10年)
    org: str  # 机构 code, e.g. the tenant code "city"
    piece: int  # 件号 (1..)
    title: str  # 题名
    responsible: str  # 责任者
    date: datetime.date  # 日期
    doc_number: str | None  # 文号 (the item's serial)
    confidentiality: str  # 密级, e.g. "internal"


@dataclass(frozen=True)
class StoredFile:
    """A file of the dossier that already lies in S3 (an attachment): listed in the manifest with the
    digests it was checked against, and copied into the archive as a stream, never held here whole."""

    bucket: str
    key: str
    size: int
    sha256: str
    sm3: str | None = None
    content_type: str = "application/octet-stream"

    def entry(self) -> dict[str, object]:
        """Its size and digests as they appear in the manifest."""
        digests: dict[str, object] = {"size": self.size, "sha256": self.sha256}
        if HAS_SM3 and self.sm3:
            digests["sm3"] = self.sm3
        return digests


@dataclass(frozen=True)
class Dossier:
    archival_code: str  # 档号, e.g. "J001-WS·2026-Y-city-0007"
    files: dict[str, bytes]  # every file of the dossier INCLUDING "manifest.json"
    manifest_sha256: str  # SHA-256 hex of manifest.json's bytes
    stored: dict[str, StoredFile] = field(default_factory=dict)  # files copied in from S3 (attachments)


class Digests:
    """SHA-256 (and SM3 where available) and size of bytes seen piece by piece."""

    def __init__(self) -> None:
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._sm3 = hashlib.new("sm3") if HAS_SM3 else None

    def update(self, data: bytes) -> None:
        self.size += len(data)
        self._sha256.update(data)
        if self._sm3 is not None:
            self._sm3.update(data)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def sm3(self) -> str | None:
        return self._sm3.hexdigest() if self._sm3 is not None else None


def archival_code(meta: DossierMeta) -> str:
    """The 档号 全宗号-门类·年度-保管期限-机构-件号 of a dossier."""
    _check_meta(meta)
    period = RETENTION_CODES[meta.retention]
    return f"{meta.fonds}-{CATEGORY}·{meta.year}-{period}-{meta.org}-{meta.piece:04d}"


def check_file_name(name: str) -> None:
    """Raise ValueError unless ``name`` can be a file of a dossier."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a dossier file needs a name")
    if name in (".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"dossier file name {name!r} must be a plain name, without path separators or '..'")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValueError(f"dossier file name {name!r} contains control characters")
    if name.strip() != name:
        raise ValueError(f"dossier file name {name!r} starts or ends with spaces")
    # Case-insensitive: an exported zip unpacked on Windows would otherwise clash with the manifest.
    if name.lower() == MANIFEST:
        raise ValueError(f"{MANIFEST!r} is written by the archive itself and cannot be supplied")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise ValueError(f"dossier file name {name[:40]!r}… is longer than {_MAX_NAME_BYTES} bytes")


def to_json_bytes(value: object) -> bytes:
    """Serialise deterministically: UTF-8, sorted keys, indent 2, ISO dates, UUIDs as strings."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot store as JSON: {exc}") from exc
    return (text + "\n").encode("utf-8")


def file_digests(data: bytes) -> dict[str, object]:
    """Size and digests of one file as they appear in the manifest."""
    entry: dict[str, object] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if HAS_SM3:
        entry["sm3"] = hashlib.new("sm3", data).hexdigest()
    return entry


def build_dossier(
    meta: DossierMeta,
    documents: Mapping[str, object],
    *,
    created_at: datetime.datetime | None = None,
    stored: Mapping[str, StoredFile] | None = None,
) -> Dossier:
    """Turn an item's documents (and ``stored`` files already in S3, e.g. attachments) into a dossier
    with its manifest; only the creation time varies."""
    code = archival_code(meta)
    files: dict[str, bytes] = {}
    for name in sorted(documents):
        check_file_name(name)
        value = documents[name]
        raw = isinstance(value, bytes | bytearray | memoryview)
        files[name] = bytes(value) if raw else to_json_bytes(value)
    if not files:
        raise ValueError("a dossier needs at least one document")
    stored = dict(stored or {})
    for name in stored:
        check_file_name(name)
        if name in files:
            raise ValueError(f"dossier file name {name!r} is given twice")
    entries = {name: file_digests(data) for name, data in files.items()}
    entries.update({name: f.entry() for name, f in stored.items()})

    created = created_at or datetime.datetime.now(datetime.UTC)
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": created.isoformat(timespec="seconds"),
        "description": _description(meta, code),
        "files": [{"name": name, **entries[name]} for name in sorted(entries)],
    }
    manifest_bytes = to_json_bytes(manifest)
    files[MANIFEST] = manifest_bytes
    return Dossier(
        archival_code=code, files=files, manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        stored=stored,
    )


def _description(meta: DossierMeta, code: str) -> dict[str, dict[str, object]]:
    # DA/T 22 著录项: English key for code, Chinese label for the person reading the file.
    fields: list[tuple[str, str, object]] = [
        ("archival_code", "档号", code),
        ("fonds", "全宗号", meta.fonds),
        ("category", "门类", CATEGORY),
        ("year", "年度", meta.year),
        ("retention", "保管期限", meta.retention),
        ("org", "机构", meta.org),
        ("piece", "件号", meta.piece),
        ("title", "题名", meta.title),
        ("responsible", "责任者", meta.responsible),
        ("date", "日期", meta.date.isoformat()),
        ("doc_number", "文号", meta.doc_number),
        ("confidentiality", "密级", meta.confidentiality),
    ]
    return {key: {"label": label, "value": value} for key, label, value in fields}


def _check_meta(meta: DossierMeta) -> None:
    if meta.retention not in RETENTION_CODES:
        raise ValueError(f"保管期限 must be one of {', '.join(RETENTION_CODES)}, not {meta.retention!r}")
    if isinstance(meta.piece, bool) or not isinstance(meta.piece, int) or meta.piece < 1:
        raise ValueError(f"件号 must be a whole number from 1, not {meta.piece!r}")
    if isinstance(meta.year, bool) or not isinstance(meta.year, int) or not 1000 <= meta.year <= 9999:
        raise ValueError(f"年度 must be a four-digit year, not {meta.year!r}")
    # '-' separates the parts of the 档号, so a part containing it would make the code ambiguous.
    for label, part in (("全宗号", meta.fonds), ("机构", meta.org)):
        if not part or "-" in part or "/" in part or part.strip() != part:
            raise ValueError(f"{label} {part!r} must be non-empty, without '-', '/' or spaces around it")


def _json_default(value: object) -> object:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
