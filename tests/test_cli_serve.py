"""The production commands, as docker-compose runs them: `duban migrate`, `migrate --check`,
`seed-demo` and `serve`, configured only by DUBAN_* variables, against the test's own servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from duban.runtime import free_port
from helpers import NATS_TEST_USER

REPO = Path(__file__).resolve().parent.parent
DUBAN = Path(sys.executable).parent / "duban"


def test_migrate_seed_and_serve_from_the_environment(tmp_path, database_url, nats_server, s3_server):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
        "DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_DATABASE_URL": database_url,
        "DUBAN_HOSTED_TENANTS": "city,qingjiangpu", "DUBAN_NATS_URL": nats_server.url,
        "DUBAN_S3_ENDPOINT": s3_server.endpoint, "DUBAN_S3_ACCESS_KEY": s3_server.access_key,
        "DUBAN_S3_SECRET_KEY": s3_server.secret_key, "DUBAN_PORT": str(port),
        "DUBAN_TENANTS_FILE": str(REPO / "tenants" / "huaian.toml"), "DUBAN_POLICIES_DIR": str(REPO / "policies"),
        "DUBAN_NATS_USER": NATS_TEST_USER.name, "DUBAN_NATS_PASSWORD": NATS_TEST_USER.password,
    }

    def duban(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(DUBAN), *args], env=env, capture_output=True, text=True, timeout=120)

    check = duban("migrate", "--check")
    assert check.returncode == 1, check.stdout + check.stderr  # nothing migrated yet: not up to date
    migrated = duban("migrate")
    assert migrated.returncode == 0 and "migrated 2 tenants" in migrated.stdout, migrated.stderr
    check = duban("migrate", "--check")
    assert check.returncode == 0 and "checked 2 tenants" in check.stdout, check.stderr
    seeded = duban("seed-demo")
    # city: inspector, approver, chief, supervisor, admin, registrar and a member of each of 4 groups; county: 4
    assert seeded.returncode == 0 and "14 demo accounts" in seeded.stdout, seeded.stderr
    keys = duban("keys", "init")
    assert keys.returncode == 0 and "new keys for 2 tenants: city, qingjiangpu" in keys.stdout, keys.stderr
    private = tmp_path / "data" / "private-keys"
    assert private.stat().st_mode & 0o777 == 0o700
    modes = {p.name: p.stat().st_mode & 0o777 for p in private.iterdir()}
    assert modes == {"city.key": 0o600, "qingjiangpu.key": 0o600}
    assert "new keys for 0 tenants" in duban("keys", "init").stdout  # a second run keeps the keys

    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(DUBAN), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.05)
        assert httpx.get(f"{base}/health").json()["tenants"] == ["city", "qingjiangpu"]
        r = httpx.post(f"{base}/api/login", json={"tenant": "city", "username": "inspector", "password": "duban-demo"})
        assert r.status_code == 200
        r = httpx.post(f"{base}/api/login", json={"tenant": "huaian", "username": "chief", "password": "duban-demo"})
        assert r.status_code == 401  # not hosted on this node
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
            log.close()
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()
