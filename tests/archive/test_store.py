"""Dossiers in a real S3 server (SeaweedFS): stored under object lock, verified, tampering found."""

from __future__ import annotations

import datetime
import io
import json
import uuid
from dataclasses import replace

import pytest
from minio import Minio
from minio.error import S3Error

from duban.archive import ArchiveError, ArchiveStore, build_dossier
from duban.archive.dossier import MANIFEST
from duban.runtime import free_port
from helpers import dossier_meta as meta

TENANT = "city"


def documents(**extra: object) -> dict[str, object]:
    return {
        "item.json": {"id": uuid.UUID(int=7), "title": "老旧小区改造"},
        "history.json": [{"at": datetime.datetime(2026, 3, 14, 9, 30), "event": "registered"}],
        "feedback.json": [{"unit": "住建局", "text": "已完成改造 12 个小区"}],
        "附件1 现场照片.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40,
        **extra,
    }


@pytest.fixture
def store(s3_server) -> ArchiveStore:
    # A bucket prefix of its own per test, so tests never see each other's dossiers.
    return ArchiveStore(
        s3_server.endpoint,
        s3_server.access_key,
        s3_server.secret_key,
        bucket_prefix=f"t{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture
def s3(s3_server) -> Minio:
    """A plain client, to act behind the archive's back."""
    return Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)


async def archive(store: ArchiveStore, retention: str = "permanent", **extra: object):
    dossier = build_dossier(meta(retention=retention), documents(**extra))
    location = await store.put_dossier(TENANT, dossier, year=2026, retention=retention)
    return dossier, location


async def test_put_then_verify_ok(store: ArchiveStore) -> None:
    dossier, location = await archive(store)
    assert location.bucket == store.bucket_for(TENANT)
    assert location.prefix == "2026/J001-WS.2026-Y-city-0007/"
    assert location.archival_code == "J001-WS·2026-Y-city-0007"
    assert location.manifest_sha256 == dossier.manifest_sha256

    report = await store.verify(location)
    assert report.problems == []
    assert report.ok is True
    assert report.files_checked == len(documents())
    assert await store.list_dossiers(TENANT) == [location.prefix]
    assert await store.read_file(location, "附件1 现场照片.jpg") == dossier.files["附件1 现场照片.jpg"]


async def test_stored_files_match_the_manifest_hashes(store: ArchiveStore) -> None:
    dossier, location = await archive(store)
    manifest = json.loads(await store.read_file(location, MANIFEST))
    assert await store.read_file(location, MANIFEST) == dossier.files[MANIFEST]
    for entry in manifest["files"]:
        assert await store.read_file(location, entry["name"]) == dossier.files[entry["name"]]


async def test_permanent_is_compliance_locked_with_a_legal_hold(store: ArchiveStore, s3: Minio) -> None:
    _, location = await archive(store, "permanent")
    for name in [*documents(), MANIFEST]:
        key = location.prefix + name
        retention = s3.get_object_retention(location.bucket, key)
        assert retention.mode == "COMPLIANCE"
        assert retention.retain_until_date.year >= datetime.date.today().year + 99
        assert s3.is_object_legal_hold_enabled(location.bucket, key)


async def test_ten_years_is_compliance_locked_for_ten_years(store: ArchiveStore, s3: Minio) -> None:
    _, location = await archive(store, "10y")
    key = location.prefix + "item.json"
    retention = s3.get_object_retention(location.bucket, key)
    assert retention.mode == "COMPLIANCE"
    assert retention.retain_until_date.year - datetime.date.today().year == 10
    # SeaweedFS answers NoSuchObjectLegalHold (not "OFF") for an object that never had one.
    assert s3.stat_object(location.bucket, key).metadata.get("x-amz-object-lock-legal-hold") in (None, "OFF")


async def test_tampering_is_reported(store: ArchiveStore, s3: Minio) -> None:
    _, location = await archive(store)
    key = location.prefix + "history.json"
    original = s3.stat_object(location.bucket, key).version_id
    forged = b'[{"event": "registered", "at": "2020-01-01"}]\n'
    s3.put_object(location.bucket, key, io.BytesIO(forged), len(forged))

    report = await store.verify(location)
    assert report.ok is False
    assert "history.json: SHA-256 does not match the manifest" in report.problems
    assert any(p.startswith("history.json: size is") for p in report.problems)
    # Object lock kept the genuine version underneath the forged one.
    kept = s3.get_object(location.bucket, key, version_id=original)
    try:
        assert json.loads(kept.read())[0]["at"] == "2026-03-14T09:30:00"
    finally:
        kept.close()
        kept.release_conn()


async def test_missing_file_is_reported(store: ArchiveStore, s3: Minio) -> None:
    _, location = await archive(store)
    # Without a version id this only adds a delete marker: allowed, and the file looks gone.
    s3.remove_object(location.bucket, location.prefix + "feedback.json")

    report = await store.verify(location)
    assert report.ok is False
    assert report.problems == ["feedback.json: missing"]
    assert report.files_checked == len(documents()) - 1


