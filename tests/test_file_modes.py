"""What holds secrets or tenant data on disk is readable by the platform's user only: each tenant's
SQLite database (0600, in a 0700 folder) and the S3 server's key file (0600)."""

from __future__ import annotations

import stat

import pytest


def mode(path) -> int:  # noqa: ANN001
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_tenant_databases_are_private(platform, settings):
    files = sorted((settings.data_dir / "db").glob("*.sqlite3"))
    assert len(files) == len(settings.hosted_tenants)
    assert {mode(f) for f in files} == {0o600}
    assert mode(settings.data_dir / "db") & 0o077 == 0


def test_the_s3_key_file_is_private(s3_server):
    assert mode(s3_server.data_dir / "identities.json") == 0o600
