"""The embedded S3 server (weed mini) answers only through its S3 API: its filer and volume ports, also
on 127.0.0.1, refuse every request that is not signed with the JWT keys of its ``security.toml`` (0600,
fresh at every start). So nobody on the host can delete or overwrite a dossier under object lock behind
S3's back: unauthenticated PUT, DELETE and GET on either port are answered 401, and the dossier is still
there and still verifies. The keys themselves reach the real objects (the test signs with them), so the
refusals are about the missing signature, not a wrong path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from minio import Minio

from duban.archive import ArchiveStore, build_dossier
from duban.archive.dossier import MANIFEST
from helpers import dossier_meta

DOCUMENTS = {"item.json": {"title": "老旧小区改造"}, "附件1 现场照片.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8}


def _jwt(key: str, **claims: object) -> str:
    """An HS256 token as SeaweedFS signs them (``exp``, and ``fid`` for a volume's file)."""
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()

    head = part({"alg": "HS256", "typ": "JWT"}) + "." + part({"exp": int(time.time()) + 60, **claims})
    sig = hmac.new(key.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def _call(method: str, url: str, data: bytes | None = None, token: str | None = None,
          accept: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept:
        headers["Accept"] = accept
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers),
                                    timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def store(s3_server) -> ArchiveStore:
    return ArchiveStore(s3_server.endpoint, s3_server.access_key, s3_server.secret_key,
                        bucket_prefix=f"t{uuid.uuid4().hex[:12]}")


def test_security_toml_is_private_and_signs_filer_and_volume(s3_server):
    path = s3_server.data_dir / "security.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    keys = tomllib.loads(path.read_text())
    for section in ("signing", "filer_signing"):
        assert len(keys["jwt"][section]["key"]) == 64 and len(keys["jwt"][section]["read"]["key"]) == 64


async def test_a_locked_dossier_cannot_be_changed_through_the_filer_or_volume_port(store, s3_server):
    dossier = build_dossier(dossier_meta(retention="permanent"), DOCUMENTS)
    location = await store.put_dossier("city", dossier, year=2026, retention="permanent")
    assert (await store.verify(location)).ok
    keys = tomllib.loads((s3_server.data_dir / "security.toml").read_text())["jwt"]
    filer = f"http://{s3_server.host}:{s3_server.ports['filer.port']}"
    volume = f"http://{s3_server.host}:{s3_server.ports['volume.port']}"
    s3 = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)
    bucket_path = f"/buckets/{location.bucket}"

    for name in (MANIFEST, "item.json"):
        key = location.prefix + name
        version = s3.stat_object(location.bucket, key).version_id
        path = urllib.parse.quote(f"{bucket_path}/{key}.versions/v_{version}")
        # Where the object's bytes are: read with a token signed by the filer's read key (the test holds it).
        status, body = _call("GET", f"{filer}{urllib.parse.quote(f'{bucket_path}/{key}.versions/')}",
                             token=_jwt(keys["filer_signing"]["read"]["key"]), accept="application/json")
        assert status == 200, body
        [entry] = [e for e in json.loads(body)["Entries"] if e["FullPath"].endswith(f"v_{version}")]
        fid = entry["chunks"][0]["file_id"]
        original = dossier.files[name]
        token = _jwt(keys["signing"]["read"]["key"], fid=fid)
        assert _call("GET", f"{volume}/{fid}", token=token) == (200, original)  # the right needle

        # Without a token: the filer refuses to list, read, overwrite or delete it, or the whole bucket …
        for method, url, data in (
            ("GET", f"{filer}{path}", None),
            ("PUT", f"{filer}{path}", b"forged"),
            ("POST", f"{filer}{path}", b"forged"),
            ("DELETE", f"{filer}{path}", None),
            ("DELETE", f"{filer}{urllib.parse.quote(bucket_path)}?recursive=true&ignoreRecursiveError=true", None),
        ):
            status, body = _call(method, url, data)
            assert status == 401, (method, url, status, body)
        # … and so does the volume server, for the object's own file id.
        for method, data in (("GET", None), ("PUT", b"forged"), ("POST", b"forged"), ("DELETE", None)):
            status, body = _call(method, f"{volume}/{fid}", data)
            assert status == 401, (method, fid, status, body)
        # A token of the wrong key is no better.
        assert _call("DELETE", f"{volume}/{fid}", token=_jwt("0" * 64, fid=fid))[0] == 401
        assert _call("DELETE", f"{filer}{path}", token=_jwt("0" * 64))[0] == 401
        assert _call("GET", f"{volume}/{fid}", token=token) == (200, original)

    report = await store.verify(location)
    assert report.ok and report.problems == []
    assert await store.read_file(location, "item.json") == dossier.files["item.json"]
