"""Building a dossier: 档号, deterministic files and a manifest whose digests match them."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid

import pytest

from duban.archive import build_dossier
from duban.archive.dossier import HAS_SM3, MANIFEST
from helpers import dossier_meta as meta

ITEM_ID = uuid.UUID("6f1c2a4e-0000-4000-8000-000000000007")


def documents() -> dict[str, object]:
    return {
        "item.json": {"id": ITEM_ID, "title": "老旧小区改造", "deadline": datetime.date(2026, 6, 30)},
        "history.json": [
            {"at": datetime.datetime(2026, 3, 14, 9, 30, tzinfo=datetime.UTC), "event": "registered"},
            {"at": datetime.datetime(2026, 3, 15, 10, 0, tzinfo=datetime.UTC), "event": "assigned"},
        ],
        "assignments.json": [{"unit": "住建局", "role": "lead"}],
        "附件1-现场照片.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
    }


@pytest.mark.parametrize(
    ("retention", "code"),
    [("permanent", "Y"), ("30y", "D30"), ("10y", "D10")],
)
def test_archival_code(retention: str, code: str) -> None:
    dossier = build_dossier(meta(retention=retention), documents())
    assert dossier.archival_code == f"J001-WS·2026-{code}-city-0007"


def test_manifest_lists_every_file_with_matching_digests() -> None:
    dossier = build_dossier(meta(), documents())
    assert set(dossier.files) == set(documents()) | {MANIFEST}
    manifest_bytes = dossier.files[MANIFEST]
    assert hashlib.sha256(manifest_bytes).hexdigest() == dossier.manifest_sha256

    manifest = json.loads(manifest_bytes)
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == set(documents())
    for name, entry in listed.items():
        data = dossier.files[name]
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        if HAS_SM3:
            assert entry["sm3"] == hashlib.new("sm3", data).hexdigest()
        else:
            assert "sm3" not in entry


def test_manifest_carries_the_description_fields() -> None:
    manifest = json.loads(build_dossier(meta(), documents()).files[MANIFEST])
    description = manifest["description"]
    assert description["archival_code"] == {"label": "档号", "value": "J001-WS·2026-Y-city-0007"}
    assert description["title"]["value"] == "关于加快推进老旧小区改造的督查事项"
    assert description["doc_number"] == {"label": "文号", "value": "督〔2026〕7号"}
    assert description["date"]["value"] == "2026-03-14"
    assert description["retention"]["label"] == "保管期限"
    assert {"fonds", "year", "org", "piece", "responsible", "confidentiality"} <= set(description)
    datetime.datetime.fromisoformat(manifest["created_at"])
    # Readable as text: Chinese is kept as is, not \u-escaped.
    assert "老旧小区" in build_dossier(meta(), documents()).files[MANIFEST].decode("utf-8")


def test_json_documents_are_deterministic_and_bytes_kept_as_is() -> None:
    dossier = build_dossier(meta(), documents())
    item = dossier.files["item.json"]
    assert item.decode("utf-8") == (
        "{\n"
        '  "deadline": "2026-06-30",\n'
        f'  "id": "{ITEM_ID}",\n'
        '  "title": "老旧小区改造"\n'
        "}\n"
    )
    assert json.loads(dossier.files["history.json"])[0]["at"] == "2026-03-14T09:30:00+00:00"
    assert dossier.files["附件1-现场照片.jpg"] == b"\xff\xd8\xff\xe0 not really a jpeg"


def test_building_twice_gives_the_same_files() -> None:
    first = build_dossier(meta(), documents())
    second = build_dossier(meta(), dict(reversed(list(documents().items()))))
    for name in documents():
        assert first.files[name] == second.files[name]
    assert json.loads(first.files[MANIFEST])["files"] == json.loads(second.files[MANIFEST])["files"]
    # Only the creation time varies; fixing it makes the whole dossier identical.
    at = datetime.datetime(2026, 7, 1, 8, 0, tzinfo=datetime.UTC)
    assert build_dossier(meta(), documents(), created_at=at) == build_dossier(
        meta(), documents(), created_at=at
    )


@pytest.mark.parametrize(
    "name",
    ["manifest.json", "MANIFEST.json", "../item.json", "..", ".", "a/b.json", "a\\b.json", "", " x.pdf",
     "x\n.pdf"],
)
def test_bad_file_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError):
        build_dossier(meta(), {**documents(), name: b"x"})


@pytest.mark.parametrize(
    "changes",
    [{"retention": "forever"}, {"piece": 0}, {"org": "city-a"}, {"fonds": ""}, {"year": 26}],
)
def test_bad_meta_is_rejected(changes: dict) -> None:
    with pytest.raises(ValueError):
        build_dossier(meta(**changes), documents())


def test_values_json_cannot_store_are_rejected() -> None:
    with pytest.raises(ValueError, match="JSON"):
        build_dossier(meta(), {"item.json": {"blob": object()}})
