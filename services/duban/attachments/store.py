"""The tenants' attachment buckets in S3: files streamed in and out, and copied from one tenant's bucket to
another's with the size and SHA-256 checked on the way. Nothing here holds a whole file: the SDK works
in parts of ``PART_SIZE``, one at a time, in a worker thread."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from duban.archive.dossier import Digests
from duban.errors import ServiceUnavailable

T = TypeVar("T")
log = logging.getLogger("duban.attachments")

PART_SIZE = 5 * 1024 * 1024  # the smallest part S3 takes: what an upload holds in memory at most
CHUNK = 256 * 1024
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MISSING = ("NoSuchKey", "NoSuchBucket", "NoSuchVersion")


class AttachmentStoreError(ServiceUnavailable):
    """The object store could not be reached or did not do what was asked (not the file's fault)."""


class Missing(Exception):
    """The object is not there."""


class Mismatch(Exception):
    """The object is not the one described (size or SHA-256); the message says how."""


class OverLimit(Exception):
    """More bytes came than the size limit allows."""


def _large_buffers_back_to_the_os() -> None:
    """The SDK allocates every 5 MB part afresh, in whichever worker thread runs it. glibc's malloc raises
    its mmap threshold past such a buffer once one is freed, and from then on keeps freed parts in that
    thread's heap: the node's memory would grow with the number of threads that ever uploaded (seen: 21
    or 42 MB for the same upload). A fixed threshold keeps large buffers mmapped and returned on free."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).mallopt(-3, 1024 * 1024)  # M_MMAP_THRESHOLD (musl has a harmless stub)
        except (OSError, AttributeError):
            pass


class AttachmentStore:
    """One plain (unlocked) bucket per tenant: ``<prefix>-files-<tenant>``. Sealing is the archive's job."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, *, secure: bool = False,
                 bucket_prefix: str = "duban-archive", kill_after_copy: str = "") -> None:
        self.endpoint, self.bucket_prefix = endpoint, bucket_prefix
        self.kill_after_copy = kill_after_copy
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
            maxsize=10,
        )
        self._client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http)
        self._ready: set[str] = set()
        _large_buffers_back_to_the_os()

    def bucket_for(self, tenant: str) -> str:
        """The attachment bucket of a tenant."""
        name = f"{self.bucket_prefix}-files-{tenant}".lower().replace("_", "-")
        if not _BUCKET_NAME.match(name) or ".." in name:
            raise AttachmentStoreError(f"附件存储桶名无效 (tenant {tenant!r} gives {name!r}, not a valid bucket name)")
        return name

    async def ensure_bucket(self, tenant: str) -> str:
        """The tenant's bucket, created the first time it is needed."""
        bucket = self.bucket_for(tenant)
        if bucket in self._ready:
            return bucket
        if not await self._call(f"look up bucket {bucket}", self._client.bucket_exists, bucket):
            try:
                await self._call(f"create bucket {bucket}", self._client.make_bucket, bucket)
            except AttachmentStoreError as exc:  # another node made it in between
                if not isinstance(exc.__cause__, S3Error) or exc.__cause__.code not in (
                        "BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._ready.add(bucket)
        return bucket

    async def put(self, bucket: str, key: str, reader: StreamReader, content_type: str) -> None:
        """Store what ``reader`` gives, part by part (its length is known only at the end)."""
        await self._call(f"store {key}", self._client.put_object, bucket, key, reader, -1,
                         content_type=content_type, part_size=PART_SIZE, num_parallel_uploads=1)

    async def copy(self, source_bucket: str, source_key: str, bucket: str, key: str, size: int, sha256: str,
                   content_type: str) -> None:
        """Copy an object (another tenant's) to ``bucket/key`` through this node, checking that it is
        ``size`` bytes with this SHA-256. Raises ``Missing`` or ``Mismatch`` (and leaves no copy behind)."""

        def copy() -> None:
            try:
                response = self._client.get_object(source_bucket, source_key)
            except S3Error as exc:
                if exc.code in _MISSING:
                    raise Missing(f"s3://{source_bucket}/{source_key}") from None
                raise
            try:
                announced = response.headers.get("Content-Length")
                if announced is not None and int(announced) != size:
                    raise Mismatch(f"大小为 {announced} 字节，登记为 {size} 字节 (size {announced}, expected {size})")
                reader = StreamReader(response.read)
                try:
                    self._client.put_object(bucket, key, reader, size, content_type=content_type,
                                            part_size=PART_SIZE, num_parallel_uploads=1)
                except OSError as exc:  # the SDK's "stream having not enough data"
                    raise Mismatch(f"不足登记的 {size} 字节 (shorter than {size} bytes)") from exc
                reader.read(1)  # anything past the size given
            finally:
                response.close()
                response.release_conn()
            found = reader.digests
            if found.size != size:
                raise Mismatch(f"大于登记的 {size} 字节 (longer than {size} bytes)")
            if found.sha256 != sha256:
                raise Mismatch(f"SHA-256 为 {found.sha256}，登记为 {sha256} (SHA-256 differs)")

        try:
            await self._call(f"copy {source_key} to {key}", copy)
        except Mismatch:
            await self.remove(bucket, key)
            raise

    async def open(self, bucket: str, key: str) -> AsyncIterator[bytes]:
        """The object's bytes as they come (``Missing`` is raised here, before the first byte)."""

        def get():  # noqa: ANN202
            try:
                return self._client.get_object(bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING:
                    raise Missing(f"s3://{bucket}/{key}") from None
                raise

        response = await self._call(f"read {key}", get)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(response.read, CHUNK):
                    yield chunk
            finally:
                response.close()
                response.release_conn()

        return chunks()

    async def remove(self, bucket: str, key: str) -> None:
        """Delete an object (nothing happens if it is not there)."""
        await self._call(f"remove {key}", self._client.remove_object, bucket, key)

    async def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The keys under a prefix."""
        return await self._call(f"list {bucket}/{prefix}", lambda: [
            o.object_name for o in self._client.list_objects(bucket, prefix=prefix, recursive=True)])

    def crash_point(self) -> None:
        """For the kill test only (setting ``fault_kill_after_copy``): the node dies here once, right after
        a received attachment was copied and before the event's transaction commits."""
        marker = self.kill_after_copy
        if marker and not os.path.exists(marker):
            Path(marker).write_text(f"{os.getpid()}\n")
            log.warning("fault injection: killing this node (pid %s) after an attachment copy", os.getpid())
            os.kill(os.getpid(), signal.SIGKILL)

    async def _call(self, what: str, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        # The SDK blocks: run it in a thread, and make every transport failure one plain message.
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except S3Error as exc:
            raise AttachmentStoreError(
                f"附件存储暂不可用 (object store {self.endpoint} could not {what}: {exc.code} {exc.message})") from exc
        except (MinioException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
            raise AttachmentStoreError(f"附件存储暂不可用 (object store {self.endpoint} could not {what}: "
                                       f"{type(exc).__name__}: {exc})") from exc


class StreamReader:
    """What the SDK reads from, in its worker thread: ``pull()`` gives the next chunk (b"" at the end).
    ``read(n)`` gathers ``n`` bytes (the SDK asks for a whole part, so a part is joined once, not grown
    chunk by chunk); what passes is digested and counted, and more than ``limit`` bytes raise
    ``OverLimit`` (the SDK then aborts the upload)."""

    def __init__(self, read: Callable[[int], bytes] | None = None, *, pull: Callable[[], bytes] | None = None,
                 head: bytes = b"", limit: int | None = None) -> None:
        self._pull = pull or (lambda: read(CHUNK))  # type: ignore[misc]
        self._pending = head
        self._limit = limit
        self._ended = False
        self.digests = Digests()

    def read(self, size: int = -1) -> bytes:
        pieces, have = [], 0
        while size < 0 or have < size:
            if self._pending:
                chunk, self._pending = self._pending, b""
            elif self._ended:
                break
            else:
                chunk = self._pull()
                if not chunk:
                    self._ended = True
                    break
            if size >= 0 and have + len(chunk) > size:
                chunk, self._pending = chunk[:size - have], chunk[size - have:]
            pieces.append(chunk)
            have += len(chunk)
        data = b"".join(pieces)
        self.digests.update(data)
        if self._limit is not None and self.digests.size > self._limit:
            raise OverLimit(self.digests.size)
        return data


def pull_from(chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop) -> Callable[[], bytes]:
    """A blocking ``pull()`` for a worker thread that takes the next chunk of an async stream from the
    event loop (b"" at its end)."""

    async def next_chunk() -> bytes:
        try:
            return bytes(await anext(chunks))
        except StopAsyncIteration:
            return b""

    def pull() -> bytes:
        return asyncio.run_coroutine_threadsafe(next_chunk(), loop).result()

    return pull
