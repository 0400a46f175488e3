"""The receiving node dies between the byte copy and the ack: the city, a real `duban serve` process, is
made to SIGKILL itself right after it copied a received attachment into its bucket and before the event's
transaction commits (``DUBAN_FAULT_KILL_AFTER_COPY``, once). Restarted, it takes the redelivered event:
exactly one copy in its bucket, exactly one applied event, one feedback, one attachment row."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import replace

import httpx
from attachment_flow import keys, pdf, s3_client, sha256, upload
from sqlalchemy import func, select

from duban.app import create_app
from duban.attachments.models import Attachment
from duban.db.database import Database
from duban.events.models import InboxEvent
from duban.items.models import Feedback
from duban.platform import Platform
from duban.runtime import free_port
from duban.timesource import FixedTime
from helpers import DUBAN, TEST_NOW, duban_env, eventually, login, registered_item


class CityNode:
    """``duban serve`` hosting the city, restartable; each incarnation logs to its own file."""

    def __init__(self, settings, tmp_path, marker) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = duban_env(
            settings, DUBAN_HOSTED_TENANTS="city", DUBAN_NATS_URL=settings.nats_url,
            DUBAN_S3_ENDPOINT=settings.s3_endpoint, DUBAN_S3_ACCESS_KEY=settings.s3_access_key,
            DUBAN_S3_SECRET_KEY=settings.s3_secret_key, DUBAN_S3_BUCKET_PREFIX=settings.s3_bucket_prefix,
            DUBAN_PORT=str(self.port), DUBAN_FIXED_TIME=TEST_NOW.isoformat(), DUBAN_RUN_JOBS="false",
            DUBAN_PASSWORD_COST="10", DUBAN_RELAY_POLL_SECONDS="0.5", DUBAN_NATS_ACK_WAIT="1",
            DUBAN_SESSION_IDLE_MINUTES="0", DUBAN_LOGIN_RATE_PER_MINUTE="0",
            DUBAN_FAULT_KILL_AFTER_COPY=str(marker))
        self.tmp_path = tmp_path
        self.logs: list = []
        self.proc: subprocess.Popen | None = None

    async def start(self, http: httpx.AsyncClient) -> None:
        log = self.tmp_path / f"city-{len(self.logs)}.log"
        self.logs.append(log)
        self.proc = self._spawn(log)

        async def ready():
            assert self.proc.poll() is None, log.read_text()
            try:
                return (await http.get(f"{self.url}/health", timeout=1)).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, within=60, what="the city node to answer")

    def _spawn(self, log) -> subprocess.Popen:
        with log.open("wb") as out:
            return subprocess.Popen([str(DUBAN), "serve"], env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _count(db: Database, model, *where) -> int:
    async with db.transaction("city") as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_node_killed_between_copy_and_ack_keeps_one_copy_and_one_event(settings, tmp_path, s3_server):
    both = Platform(replace(settings, hosted_tenants=("city", "qingjiangpu")))
    await both.migrate()
    await both.seed_demo()
    both.keys.init()  # the signing keys of city (the serve process) and qingjiangpu (in this process)
    await both.db.dispose()
    marker = tmp_path / "killed-after-copy"
    city = CityNode(settings, tmp_path, marker)
    county = Platform(replace(settings, hosted_tenants=("qingjiangpu",)))
    county.time = FixedTime(TEST_NOW)
    city_db = Database(settings, ["city"])
    s3 = s3_client(s3_server)
    city_bucket = both.attachments.bucket_for("city")
    async with httpx.AsyncClient(base_url=city.url, timeout=30) as http:
        await city.start(http)
        await county.start()
        try:
            transport = httpx.ASGITransport(app=create_app(county, manage_platform=False))
            async with httpx.AsyncClient(transport=transport, base_url="http://county.test") as at_county:
                inspector = await login(http, "city", "inspector")
                approver = await login(http, "city", "approver", data_dir=settings.data_dir)
                handler = await login(at_county, "qingjiangpu", "handler")
                item_id = await registered_item(http, inspector, approver)
                r = await http.post(f"/api/items/{item_id}/assign", headers=inspector)
                [task] = r.json()["assignments"]

                async def queued():
                    return (await at_county.get("/api/assignments", headers=handler)).json()

                await eventually(queued, what="the assignment at the county")
                assert (await at_county.post(f"/api/assignments/{task['id']}/accept", headers=handler)).is_success
                data = pdf(2 * 1024 * 1024, b"kill")
                a = (await upload(at_county, handler, "报告.pdf", data)).json()
                r = await at_county.post(f"/api/assignments/{task['id']}/feedback", headers=handler,
                                         json={"text": "附报告", "attachments": [a["id"]]})
                assert r.status_code == 201, r.text

                # The city copies the bytes, then dies before its transaction commits and the message is acked.
                async def died():
                    return city.proc.poll() is not None

                await eventually(died, within=60, what="the city node to kill itself after the copy")
                assert city.proc.returncode == -signal.SIGKILL, city.logs[-1].read_text()[-3000:]
                assert marker.read_text().strip() == str(city.proc.pid), "killed by the fault injection point"
                copy_key = f"received/qingjiangpu/{a['id']}/{a['sha256']}"
                assert keys(s3, city_bucket, "received/") == [copy_key], "the copy was made before the kill"
                assert await _count(city_db, InboxEvent, InboxEvent.kind == "feedback.submitted") == 0
                assert await _count(city_db, Feedback) == 0 and await _count(city_db, Attachment) == 0

                await city.start(http)  # the same node again: JetStream hands the unacked event back

                async def applied():
                    rows = (await http.get("/api/inbox", headers=inspector)).json()
                    return [r for r in rows if r["kind"] == "feedback.submitted" and r["status"] == "applied"]

                [event] = await eventually(applied, within=60, what="the redelivered feedback applied at the city")
                detail = (await http.get(f"/api/items/{item_id}", headers=inspector)).json()
                [feedback] = detail["feedback"]
                [copy] = feedback["attachments"]
                got = await http.get(f"/api/attachments/{copy['id']}", headers=inspector)
                assert sha256(got.content) == sha256(data) == copy["sha256"]
        finally:
            city.stop()
            await county.stop()

    assert keys(s3, city_bucket) == [copy_key], "exactly one copy at the receiver"
    assert await _count(city_db, InboxEvent, InboxEvent.kind == "feedback.submitted") == 1
    assert await _count(city_db, InboxEvent, InboxEvent.kind == "feedback.submitted",
                        InboxEvent.status == "applied") == 1
    assert await _count(city_db, Feedback) == 1
    assert await _count(city_db, Attachment) == 1
    assert event["id"] and "redelivered" in city.logs[-1].read_text()
    await city_db.dispose()
