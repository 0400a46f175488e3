"""Keep dossiers in S3 under object lock (WORM) and check them again later."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import io
import json
import mimetypes
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import MinioException, S3Error
from minio.retention import Retention

from duban.errors import ServiceUnavailable

from .dossier import MANIFEST, RETENTION_CODES, Digests, Dossier, StoredFile, check_file_name

T = TypeVar("T")

RETENTION_YEARS = {"10y": 10, "30y": 30}
# 永久 has no end date in S3 terms. The legal hold (which has no expiry) is what keeps a permanent
# dossier; the COMPLIANCE retention underneath stops anyone from simply lifting the hold and deleting.
# SeaweedFS 4.48 accepted per-object retain-until dates thousands of years ahead (tried +7000 years),
# but 100 years is the S3 ceiling for default retention (36500 days, also SeaweedFS's own constant),
# so we stay there to remain plain S3 that MinIO and others accept too.
PERMANENT_RETENTION_YEARS = 100

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Large files (attachments) go through in parts of this size, one part in memory at a time.
PART_SIZE = 5 * 1024 * 1024  # the smallest part S3 takes
CHUNK = 256 * 1024


@dataclass(frozen=True)
class DossierLocation:
    bucket: str
    prefix: str  # e.g. "2026/J001-WS.2026-Y-city-0007/"
    archival_code: str
    manifest_sha256: str


@dataclass
class VerifyReport:
    location: DossierLocation
    ok: bool
    files_checked: int
    problems: list[str] = field(default_factory=list)


class ArchiveError(ServiceUnavailable):
    """The archive store could not do what was asked; the message says why in plain words."""


def dossier_prefix(year: int, archival_code: str) -> str:
    """The key prefix of a dossier: ``<year>/<档号 made ASCII-safe>/``."""
    # '·' is the only non-ASCII character a 档号 normally has; anything else is %-escaped so
    # the key stays ASCII and two different codes never share a prefix.
    safe = urllib.parse.quote(archival_code.replace("·", "."), safe="-._")
    return f"{year}/{safe}/"


class ArchiveStore:
    """Dossiers in one object-locked bucket per tenant."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        secure: bool = False,
        bucket_prefix: str = "duban-archive",
    ) -> None:
        self.endpoint = endpoint
        self.bucket_prefix = bucket_prefix
        # The SDK's default retries a dead server for ~6 s per call; fail sooner and say so.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
            maxsize=10,
        )
        self._client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http
        )

    def bucket_for(self, tenant: str) -> str:
        """The archive bucket of a tenant."""
        name = f"{self.bucket_prefix}-{tenant}".lower().replace("_", "-")
        if not _BUCKET_NAME.match(name) or ".." in name or ".-" in name or "-." in name:
            raise ArchiveError(f"tenant {tenant!r} gives {name!r}, which is not a valid S3 bucket name")
        return name

    async def ensure_bucket(self, tenant: str) -> str:
        """Create the tenant's bucket with object lock (and so versioning) unless it exists."""
        bucket = self.bucket_for(tenant)
        if not await self._call(f"look up bucket {bucket}", self._client.bucket_exists, bucket):
            try:
                await self._call(
                    f"create bucket {bucket}", self._client.make_bucket, bucket, object_lock=True
                )
            except ArchiveError as exc:
                # Another node may have created it between the check and here.
                if not isinstance(exc.__cause__, S3Error) or exc.__cause__.code not in (
                    "BucketAlreadyOwnedByYou",
                    "BucketAlreadyExists",
                ):
                    raise
        # Retention can only be set in a bucket made with object lock; refuse to archive without WORM.
        try:
            await self._call(
                f"read the object-lock setting of {bucket}", self._client.get_object_lock_config, bucket
            )
        except ArchiveError as exc:
            if isinstance(exc.__cause__, S3Error) and "ObjectLock" in exc.__cause__.code:
                raise ArchiveError(
                    f"bucket {bucket} exists without object lock; dossiers cannot be kept there"
                ) from None
            raise
        return bucket

    async def put_dossier(
        self, tenant: str, dossier: Dossier, *, year: int, retention: str
    ) -> DossierLocation:
        """Upload every file, then manifest.json last, all under COMPLIANCE retention."""
        if retention not in RETENTION_CODES:
            choices = ", ".join(RETENTION_CODES)
            raise ArchiveError(f"unknown 保管期限 {retention!r}; expected one of {choices}")
        if MANIFEST not in dossier.files:
            raise ArchiveError(f"dossier {dossier.archival_code} has no {MANIFEST}")
        bucket = await self.ensure_bucket(tenant)
        location = DossierLocation(
            bucket=bucket,
            prefix=dossier_prefix(year, dossier.archival_code),
            archival_code=dossier.archival_code,
            manifest_sha256=dossier.manifest_sha256,
        )
        await self._refuse_different_dossier(location, dossier)

        lock = _lock_for(retention)
        for name, data in dossier.files.items():
            if name != MANIFEST:
                await self._put(location, name, data, lock)
        for name, stored in dossier.stored.items():
            await self._copy_in(location, name, stored, lock)
        # Leftovers of an earlier attempt that crashed with other documents would otherwise show up
        # as extra files. A delete marker hides them; their locked versions stay in the history.
        for name in await self._names_under(location):
            if name not in dossier.files and name not in dossier.stored:
                key = location.prefix + name
                await self._call(f"hide stale {key}", self._client.remove_object, bucket, key)
        # The manifest goes last: its presence is what marks the dossier complete.
        await self._put(location, MANIFEST, dossier.files[MANIFEST], lock)
        return location

    async def verify(self, location: DossierLocation) -> VerifyReport:
        """Re-read and re-hash a dossier and report every difference from its manifest."""
        problems: list[str] = []
        report = VerifyReport(location=location, ok=False, files_checked=0, problems=problems)
        raw = await self._get_or_none(location, MANIFEST)
        if raw is None:
            problems.append(f"{MANIFEST} is missing, so the dossier is incomplete or was removed")
            return report
        if hashlib.sha256(raw).hexdigest() != location.manifest_sha256:
            problems.append(f"{MANIFEST}: SHA-256 does not match the digest recorded at archiving")
        try:
            manifest = json.loads(raw)
            listed = {entry["name"]: entry for entry in manifest["files"]}
            code = manifest["description"]["archival_code"]["value"]
        except (ValueError, KeyError, TypeError):
            problems.append(f"{MANIFEST} cannot be read as a dossier manifest")
            return report
        if code != location.archival_code:
            problems.append(f"{MANIFEST} is for 档号 {code}, not {location.archival_code}")

        for name, entry in listed.items():
            digests = await self._digest_or_none(location.bucket, location.prefix + name)
            if digests is None:
                problems.append(f"{name}: missing")
                continue
            report.files_checked += 1
            problems.extend(_compare(name, digests, entry))
        for name in sorted(set(await self._names_under(location)) - set(listed) - {MANIFEST}):
            problems.append(f"{name}: not listed in the manifest")
        report.ok = not problems
        return report

    async def read_file(self, location: DossierLocation, name: str) -> bytes:
        """The current content of one file of a dossier."""
        if name != MANIFEST:
            try:
                check_file_name(name)
            except ValueError as exc:
                raise ArchiveError(str(exc)) from None
        data = await self._get_or_none(location, name)
        if data is None:
            raise ArchiveError(f"{name} is not in dossier {location.archival_code}")
        return data

    async def list_dossiers(self, tenant: str) -> list[str]:
        """Prefixes of the tenant's complete dossiers (those with a manifest)."""
        bucket = self.bucket_for(tenant)
        if not await self._call(f"look up bucket {bucket}", self._client.bucket_exists, bucket):
            return []
        keys = await self._call(
            f"list bucket {bucket}",
            lambda: [o.object_name for o in self._client.list_objects(bucket, recursive=True)],
        )
        suffix = "/" + MANIFEST
        return sorted(key[: -len(MANIFEST)] for key in keys if key.endswith(suffix))

    # --- helpers -------------------------------------------------------------------------------

    async def _call(self, what: str, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        # The minio SDK blocks; run it in a thread and turn every failure into one plain message.
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except S3Error as exc:
            raise ArchiveError(
                f"archive store {self.endpoint} could not {what}: {exc.code} ({exc.message})"
            ) from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise ArchiveError(
                f"archive store {self.endpoint} could not {what}: {type(exc).__name__}: {exc}"
            ) from exc

    async def _put(self, location: DossierLocation, name: str, data: bytes, lock: _Lock) -> None:
        key = location.prefix + name
        content_type = "application/json" if name.endswith(".json") else mimetypes.guess_type(name)[0]
        await self._call(
            f"store {key}",
            self._client.put_object,
            location.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type or "application/octet-stream",
            retention=Retention(COMPLIANCE, lock.until()),
            legal_hold=lock.legal_hold,
        )

    async def digest_object(self, bucket: str, key: str) -> Digests | None:
        """Size and digests of any object the store can read (None: it is not there), read as a stream."""
        return await self._digest_or_none(bucket, key)

    async def _digest_or_none(self, bucket: str, key: str) -> Digests | None:
        def digest() -> Digests | None:
            try:
                response = self._client.get_object(bucket, key)
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchVersion", "NoSuchBucket"):
                    return None
                raise
            digests = Digests()
            try:
                while chunk := response.read(CHUNK):
                    digests.update(chunk)
            finally:
                response.close()
                response.release_conn()
            return digests

        return await self._call(f"read {key}", digest)

    async def _copy_in(self, location: DossierLocation, name: str, stored: StoredFile, lock: _Lock) -> None:
        """Stream a file from elsewhere in S3 into the dossier, checking it against the digests the
        manifest lists for it on the way (a file changed since would seal the wrong bytes)."""
        key = location.prefix + name

        def copy() -> Digests:
            try:
                response = self._client.get_object(stored.bucket, stored.key)
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchBucket"):
                    raise ArchiveError(f"{name}: s3://{stored.bucket}/{stored.key} is missing, so it cannot be "
                                       "archived") from None
                raise
            reader = _DigestReader(response.read)
            try:
                self._client.put_object(
                    location.bucket, key, reader, stored.size, content_type=stored.content_type,
                    retention=Retention(COMPLIANCE, lock.until()), legal_hold=lock.legal_hold,
                    part_size=PART_SIZE, num_parallel_uploads=1,
                )
                reader.read(1)  # anything past the size the manifest lists
            finally:
                response.close()
                response.release_conn()
            return reader.digests

        try:
            digests = await self._call(f"copy {stored.key} into {key}", copy)
        except ArchiveError as exc:
            if isinstance(exc.__cause__, OSError) and "not enough data" in str(exc.__cause__):
                raise ArchiveError(f"{name}: shorter than the {stored.size} bytes recorded for it") from None
            raise
        problems = _compare(name, digests, {"size": stored.size, **stored.entry()})
        if problems:
            raise ArchiveError("; ".join(problems) + f" (s3://{stored.bucket}/{stored.key} changed since it was "
                                                     "recorded)")

    async def _get_or_none(self, location: DossierLocation, name: str) -> bytes | None:
        key = location.prefix + name

        def get() -> bytes | None:
            try:
                response = self._client.get_object(location.bucket, key)
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchVersion"):
                    return None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await self._call(f"read {key}", get)

    async def _names_under(self, location: DossierLocation) -> list[str]:
        """Names of the current (not deleted) objects under the dossier's prefix."""
        objects = await self._call(
            f"list {location.prefix}",
            lambda: list(self._client.list_objects(location.bucket, prefix=location.prefix, recursive=True)),
        )
        return [o.object_name[len(location.prefix) :] for o in objects if not o.is_delete_marker]

    async def _refuse_different_dossier(self, location: DossierLocation, dossier: Dossier) -> None:
        # A complete dossier is sealed: a retry of the same one may write it again (same files, only
        # the creation time differs), but a dossier with other contents must not replace it.
        raw = await self._get_or_none(location, MANIFEST)
        if raw is None:
            return
        try:
            stored = json.loads(raw)["files"]
        except (ValueError, KeyError, TypeError):
            stored = None
        if stored != json.loads(dossier.files[MANIFEST])["files"]:
            raise ArchiveError(
                f"dossier {dossier.archival_code} is already archived with other contents; "
                "an archived dossier cannot be replaced"
            )


@dataclass(frozen=True)
class _Lock:
    years: int
    legal_hold: bool

    def until(self) -> datetime.datetime:
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        try:
            return now.replace(year=now.year + self.years)
        except ValueError:  # 29 February
            return now.replace(year=now.year + self.years, day=28)


def _lock_for(retention: str) -> _Lock:
    if retention == "permanent":
        return _Lock(years=PERMANENT_RETENTION_YEARS, legal_hold=True)
    return _Lock(years=RETENTION_YEARS[retention], legal_hold=False)


def _compare(name: str, digests: Digests, entry: dict) -> list[str]:
    problems = []
    if digests.size != entry.get("size"):
        problems.append(f"{name}: size is {digests.size} bytes, the manifest says {entry.get('size')}")
    if digests.sha256 != entry.get("sha256"):
        problems.append(f"{name}: SHA-256 does not match the manifest")
    # A manifest made where SM3 was available is still checkable by SHA-256 on a machine without it.
    if "sm3" in entry and digests.sm3 is not None and digests.sm3 != entry["sm3"]:
        problems.append(f"{name}: SM3 does not match the manifest")
    return problems


class _DigestReader:
    """What the SDK reads from: the source's bytes as they pass, digested. ``read(n)`` gathers ``n`` bytes
    (the SDK asks for a whole part), so a part is joined once, not grown chunk by chunk."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self.digests = Digests()

    def read(self, size: int = -1) -> bytes:
        pieces, wanted = [], size if size >= 0 else float("inf")
        while wanted > 0:
            chunk = self._read(int(min(wanted, CHUNK)))
            if not chunk:
                break
            pieces.append(chunk)
            wanted -= len(chunk)
        data = b"".join(pieces)
        self.digests.update(data)
        return data
