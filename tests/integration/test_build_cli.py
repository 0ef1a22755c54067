"""The build command line as a data engineer meets it: why a build stopped, bad settings,
a second build of the same warehouse, a killed build, and two warehouses side by side."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance

from dagster_project.settings import PROJECT_ROOT
from dagster_project.state import build_lock, instance_home, state_dir
from tests.conftest import query, write_required_entities

pytestmark = pytest.mark.xdist_group("build_cli")


def command(drop: Path, warehouse: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dagster_project.build", "--drop", str(drop),
            "--warehouse", str(warehouse), "--only", "warehouse", *args]


def run(drop: Path, warehouse: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(drop, warehouse, *args), cwd=PROJECT_ROOT, text=True,
                          capture_output=True, timeout=600, env={**os.environ, **env})


def test_a_failed_check_names_the_rule_the_share_and_the_rows(tmp_path):
    drop = tmp_path / "drop"
    write_required_entities(drop)
    with (drop / "orders-0002.csv").open("a") as fh:  # 12 more orders without a valid time
        fh.writelines(f"b{i},00001,not-a-date,delivered,USD,10,0,0,0,10,CH1,\n"
                      for i in range(12))
    result = run(drop, tmp_path / "wh.duckdb")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("CHECK FAILED")]
    # o6 ('yesterday') and the 12 new rows: 13 of 23 rows, over 5% and over 10 rows.
    assert lines == [
        "CHECK FAILED raw/orders: rule 'ordered_at is an ISO 8601 timestamp' (column "
        "ordered_at): 13 rows (56.5%) break it, over the limit of 5% or 10 rows "
        "(SHOP_QUARANTINE_LIMIT, SHOP_QUARANTINE_MIN_ROWS); first offending rows: "
        "orders-0001.csv:7, orders-0002.csv:6, orders-0002.csv:7, orders-0002.csv:8, "
        "orders-0002.csv:9"]
    assert "Traceback" not in result.stderr


def test_a_bad_setting_fails_before_any_work_with_one_line(tmp_path):
    write_required_entities(tmp_path / "drop")
    result = run(tmp_path / "drop", tmp_path / "wh.duckdb",
                 SHOP_TIMEZONE="UTC'; drop table x; --")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: SHOP_TIMEZONE=\"UTC'; drop table x; --\": not an IANA time zone name "
        "(e.g. UTC, Europe/Berlin, Asia/Shanghai)"]
    assert not (tmp_path / "wh.duckdb").exists() and not state_dir(tmp_path / "wh.duckdb").exists()


def test_a_second_build_of_the_same_warehouse_fails_at_once(tmp_path):
    write_required_entities(tmp_path / "drop")
    warehouse = tmp_path / "wh.duckdb"
    with build_lock(warehouse):
        started = time.monotonic()
        result = run(tmp_path / "drop", warehouse)
    assert result.returncode == 3
    assert time.monotonic() - started < 60  # at once: no waiting for the holder
    assert f"another build of {warehouse} is running" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr


def test_a_build_killed_with_sigkill_does_not_block_the_next(tmp_path):
    drop, warehouse = tmp_path / "drop", tmp_path / "wh.duckdb"
    write_required_entities(drop)
    victim = subprocess.Popen(command(drop, warehouse), cwd=PROJECT_ROOT, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    lock = state_dir(warehouse) / "write.lock"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and victim.poll() is None:
        holder = lock.read_text() if lock.exists() else ""
        if holder and json.loads(holder).get("pid") == victim.pid and _held(lock):
            break  # killed while it holds the warehouse's writer lock
        time.sleep(0.05)
    assert victim.poll() is None, "the build ended before it could be killed"
    os.killpg(victim.pid, signal.SIGKILL)  # the build and its dbt child, as kill -9 would
    victim.wait(timeout=60)
    result = run(drop, warehouse)
    assert result.returncode == 0, result.stderr[-2000:]
    assert query(warehouse, "select count(*) from marts.customers") == [(3,)]


def _held(lock: Path) -> bool:
    """Whether another process holds the flock now (the file keeps its last holder's pid)."""
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def test_two_warehouses_build_side_by_side_with_their_own_history(tmp_path):
    write_required_entities(tmp_path / "drop")
    first, second = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    processes = [subprocess.Popen(command(tmp_path / "drop", path), cwd=PROJECT_ROOT,
                                  text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for path in (first, second)]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    for out, err in outputs:  # the process ended cleanly: its summary, no teardown noise
        assert "Serving copy for BI tools:" in out.splitlines()[-1]
        assert "leaked" not in err and "Traceback" not in err, err[-2000:]
    for path in (first, second):
        instance = DagsterInstance.from_config(str(instance_home(path)))
        runs = instance.get_runs()
        assert [r.job_name for r in runs] == ["build_warehouse"]
        assert runs[0].tags["shop/warehouse"] == str(path)
        assert query(path, "select count(*) from marts.customers") == [(3,)]
