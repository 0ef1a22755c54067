"""The Dagster dbt step's invocation (issue 18): what an incremental day leaves to dbt."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project import ledger
from dagster_project.resources import ShopSettings
from dagster_project.state import dbt_target_path
from dagster_project.transform.assets import project_digest
from tests.conftest import run_pipeline, write

pytestmark = pytest.mark.xdist_group("incremental")


def _results(warehouse: Path) -> dict[str, list[str]]:
    """The last dbt invocation's node statuses by resource type (dbt's run_results.json)."""
    run = json.loads((dbt_target_path(str(warehouse)) / "run_results.json").read_text())
    by_type: dict[str, list[str]] = {}
    for result in run["results"]:
        by_type.setdefault(result["unique_id"].split(".", 1)[0], []).append(result["status"])
    return by_type


def _statements(warehouse: Path) -> list[list[str]]:
    """The SQL statements dbt ran, one list per invocation in order (dbt's JSON debug log
    in the warehouse's dbt target folder; dbt rotates it at 10 MB: dbt.log.2, .1, dbt.log)."""
    target = dbt_target_path(str(warehouse))
    logs = sorted(target.glob("dbt.log.*"), key=lambda path: -int(path.suffix[1:]))
    runs: dict[str, list[str]] = {}
    for log in [*logs, target / "dbt.log"]:
        for line in log.read_text().splitlines():
            event = json.loads(line) if line.startswith("{") else None
            if event and event["info"]["name"] == "SQLQuery":
                runs.setdefault(event["info"]["invocation_id"], []).append(event["data"]["sql"])
    return list(runs.values())


def _copy_built(warehouse: Path, to: Path) -> tuple[Path, Path]:
    """A copy of a built warehouse, its state and its drop that looks built where it is now
    (the bookkeeping holds absolute paths, the project digest the warehouse path)."""
    drop, moved, copy = warehouse.parent / "drop", to / "drop", to / "wh.duckdb"
    shutil.copytree(drop, moved, copy_function=os.link)
    shutil.copy(warehouse, copy)
    shutil.copytree(warehouse.with_suffix(".state"), copy.with_suffix(".state"))
    dbt_vars = {"warehouse_path": str(copy), **ShopSettings(drop_dir=str(moved)).dbt_vars()}
    with duckdb.connect(str(copy)) as con:
        for table in ("_files", "_built_files"):
            con.execute(f"update raw.{table} set source_path = replace(source_path, ?, ?)",
                        [str(drop.resolve()), str(moved.resolve())])
        digests = {**ledger.entity_digests(con), ledger.PROJECT_KEY: project_digest(dbt_vars)}
        con.executemany("update raw._dbt_build_state set digest = ? where entity = ?",
                        [(digest, entity) for entity, digest in digests.items()])
    return moved, copy


def test_an_incremental_day_leaves_out_the_unit_tests_the_project_passed(
        tiny_warehouse, tmp_path, capfd):
    """dbt's unit tests check the SQL against fixed inputs: a full build runs them (the
    tiny warehouse's first build ran the project's 12), an append-only day with the same
    project does not, and still runs the data tests of what it rebuilt."""
    first = _results(tiny_warehouse)
    # 2 + 3 + 2 + 3 + 2 cases in the five dbt/models/**/_*_unit_tests.yml
    assert first["unit_test"] == ["pass"] * 12
    drop, warehouse = _copy_built(tiny_warehouse, tmp_path)
    write(drop / "orders-0003.csv", """
order_id,customer_id,ordered_at,status,currency,subtotal_amount,discount_amount,shipping_amount,tax_amount,total_amount,channel_id,updated_at
o20,00003,2026-02-20T09:00:00Z,paid,USD,70,0,0,0,70,CH2,
""")
    result = run_pipeline(drop, warehouse, quarantine_limit=0.5)
    assert result.success
    assert "Incremental build of the append-only facts" in capfd.readouterr().err
    day = _results(warehouse)
    assert "unit_test" not in day
    assert day["model"] and set(day["model"]) == {"success"}
    assert day["test"] and set(day["test"]) <= {"pass", "warn"}
    assert 0 < len(day["test"]) < len(first["test"])

    # DECISIONS 35: only the append-only day deferred DuckDB's checkpoints (on-run-start
    # hook); the full builds of the tiny warehouse kept DuckDB's defaults.
    deferral = "set global auto_checkpoint_skip_wal_threshold"
    *full_builds, day_sql = _statements(warehouse)
    assert full_builds and not any(deferral in sql for run in full_builds for sql in run)
    assert sum(deferral in sql for sql in day_sql) == 1
    assert any("set global checkpoint_threshold = '1TB'" in sql for sql in day_sql)
