"""An upload is streamed, never held whole: a real `duban serve` process takes a 50 MB file, sent chunked
by the client, and its peak resident memory (VmHWM) grows by the few 5 MB parts the S3 SDK holds at once,
not by anything near 50 MB — and no more than for a 16 MB file."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from attachment_flow import pdf

from duban.platform import Platform
from duban.runtime import free_port
from duban.settings import Settings
from helpers import DUBAN, NATS_TEST_USER, TEST_NOW, duban_env, eventually, login

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
BOUNDARY = "duban-memory-test"


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _serve(env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen([str(DUBAN), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)


async def _chunked_upload(http: httpx.AsyncClient, headers: dict, size: int):
    """A multipart upload of ``size`` bytes, generated as it is sent (the test holds no copy either)."""

    async def body():
        yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"大文件.pdf\"\r\n"
               "Content-Type: application/pdf\r\n\r\n").encode()
        yield pdf(MB)
        block = bytes(range(256)) * 256  # 64 KiB
        for _ in range((size - MB) // len(block)):
            yield block
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    return await http.post("/api/attachments", content=body(), timeout=120,
                           headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")
async def test_a_50_mb_upload_does_not_grow_the_process_by_50_mb(tmp_path, nats_server, s3_server):
    settings = Settings(data_dir=tmp_path / "data", tenants_file=REPO / "tenants" / "huaian.toml",
                        policies_dir=REPO / "policies", hosted_tenants=("qingjiangpu",), nats_url=nats_server.url,
                        s3_endpoint=s3_server.endpoint, s3_access_key=s3_server.access_key,
                        s3_secret_key=s3_server.secret_key, s3_bucket_prefix=f"m{uuid.uuid4().hex[:10]}",
                        password_cost=10, keys_dir=tmp_path / "keys",
                        nats_user=NATS_TEST_USER.name, nats_password=NATS_TEST_USER.password)
    platform = Platform(settings)
    await platform.migrate()
    await platform.seed_demo()
    platform.keys.init()
    await platform.db.dispose()
    port = free_port()
    env = duban_env(settings, DUBAN_NATS_URL=settings.nats_url, DUBAN_S3_ENDPOINT=settings.s3_endpoint,
                    DUBAN_S3_ACCESS_KEY=settings.s3_access_key, DUBAN_S3_SECRET_KEY=settings.s3_secret_key,
                    DUBAN_S3_BUCKET_PREFIX=settings.s3_bucket_prefix, DUBAN_PORT=str(port),
                    DUBAN_FIXED_TIME=TEST_NOW.isoformat(), DUBAN_RUN_JOBS="false", DUBAN_ATTACHMENT_MAX_MB="60")
    log = (tmp_path / "serve.log").open("wb")
    server = _serve(env, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            async def ready():
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    return (await http.get("/health", timeout=1)).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, within=60, what="the node to answer")
            handler = await login(http, "qingjiangpu", "handler")
            assert (await http.get("/api/attachments/none", headers=handler)).status_code == 404
            idle = _peak_rss_mb(server.pid)
            r = await _chunked_upload(http, handler, 16 * MB)  # three full parts of 5 MB and a last one
            assert r.status_code == 201, r.text
            after_16 = _peak_rss_mb(server.pid)
            r = await _chunked_upload(http, handler, 50 * MB)
            assert r.status_code == 201 and r.json()["size"] == 50 * MB, r.text
            after_50 = _peak_rss_mb(server.pid)
            print(f"\npeak RSS of the node: {idle:.1f} MB before any upload, +{after_16 - idle:.1f} MB after a 16 MB "
                  f"upload, +{after_50 - idle:.1f} MB after a 50 MB one")
            # What an upload costs is a few parts in flight, whatever its size: well under 50 MB, and the
            # 50 MB file costs no more than the 16 MB one (a few MB of allocator slack).
            assert after_50 - idle < 30, f"a 50 MB upload raised the node's peak memory by {after_50 - idle:.1f} MB"
            assert after_50 - after_16 < 8, f"memory grew with the file size: +{after_50 - after_16:.1f} MB"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
