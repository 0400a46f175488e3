#!/usr/bin/env python3
"""The two commands of the README, on a machine that has only Python 3.11+.

    python3 run.py up     [duban up options]   start the platform (embedded NATS, S3, SQLite)
    python3 run.py test   [pytest options]     run the tests

Each creates ./.venv on first use and reinstalls into it whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"


def ensure_venv() -> Path:
    """Create or refresh the virtual environment; returns its bin directory."""
    if sys.version_info < (3, 11):  # noqa: UP036 — this file runs under whatever python3 a newcomer has
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]})")
    bin_dir = VENV / "bin"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and (bin_dir / "duban").exists():
        return bin_dir
    if not (bin_dir / "python").exists():
        print("creating .venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print("installing the platform and its test tools into .venv (first run takes a minute) ...", flush=True)
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)
    return bin_dir


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("up", "test"):
        sys.exit(__doc__)
    bin_dir = ensure_venv()
    os.chdir(ROOT)
    # argv[0] must be the full path: Python finds its venv from it, not from the file it runs.
    if argv[0] == "up":
        os.execv(bin_dir / "duban", [str(bin_dir / "duban"), "up", *argv[1:]])
    os.execv(bin_dir / "python", [str(bin_dir / "python"), "-m", "pytest", *argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
