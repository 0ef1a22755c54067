"""Build the whole warehouse from a drop, without the UI.

    python -m dagster_project.build --drop /path/to/export --warehouse /path/to/wh.duckdb

Runs the `build_warehouse` job, then `train_models`, in this process against the
warehouse's own Dagster instance (`<warehouse>.state/dagster`; `make ui WAREHOUSE=...`
shows its runs). A drop unchanged since the last successful build is not rebuilt, and
models already trained on the current warehouse are not retrained (`--full-rebuild` forces
both). Exit status: 0 built (or up to date), 1 the build failed (the reason is printed),
2 a setting or argument is wrong, 3 another build of the same warehouse is running.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import yaml

from .report import latest_report
from .serving.cli import serving_line, warehouse_lock_holder
from .settings import Settings, SettingsError
from .state import WarehouseBusy, build_lock, instance_home

EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drop", help="export drop folder (default: SHOP_DROP_DIR)")
    parser.add_argument("--warehouse", help="DuckDB file (default: SHOP_WAREHOUSE_PATH)")
    parser.add_argument("--only", choices=["warehouse", "models"],
                        help="build only the warehouse (load, dbt, checks) or only the ML "
                             "models on an existing warehouse (default: everything)")
    parser.add_argument("--run-config", type=Path,
                        help="YAML run config merged into both jobs, e.g. ops: {demand_forecast:"
                             " {config: {num_boost_round: 50}}}")
    parser.add_argument("--full-rebuild", action="store_true",
                        help="rebuild every dbt model and retrain the models even when "
                             "nothing changed")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.drop:
            settings = replace(settings, drop_dir=str(Path(args.drop).resolve()))
        settings = settings.for_warehouse(args.warehouse)
        extra = _read_run_config(args.run_config) if args.run_config else {}
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.only != "models" and not Path(settings.drop_dir).is_dir():
        print(f"error: drop folder {settings.drop_dir} does not exist (make sample generates "
              f"one; --drop or SHOP_DROP_DIR points at a shop's export)", file=sys.stderr)
        return EXIT_USAGE
    try:
        with build_lock(settings.warehouse_path):
            return _build(settings, args, extra)
    except WarehouseBusy as exc:
        print(f"error: another build of {settings.warehouse_path} is running ({exc}); wait for "
              f"it to finish or stop it", file=sys.stderr)
        return EXIT_BUSY


def _read_run_config(path: Path) -> dict:
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"--run-config {path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(config, dict):
        raise SettingsError(f"--run-config {path}: expected a mapping such as ops: {{...}}")
    return config


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (_merge(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def _build(settings: Settings, args, extra: dict) -> int:
    home = instance_home(settings.warehouse_path)
    os.environ["DAGSTER_HOME"] = str(home)  # the UI of this warehouse reads the same runs
    from dagster import DagsterInstance

    if args.only == "warehouse":  # no ML code imported: it is not run
        from .warehouse_definitions import warehouse_definitions

        defs = warehouse_definitions(settings)
    else:
        from .definitions import build_definitions

        defs = build_definitions(settings)
    instance = DagsterInstance.from_config(str(home))
    try:
        return _run_jobs(settings, args, extra, defs, instance, home)
    finally:
        instance.dispose()


def _run_jobs(settings: Settings, args, extra: dict, defs, instance, home: Path) -> int:
    from dagster import DagsterRunStatus, validate_run_config
    from dagster._core.errors import DagsterInvalidConfigError

    from .automation import CLI_TAG, DROP_TAG, INPUTS_TAG, build_inputs, latest_run, up_to_date
    print(f"Building {settings.warehouse_path}\n  from drop {settings.drop_dir}\n"
          f"  runs in {home}")
    locked = warehouse_lock_holder(settings.warehouse_path, settings.serving_path)
    if locked:
        print(locked, file=sys.stderr)
        return EXIT_FAILED
    started = time.perf_counter()
    inputs = build_inputs(settings, settings.drop_dir)
    # Current: the newest build succeeded from these inputs (a deleted warehouse file is
    # rebuilt whatever its history says).
    built = up_to_date(instance, settings, inputs)
    trained = latest_run(instance, "train_models")
    jobs = []
    if args.only != "models":
        if built and not args.full_rebuild:
            print(f"build_warehouse: up to date, nothing changed since run "
                  f"{built.dagster_run.run_id[:8]} "
                  f"(same drop files, settings and dbt project); --full-rebuild forces it")
        else:
            jobs.append("build_warehouse")
    if args.only != "warehouse":
        current = (trained and built and trained.dagster_run.status == DagsterRunStatus.SUCCESS
                   and trained.create_timestamp > built.create_timestamp)
        if current and not jobs and not args.full_rebuild:
            print(f"train_models: up to date, trained in run "
                  f"{trained.dagster_run.run_id[:8]} on the current warehouse; "
                  f"--full-rebuild retrains")
        else:
            jobs.append("train_models")
    base = {"loggers": {"console": {"config": {"log_level": "INFO"}}},
            "ops": {"raw_exports": {"config": {"drop_dir": settings.drop_dir}}}}
    if args.full_rebuild:
        base["ops"]["shop_dbt_models"] = {"config": {"full_rebuild": True}}
    configs = {}
    for name in jobs:  # every job's config is checked before any work starts
        job = defs.resolve_job_def(name)
        run_config = _merge(base, extra)
        run_config["ops"] = {op: cfg for op, cfg in run_config.get("ops", {}).items()
                             if job.graph.has_node_named(op)}
        try:
            validate_run_config(job, run_config)
        except DagsterInvalidConfigError as exc:
            problems = "; ".join(error.message for error in exc.errors)
            print(f"error: run config of {name}: {problems}", file=sys.stderr)
            return EXIT_USAGE
        configs[name] = run_config
    results = []
    for name, run_config in configs.items():
        job = defs.resolve_job_def(name)
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False,
            tags={DROP_TAG: settings.drop_dir, INPUTS_TAG: inputs, CLI_TAG: "cli",
                  "shop/warehouse": settings.warehouse_path})
        seconds = time.perf_counter() - started
        if not result.success:
            for line in failure_lines(result, settings):
                print(line, file=sys.stderr)
            print(f"{name} failed after {seconds:.0f} s (run {result.run_id}).", file=sys.stderr)
            return EXIT_FAILED
        print(f"{name} done after {seconds:.0f} s (run {result.run_id[:8]}).")
        results.append(result)
    print(summary(settings.warehouse_path, model_notes(results)))
    print(f"Done in {time.perf_counter() - started:.0f} s. Warehouse: {settings.warehouse_path}")
    print(f"KPI report: {latest_report(settings.report_dir) or 'none yet (make report)'}")
    print(serving_line(settings.serving_path))
    return 0


def _root_message(error) -> str:
    """The innermost cause of a step failure, e.g. DuckDB's lock error, not Dagster's
    "Error occurred while executing op"."""
    while error is not None and (error.cause or error.context) is not None:
        error = error.cause or error.context
    lines = error.message.strip().splitlines() if error else []
    return lines[0] if lines else "unknown error"


def failure_lines(result, settings: Settings) -> list[str]:
    """One line per reason a run stopped: failed blocking checks with their rule, column,
    share and count against the limit and the file and lines of the first offending rows;
    then failed steps with their root cause."""
    from dagster import AssetCheckSeverity, DagsterEventType

    lines = []
    for event in result.all_events:
        if event.event_type != DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        check = event.event_specific_data
        if check.passed or check.severity != AssetCheckSeverity.ERROR:
            continue
        asset = "/".join(check.asset_key.path)
        details = check.metadata.get("failed_details")
        outcomes = [o for o in (details.value if details else [])
                    if o.get("severity") == "error"]
        for o in outcomes or [{}]:
            lines.append(f"CHECK FAILED {asset}: " + _outcome_text(o, settings))
    for event in result.all_events:
        if event.is_step_failure:
            message = _root_message(event.event_specific_data.error)
            if "DagsterAssetCheckFailedError" not in message or not lines:
                lines.append(f"FAILED {event.step_key}: {message}")
    return lines


def _outcome_text(outcome: dict, settings: Settings) -> str:
    if not outcome:
        return "failed (see the check's metadata in the UI)"
    text = f"rule '{outcome.get('rule')}'"
    if outcome.get("column"):
        text += f" (column {outcome['column'].split('__')[0]})"
    if outcome.get("unexpected_count") is not None:
        text += (f": {outcome['unexpected_count']:,} rows "
                 f"({outcome.get('unexpected_percent') or 0:.1f}%) break it, over the limit of "
                 f"{settings.quarantine_limit:.0%} or {settings.quarantine_min_rows} rows "
                 f"(SHOP_QUARANTINE_LIMIT, SHOP_QUARANTINE_MIN_ROWS)")
    elif outcome.get("observed_value") is not None:
        text += f": observed {outcome['observed_value']}"
    rows = [s for s in outcome.get("sample") or [] if isinstance(s, dict)]
    if rows and all(s.get("_source_file") for s in rows):
        where = ", ".join(f"{s['_source_file']}:{s.get('_source_line')}" for s in rows)
        text += f"; first offending rows: {where}"
    elif rows:
        text += f"; first offending rows: {json.dumps(rows, ensure_ascii=False)[:200]}"
    return text


def model_notes(results) -> dict[str, str]:
    """Per ml asset of these runs: 'trained' or 'skipped: <reason>'."""
    notes = {}
    for result in results:
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            key = "/".join(materialization.asset_key.path)
            if key.startswith("ml/"):
                reason = materialization.metadata.get("skipped_reason")
                notes[key] = f"skipped: {reason.value}" if reason else "trained"
    return notes


def summary(warehouse_path: str, notes: dict[str, str] | None = None) -> str:
    """Row counts of the marts and the load reconciliation, as a short text table."""
    with duckdb.connect(warehouse_path, read_only=True) as con:
        def tables(schema: str) -> list[tuple[str, int]]:
            names = [r[0] for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? "
                "order by table_name", [schema]).fetchall()]
            return [(name, con.execute(f'select count(*) from "{schema}"."{name}"')
                     .fetchone()[0]) for name in names]

        marts, models = tables("marts"), tables("ml")
        recon = con.execute(
            "select entity, raw_row_count, loaded_row_count, quarantined_row_count, "
            "exact_duplicate_count from audit.load_reconciliation order by entity").fetchall()
    lines = ["", "Load (raw = loaded + quarantined + duplicates):"]
    lines += [f"  {e:<20} raw {r or 0:>10,}  loaded {lo or 0:>10,}  quarantined {q or 0:>7,}"
              f"  duplicates {d or 0:>6,}" for e, r, lo, q, d in recon]
    lines += ["", "Marts (schema marts):"]
    lines += [f"  {name:<28} {rows:>12,} rows" for name, rows in marts]
    if models:
        lines += ["", "Forecasts, churn scores and their evaluations (schema ml):"]
        lines += [f"  {name:<28} {rows:>12,} rows" for name, rows in models]
    if notes:
        lines += ["", "Models:"]
        by_note: dict[str, list[str]] = {}
        for key, note in sorted(notes.items()):
            by_note.setdefault(note, []).append(key)
        lines += [f"  {', '.join(keys)}: {note}" for note, keys in by_note.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    status = main()
    # The process ends here without Python's shutdown: it would collect the cyclic garbage
    # of every module a build imported (Dagster, dbt, GX: seconds of each build's end, issue
    # 18), and freezing that garbage instead makes DuckDB's bindings (nanobind) report their
    # live objects as leaked, 40 lines under every build. The build's files are closed by now
    # (DuckDB connections by their `with`, Dagster's storage by `instance.dispose()`); what is
    # left to write is the output streams and the log handlers, flushed here. atexit
    # handlers do not run: nothing of the build may rely on one.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
