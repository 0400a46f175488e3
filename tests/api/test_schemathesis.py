"""A schemathesis run over /schema, as the city's inspector and as a county's handler: every check, and it
finds nothing. The node is served by uvicorn (as ``duban serve`` does) in the test's own event loop, so the
requests pass a real HTTP parser; the run is the ``schemathesis`` command, with a fixed seed and a bounded
number of examples per operation."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from duban.platform import Platform
from helpers import login
from livehttp import serving

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"

# The one check left out: positive_data_acceptance. A request that fits the schema may still be refused by
# a rule no schema states (a deadline already past, an id that names nothing, a state that does not allow
# the action, a role without the right): 400/403/404/409 are the right answers there, and each is documented.
EXCLUDED = ["positive_data_acceptance"]
# Operations left out: logging out ends the very session the run signs its requests with (every later
# request would be a 401); tests/api/test_errors.py and tests/accounts test them.
SKIPPED = ["/api/logout", "/api/logout/all"]


@pytest.fixture
async def live(client: httpx.AsyncClient, platform: Platform) -> AsyncIterator[str]:
    """The node ``client`` runs, also on a real HTTP server (uvicorn, as ``duban serve``); its base URL."""
    async with serving(platform) as base:
        yield base


# Logging in, changing one's password and confirming a second factor hash a secret on every call (by design
# slow) and are throttled: their few fields
# are fuzzed, and left out of the coverage phase, which would try each boundary of each (tests/accounts and
# tests/api/test_login_hardening.py test them).
CONFIG = """
[[operations]]
include-path-regex = "^/api/(login|account/password|account/totp/confirm)$"
phases.coverage.enabled = false
"""


async def _run(base: str, token: str, phases: str, tmp: Path) -> tuple[int, str]:
    (tmp / "schemathesis.toml").write_text(CONFIG)
    args = [str(SCHEMATHESIS), "--config-file", str(tmp / "schemathesis.toml"), "run", f"{base}/schema/openapi.json",
            "--checks", "all", "--exclude-checks", ",".join(EXCLUDED),
            "-H", f"Authorization: Bearer {token}", *(a for path in SKIPPED for a in ("--exclude-path", path)),
            "--max-examples", os.environ.get("DUBAN_SCHEMATHESIS_EXAMPLES", "4"),
            "--seed", "20261102", "--generation-deterministic", "--workers", "1",
            "--phases", phases,
            "--suppress-health-check", "all", "--no-color",
            "--output-truncate", "false",
            "--report", "junit", "--report-dir", str(tmp)]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, cwd=tmp)
    out, _ = await proc.communicate()
    (tmp / "schemathesis.out").write_bytes(out)
    return proc.returncode or 0, out.decode(errors="replace")


# The coverage phase (every boundary and every wrong type of every field and parameter, which the routes
# check before they look at the caller) runs once, as the inspector; fuzzing and the stateful phase (chains
# of calls) run as both.
@pytest.mark.parametrize(("tenant", "role", "phases"), [
    ("city", "inspector", "examples,coverage,fuzzing,stateful"),
    ("qingjiangpu", "handler", "examples,fuzzing,stateful"),
])
async def test_schemathesis_finds_nothing(client, live, tenant, role, phases, tmp_path):
    token = (await login(client, tenant, role))["Authorization"].removeprefix("Bearer ")
    code, out = await _run(live, token, phases, tmp_path)
    assert code == 0, out[-20000:]
