"""Shared steps of the attachment tests: files that pass the type check, uploading, and an item assigned
by the city to the county and accepted there."""

from __future__ import annotations

import hashlib
import io
import os

from httpx import AsyncClient
from minio import Minio

from helpers import eventually, registered_item


def pdf(size: int = 4096, seed: bytes = b"") -> bytes:
    """A file that starts like a PDF, ``size`` bytes long, with content that differs by ``seed``."""
    head = b"%PDF-1.7\n% " + seed + b"\n"
    body = (hashlib.sha256(seed).digest() * (size // 32 + 1))[: max(size - len(head), 0)]
    return head + body


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def upload(client: AsyncClient, headers: dict, name: str, data: bytes, field: str = "file"):
    """POST /api/attachments as a browser form would."""
    return await client.post("/api/attachments", headers=headers, files={field: (name, data)})


def s3_client(s3_server) -> Minio:
    return Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)


def put(s3: Minio, bucket: str, key: str, data: bytes) -> None:
    s3.put_object(bucket, key, io.BytesIO(data), len(data))


def keys(s3: Minio, bucket: str, prefix: str = "") -> list[str]:
    if not s3.bucket_exists(bucket):
        return []
    return sorted(o.object_name for o in s3.list_objects(bucket, prefix=prefix, recursive=True))


def bucket(platform, tenant: str) -> str:
    return platform.attachments.bucket_for(tenant)


async def accepted_assignment(client: AsyncClient, inspector: dict, approver: dict, handler: dict) -> tuple[str, str]:
    """The city assigns an item to the county, the county accepts it: (item id, assignment id)."""
    item_id = await registered_item(client, inspector, approver)
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 200, r.text
    [sent] = r.json()["assignments"]

    async def queued():
        return any(a["id"] == sent["id"] for a in (await client.get("/api/assignments", headers=handler)).json())

    await eventually(queued, what="the assignment at the county")
    r = await client.post(f"/api/assignments/{sent['id']}/accept", headers=handler)
    assert r.status_code == 200, r.text
    return item_id, sent["id"]


def random_bytes(n: int) -> bytes:
    return os.urandom(n)