async def test_extra_file_is_reported(store: ArchiveStore, s3: Minio) -> None:
    _, location = await archive(store)
    s3.put_object(location.bucket, location.prefix + "note.txt", io.BytesIO(b"added later"), 11)

    report = await store.verify(location)
    assert report.ok is False
    assert report.problems == ["note.txt: not listed in the manifest"]


async def test_wrong_manifest_digest_is_reported(store: ArchiveStore) -> None:
    _, location = await archive(store)
    report = await store.verify(replace(location, manifest_sha256="0" * 64))
    assert report.ok is False
    assert report.problems == ["manifest.json: SHA-256 does not match the digest recorded at archiving"]


async def test_missing_manifest_is_reported(store: ArchiveStore) -> None:
    _, location = await archive(store)
    report = await store.verify(replace(location, prefix="2026/J001-WS.2026-Y-city-9999/"))
    assert report.ok is False
    assert report.files_checked == 0
    assert report.problems[0].startswith("manifest.json is missing")


@pytest.mark.parametrize("retention", ["permanent", "10y"])
async def test_deleting_a_locked_version_is_refused(store: ArchiveStore, s3: Minio, retention: str) -> None:
    _, location = await archive(store, retention)
    for name in ("item.json", MANIFEST):
        key = location.prefix + name
        version = s3.stat_object(location.bucket, key).version_id
        with pytest.raises(S3Error) as refused:
            s3.remove_object(location.bucket, key, version_id=version)
        assert refused.value.code == "AccessDenied"
        assert s3.stat_object(location.bucket, key, version_id=version).size > 0
    assert (await store.verify(location)).ok


async def test_put_again_is_safe(store: ArchiveStore) -> None:
    dossier, first = await archive(store)
    again = await store.put_dossier(TENANT, dossier, year=2026, retention="permanent")
    assert again == first
    # A retry after a crash rebuilds the dossier: same files, only the creation time differs.
    later = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    rebuilt = build_dossier(meta(), documents(), created_at=later)
    location = await store.put_dossier(TENANT, rebuilt, year=2026, retention="permanent")
    assert location.manifest_sha256 == rebuilt.manifest_sha256
    assert (await store.verify(location)).ok
    assert await store.list_dossiers(TENANT) == [location.prefix]


async def test_retry_after_a_crash_hides_leftovers(store: ArchiveStore, s3: Minio) -> None:
    dossier = build_dossier(meta(), documents())
    prefix = "2026/J001-WS.2026-Y-city-0007/"
    bucket = await store.ensure_bucket(TENANT)
    # An earlier attempt got this far, with an attachment the rebuilt dossier no longer has.
    s3.put_object(bucket, prefix + "item.json", io.BytesIO(b"{}"), 2)
    s3.put_object(bucket, prefix + "draft.docx", io.BytesIO(b"old"), 3)
    assert await store.list_dossiers(TENANT) == []  # no manifest yet: not complete

    location = await store.put_dossier(TENANT, dossier, year=2026, retention="permanent")
    report = await store.verify(location)
    assert report.problems == []


async def test_archived_dossier_cannot_be_replaced_by_other_contents(store: ArchiveStore) -> None:
    _, location = await archive(store)
    other = build_dossier(meta(), documents(**{"extra.pdf": b"%PDF-1.7"}))
    with pytest.raises(ArchiveError, match="already archived"):
        await store.put_dossier(TENANT, other, year=2026, retention="permanent")
    assert (await store.verify(location)).ok


async def test_read_file_errors_are_plain(store: ArchiveStore) -> None:
    _, location = await archive(store)
    with pytest.raises(ArchiveError, match="nope.pdf is not in dossier J001-WS·2026-Y-city-0007"):
        await store.read_file(location, "nope.pdf")
    with pytest.raises(ArchiveError):
        await store.read_file(location, "../item.json")


async def test_list_dossiers_of_an_unknown_tenant_is_empty(store: ArchiveStore) -> None:
    assert await store.list_dossiers("nobody") == []


async def test_wrong_secret_becomes_archive_error(s3_server) -> None:
    store = ArchiveStore(s3_server.endpoint, s3_server.access_key, "wrong-secret", bucket_prefix="t-wrong")
    with pytest.raises(ArchiveError, match="could not look up bucket t-wrong-city") as error:
        await store.ensure_bucket(TENANT)
    assert "SignatureDoesNotMatch" in str(error.value)


async def test_unreachable_server_becomes_archive_error() -> None:
    store = ArchiveStore(f"127.0.0.1:{free_port()}", "key", "secret")
    with pytest.raises(ArchiveError, match="could not look up bucket duban-archive-city"):
        await store.ensure_bucket(TENANT)


def test_bucket_names() -> None:
    store = ArchiveStore("127.0.0.1:9", "key", "secret")
    assert store.bucket_for("city") == "duban-archive-city"
    assert store.bucket_for("Qing_He") == "duban-archive-qing-he"
    with pytest.raises(ArchiveError, match="not a valid S3 bucket name"):
        store.bucket_for("县/区")


async def test_bucket_without_object_lock_is_refused(store: ArchiveStore, s3: Minio) -> None:
    s3.make_bucket(store.bucket_for(TENANT))
    with pytest.raises(ArchiveError, match="without object lock"):
        await store.ensure_bucket(TENANT)
