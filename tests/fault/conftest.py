"""Probes of a hostile-but-realistic user, run through the build CLI like a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build(drop: Path, warehouse: Path, *extra: str) -> subprocess.CompletedProcess:
    """`python -m dagster_project.build --only warehouse` on a drop, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.build", "--drop", str(drop),
         "--warehouse", str(warehouse), "--only", "warehouse", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    """stderr without the native bindings' shutdown noise."""
    return [line for line in result.stderr.splitlines()
            if line.strip() and "leaked" not in line and "nanobind" not in line
            and "skipped remainder" not in line]
