"""Build the whole warehouse from a drop, without the UI.

    python -m dagster_project.build --drop /path/to/export --warehouse /path/to/wh.duckdb

Runs the `build_warehouse` job, then `train_models`, in this process against the project's
Dagster instance (DAGSTER_HOME), so the runs and their metadata also show in the UI.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from .serving.cli import serving_line, warehouse_lock_holder
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drop", help="export drop folder (default: SHOP_DROP_DIR)")
    parser.add_argument("--warehouse", help="DuckDB file (default: SHOP_WAREHOUSE_PATH)")
    parser.add_argument("--only", choices=["warehouse", "models"],
                        help="build only the warehouse (load, dbt, checks) or only the ML "
                             "models on an existing warehouse (default: everything)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.drop:
        settings = replace(settings, drop_dir=str(Path(args.drop).resolve()))
    if args.warehouse:
        settings = replace(settings, warehouse_path=str(Path(args.warehouse).resolve()))

    from .definitions import build_definitions

    defs = build_definitions(settings)
    jobs = {"warehouse": ["build_warehouse"], "models": ["train_models"]}.get(
        args.only, ["build_warehouse", "train_models"])
    print(f"Building {settings.warehouse_path}\n  from drop {settings.drop_dir}")
    locked = warehouse_lock_holder(settings.warehouse_path, settings.serving_path)
    if locked:
        print(locked, file=sys.stderr)
        return 1
    started = time.perf_counter()
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    for name in jobs:
        result = defs.resolve_job_def(name).execute_in_process(
            run_config=quiet, instance=instance, raise_on_error=False)
        seconds = time.perf_counter() - started
        if not result.success:
            for event in result.all_events:
                if event.is_step_failure:
                    print(f"FAILED {event.step_key}: {event.event_specific_data.error.message}",
                          file=sys.stderr)
            print(f"{name} failed after {seconds:.0f} s (run {result.run_id}).", file=sys.stderr)
            return 1
        print(f"{name} done after {seconds:.0f} s (run {result.run_id}).")
    print(summary(settings.warehouse_path))
    print(f"Built in {seconds:.0f} s. Warehouse: {settings.warehouse_path}")
    print(serving_line(settings.serving_path))
    return 0


def summary(warehouse_path: str) -> str:
    """Row counts of the marts and the load reconciliation, as a short text table."""
    with duckdb.connect(warehouse_path, read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' "
            "order by table_name").fetchall()]
        marts = [(name, con.execute(f"select count(*) from marts.{name}").fetchall()[0][0])
                 for name in names]
        models = [(name, con.execute(f"select count(*) from ml.{name}").fetchall()[0][0])
                  for (name,) in con.execute(
                      "select table_name from duckdb_tables() where schema_name = 'ml' "
                      "order by table_name").fetchall()]
        recon = con.execute(
            "select entity, raw_row_count, loaded_row_count, quarantined_row_count, "
            "exact_duplicate_count from audit.load_reconciliation order by entity").fetchall()
    lines = ["", "Load (raw = loaded + quarantined + duplicates):"]
    lines += [f"  {e:<20} raw {r:>10,}  loaded {lo:>10,}  quarantined {q:>7,}  duplicates {d:>6,}"
              for e, r, lo, q, d in recon]
    lines += ["", "Marts (schema marts):"]
    lines += [f"  {name:<28} {rows:>12,} rows" for name, rows in marts]
    if models:
        lines += ["", "Forecasts, churn scores and their evaluations (schema ml):"]
        lines += [f"  {name:<28} {rows:>12,} rows" for name, rows in models]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
