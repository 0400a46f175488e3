"""What holds secrets or tenant data on disk is readable by the platform's user only: each tenant's
SQLite database (0600, in a 0700 folder), the S3 server's folder (0700) with its key and JWT files (0600),
and `duban up`'s S3 credentials (0600)."""

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


def test_the_s3_servers_folder_and_jwt_keys_are_private(s3_server):
    assert mode(s3_server.data_dir) == 0o700  # the stored objects, the key files
    assert mode(s3_server.data_dir / "security.toml") == 0o600


def test_duban_ups_s3_credentials_are_private_from_the_start(tmp_path):
    from duban.cli import _s3_credentials

    access, secret = _s3_credentials(tmp_path / "s3")
    path = tmp_path / "s3" / "credentials.json"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    path.chmod(0o644)  # one written by an older version
    assert _s3_credentials(tmp_path / "s3") == (access, secret) and mode(path) == 0o600
