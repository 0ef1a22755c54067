"""`make bench`: measure the pipeline per stage and against the engine's own limit.

Writes bench/results/<date>.json and <date>.md. Usage:
    python -m bench.run [--scales 0.1 1] [--out bench/results]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

from contract import ENTITIES
from contract.sql import literal
from dagster_project.ingest.load import load_entity
from dagster_project.privacy.zone import after_load
from dagster_project.report import render
from dagster_project.serving.publish import publish
from dagster_project.settings import PROJECT_ROOT, Settings, default_serving_path
from dagster_project.state import dbt_target_path, instance_home
from expectations.runner import run_suites
from expectations.suites import published_suites, rated_currencies, raw_suite
from ml import recommend
from sample_data import Config, generate

from .engine import connect, run_compiled_models
from .measure import measured

DBT = str(Path(sys.executable).with_name("dbt"))
DBT_DIR = PROJECT_ROOT / "dbt"


def _dbt(args: list[str], warehouse: str, target_path: Path) -> None:
    cmd = [DBT, *args, "--profiles-dir", str(DBT_DIR), "--target-path", str(target_path),
           "--vars", json.dumps({"warehouse_path": warehouse}), "--quiet"]
    subprocess.run(cmd, cwd=DBT_DIR, check=True)


def bench_scale(scale: float, work: Path, log=print, reuse_drop: Path | None = None,
                models: bool = True) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    drop, warehouse = work / "drop", str(work / "warehouse.duckdb")
    target = work / "dbt_target"
    out: dict = {"scale": scale}

    if reuse_drop is not None:
        # A drop the generator already wrote with the same scale and seed: copied (hard
        # links, same modification times), and the generate stage is not measured.
        shutil.rmtree(drop, ignore_errors=True)
        shutil.copytree(reuse_drop, drop, copy_function=os.link)
        truth = json.loads((drop / "_truth.json").read_text())
        config = truth.get("config", {})
        if (config.get("scale"), config.get("seed")) != (scale, 7):
            raise SystemExit(f"{reuse_drop}: not a drop of scale {scale} and seed 7")
        raw_rows = sum(e["rows"] for e in truth["entities"].values())
        log(f"  scale {scale}: reused {reuse_drop} ({raw_rows:,} rows)")
    else:
        with measured() as m:
            truth = generate(Config(scale=scale, seed=7), drop, log=lambda _: None)
        raw_rows = sum(e["rows"] for e in truth["entities"].values())
        out["generate"] = _stage(m, raw_rows)
        log(f"  scale {scale}: generated {raw_rows:,} rows in {m.seconds:.1f} s")

    Path(warehouse).unlink(missing_ok=True)
    with measured() as m, connect(warehouse) as con:
        for entity in ENTITIES:
            load_entity(con, drop, entity, "bench")
            after_load(con, entity, warehouse_path=warehouse)  # pseudonyms, suppression
    out["load"] = _stage(m, raw_rows)
    log(f"  load {m.seconds:.1f} s")

    with measured(children_only=True) as m:
        _dbt(["build"], warehouse, target)
    out["dbt_build"] = {**_stage(m, raw_rows), "slowest_nodes": slowest_nodes(target)}
    log(f"  dbt build (models + tests, no Dagster) {m.seconds:.1f} s")

    with measured(children_only=True) as m:
        _dbt(["run"], warehouse, target)
    out["dbt_run_models_only"] = _stage(m, raw_rows)

    with measured() as m, connect(warehouse) as con:
        rated = rated_currencies(con)
        # The build's default settings; freshness is off (the generated shop's last day is
        # fixed, the bench can run any day).
        suites = [raw_suite(e, quarantine_limit=Settings.quarantine_limit,
                            freshness_days=10_000, base_currency=Settings.base_currency,
                            rated_currencies=rated,
                            quarantine_min_rows=Settings.quarantine_min_rows) for e in ENTITIES]
        suites += published_suites(quarantine_limit=Settings.quarantine_limit,
                                   quarantine_min_rows=Settings.quarantine_min_rows)
        run_suites(con, suites)
    out["quality_checks"] = {**_stage(m, raw_rows), "suites": len(suites)}
    log(f"  quality checks ({len(suites)} GX suites) {m.seconds:.1f} s")

    _dbt(["compile"], warehouse, target)
    with measured() as m:
        model_count = run_compiled_models(target / "manifest.json", warehouse)
    out["engine_compiled_sql"] = {**_stage(m, raw_rows), "models": model_count}
    log(f"  compiled SQL straight in DuckDB {m.seconds:.1f} s")

    env = {**os.environ, "SHOP_DROP_DIR": str(drop), "SHOP_WAREHOUSE_PATH": warehouse,
           "SHOP_MODELS_DIR": str(work / "models")}
    Path(warehouse).unlink()  # a full build from the files, not a rebuild of unchanged ones
    with measured(children_only=True) as m:
        _build(env, "warehouse")
    out["dagster_full_materialisation"] = _stage(m, raw_rows)
    log(f"  full Dagster materialisation (load + checks + dbt build) {m.seconds:.1f} s")

    if models:
        _models(out, env, warehouse, work, raw_rows, log)
    else:
        out["total"] = out["dagster_full_materialisation"]

    # The Dagster runs above end by publishing the serving copy; timed alone here, with
    # the ml tables in it (its largest form).
    with measured() as m:
        publication = publish(warehouse, default_serving_path(warehouse), run_id="bench")
    out["serving_publish"] = {**_stage(m, raw_rows), "tables": len(publication.tables),
                              "file_mb": round(publication.file_bytes / 2**20, 1)}
    log(f"  serving copy ({len(publication.tables)} tables, "
        f"{publication.file_bytes / 2**20:.0f} MB) {m.seconds:.1f} s")

    added = add_one_day(drop)
    with measured(children_only=True) as m:
        _build(env, "warehouse")
    ended = time.time()  # the command's end, and its start m.seconds before
    # The day's dbt step (the build keeps dbt's target folder beside the warehouse).
    day_target = dbt_target_path(warehouse)
    out["incremental_day"] = {**_stage(m, raw_rows), "orders_added": added,
                              "dbt_seconds": dbt_seconds(day_target),
                              "slowest_nodes": slowest_nodes(day_target),
                              "phases": run_phases(warehouse, ended - m.seconds, ended)}
    log(f"  rebuild after adding one day ({added} orders) {m.seconds:.1f} s")
    _ratios(out)
    out["raw_rows"] = raw_rows
    shutil.rmtree(target, ignore_errors=True)
    return out


def _models(out: dict, env: dict, warehouse: str, work: Path, raw_rows: int, log) -> None:
    with measured(children_only=True) as m:
        _build(env, "models")
    out["model_training"] = _stage(m, raw_rows)
    log(f"  ML assets (demand backtest + forecast, churn model + scores) {m.seconds:.1f} s")
    with measured() as m:
        rendered = render(warehouse, work / "report_bench")
    out["report"] = {**_stage(m, raw_rows), "charts": rendered.charts,
                     "html_mb": round(rendered.size_bytes / 1e6, 2)}
    log(f"  KPI report ({rendered.charts} charts, {rendered.size_bytes / 1e6:.1f} MB) "
        f"{m.seconds:.1f} s")
    # Training and scoring of the recommender alone (it also runs inside model_training).
    with measured() as m, connect(warehouse, read_only=True) as con:
        recommended = recommend.run(con, recommend.RecommendSettings(), log=lambda _: None)
    ndcg = recommended.metrics.set_index("method")["ndcg"]
    out["recommendations"] = {**_stage(m, raw_rows),
                              "customers": int(recommended.recommendations["customer_id"]
                                               .nunique()),
                              "ndcg_at_10": round(float(ndcg["item_cf_blend"]), 4),
                              "ndcg_at_10_popularity": round(float(ndcg["popularity"]), 4)}
    log(f"  recommendations (evaluate, refit, score) {m.seconds:.1f} s")
    trained = out["model_training"]["seconds"]
    out["total"] = {
        "seconds": round(out["dagster_full_materialisation"]["seconds"] + trained, 2),
        "rows_per_second": round(raw_rows / (out["dagster_full_materialisation"]["seconds"]
                                             + trained)),
        "peak_rss_mb": max(out["dagster_full_materialisation"]["peak_rss_mb"],
                           out["model_training"]["peak_rss_mb"])}


def _ratios(out: dict) -> None:
    engine = out["engine_compiled_sql"]["seconds"]
    full = out["dagster_full_materialisation"]["seconds"]
    out["ratios"] = {
        "dagster_over_engine": round(full / engine, 2),
        # The Dagster run also loads the drop: compare it with load + engine as well.
        "dagster_over_load_plus_engine": round(full / (engine + out["load"]["seconds"]), 2),
        "dbt_build_over_engine": round(out["dbt_build"]["seconds"] / engine, 2),
        "dbt_run_over_engine": round(out["dbt_run_models_only"]["seconds"] / engine, 2),
        # Issue 3's goal: validation under 20% of the full build.
        "quality_share_of_full_build": round(out["quality_checks"]["seconds"] / full, 3),
        "incremental_day_over_full": round(out["incremental_day"]["seconds"] / full, 2),
        # Issue 13's goal: publishing the serving copy under 10% of the warehouse build.
        "serving_publish_share_of_full_build": round(
            out["serving_publish"]["seconds"] / full, 3),
    }


def _build(env: dict, only: str) -> None:
    """`python -m dagster_project.build --only warehouse|models` in a child process."""
    subprocess.run([sys.executable, "-m", "dagster_project.build", "--only", only], env=env,
                   check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)


def add_one_day(drop: Path) -> int:
    """Append one more day of orders, lines and events (copies of the last day, a day later,
    with new ids) as new split files, the way a shop's export job adds a file. Returns the
    orders added. The drop may hold hard links to a reused drop: a file is unlinked before
    it is written, so the original is never modified."""
    files = sorted(p for p in drop.glob("orders-*.csv") if p.name != "orders-9999.csv")
    orders = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in files],
                       ignore_index=True)
    when = pd.to_datetime(orders["ordered_at"], utc=True, format="ISO8601", errors="coerce")
    last = orders[when.dt.date == when.max().date()].copy()
    last["ordered_at"] = (when[last.index] + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    last["updated_at"] = ""
    old_ids = set(last["order_id"])
    last["order_id"] = last["order_id"] + "-next-day"
    _fresh(drop / "orders-9999.csv")
    last.to_csv(drop / "orders-9999.csv", index=False)
    items = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                       for p in sorted(drop.glob("order_items*.csv"))
                       if p.name != "order_items-9999.csv"], ignore_index=True)
    items = items[items["order_id"].isin(old_ids)].copy()
    items["order_id"] = items["order_id"] + "-next-day"
    _fresh(drop / "order_items-9999.csv")
    items.to_csv(drop / "order_items-9999.csv", index=False)
    add_day_of_events(drop, old_ids)
    return len(last)


def add_day_of_events(drop: Path, copied_orders: set[str]) -> int:
    """A new events-9999.jsonl: the events of the newest day in the last events file, a
    day later, with new event and session ids; a purchase of a copied order points at its
    copy. Returns the events added."""
    files = sorted(p for p in drop.glob("events*.jsonl") if p.name != "events-9999.jsonl")
    if not files:
        return 0
    out = drop / "events-9999.jsonl"
    _fresh(out)
    with connect(":memory:") as con:
        names = list(json.loads(files[-1].open().readline()))
        columns = {name: "VARCHAR" for name in names}
        # Malformed lines (a dirty drop has some) are skipped: the copies are clean.
        con.execute("create table events as select * from read_json(?, columns = ?, "
                    "format = 'newline_delimited', ignore_errors = true)",
                    [str(files[-1]), columns])
        con.execute("create table orders (order_id varchar)")
        con.executemany("insert into orders values (?)", [[o] for o in copied_orders])
        utc = "(try_cast(occurred_at as timestamptz) at time zone 'UTC')"
        shifted = {
            "event_id": "event_id || '-next-day'",
            "occurred_at": f"strftime({utc} + interval 1 day, '%Y-%m-%dT%H:%M:%SZ')",
            "session_id": "session_id || '-next-day'",
            "order_id": "case when order_id in (select order_id from orders) "
                        "then order_id || '-next-day' else order_id end",
        }
        select = ", ".join(f'{shifted.get(n, chr(34) + n + chr(34))} as "{n}"' for n in names)
        con.execute(f"""
            copy (select {select} from events
                  where {utc} >= (select date_trunc('day', max({utc})) from events)
                  order by {utc}, event_id)
            to {literal(str(out))} (format json)""")
        return con.execute("select count(*) from read_json(?, format = 'newline_delimited')",
                           [str(out)]).fetchone()[0]


def _fresh(path: Path) -> None:
    """Unlink `path` so writing it makes a new file, never a write through a hard link."""
    path.unlink(missing_ok=True)


def slowest_nodes(target: Path, count: int = 10) -> list[dict]:
    """The dbt nodes (models and tests) that took longest in the last dbt command."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:count]
    return [{"node": r["unique_id"].split(".", 2)[-1], "seconds": round(r["execution_time"], 2)}
            for r in ranked]


def dbt_seconds(target: Path) -> dict:
    """The last dbt command's own elapsed seconds, and its models' and tests' node seconds
    (summed over dbt's threads)."""
    run = json.loads((target / "run_results.json").read_text())
    nodes = {"model": 0.0, "test": 0.0}
    for result in run["results"]:
        kind = result["unique_id"].split(".", 1)[0]
        if kind in nodes:
            nodes[kind] += result["execution_time"]
    return {"elapsed": round(run["elapsed_time"], 2), "models": round(nodes["model"], 2),
            "tests": round(nodes["test"], 2)}


def run_phases(warehouse: str, started: float, ended: float) -> dict[str, float]:
    """Seconds per phase of the newest `build_warehouse` run of the warehouse, from its
    Dagster event log: `start` (the command's start to its first step: imports,
    definitions, the run's planned events), each step from its start to its end, and `end`
    (the last step's end to the command's exit); `started` and `ended` are the command's
    wall-clock times. Where the time outside dbt goes (issue 18)."""
    from dagster import DagsterEventType, DagsterInstance, RunsFilter

    instance = DagsterInstance.from_config(str(instance_home(warehouse)))
    try:
        runs = instance.get_run_records(RunsFilter(job_name="build_warehouse"), limit=1)
        if not runs:
            return {}
        steps: dict[str, list[float]] = {}
        for record in instance.all_logs(runs[0].dagster_run.run_id, of_type={
                DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
                DagsterEventType.STEP_FAILURE}):
            steps.setdefault(record.step_key, []).append(record.timestamp)
    finally:
        instance.dispose()
    if not steps:
        return {}
    phases = {"start": round(min(t[0] for t in steps.values()) - started, 2)}
    for step, times in sorted(steps.items(), key=lambda item: item[1][0]):
        phases[step] = round(times[-1] - times[0], 2)
    phases["end"] = round(ended - max(t[-1] for t in steps.values()), 2)
    return phases


def _stage(m, rows: int) -> dict:
    return {"seconds": round(m.seconds, 2), "rows_per_second": round(rows / m.seconds),
            "peak_rss_mb": m.peak_rss_mb}


def growth_exponent(small: dict, large: dict, stage: str) -> float:
    """Exponent k in time ~ rows^k between two scales (1 = linear)."""
    return round(math.log(large[stage]["seconds"] / small[stage]["seconds"])
                 / math.log(large["raw_rows"] / small["raw_rows"]), 2)


def markdown(results: dict) -> str:
    stages = ["generate", "load", "dbt_build", "dbt_run_models_only", "quality_checks",
              "engine_compiled_sql", "dagster_full_materialisation", "model_training", "report",
              "recommendations", "serving_publish", "total", "incremental_day"]
    lines = [f"Benchmark {results['date']} on {results['machine']}", "",
             "| scale | stage | seconds | rows/s | peak RSS MB |", "|---|---|---:|---:|---:|"]
    for run in results["runs"]:
        for stage in [stage for stage in stages if stage in run]:
            s = run[stage]
            lines.append(f"| {run['scale']} | {stage} | {s['seconds']} | {s['rows_per_second']:,}"
                         f" | {s['peak_rss_mb']} |")
    lines += ["", "| scale | Dagster / engine | Dagster / (load + engine) | dbt build / engine "
              "| dbt run / engine | quality / full build | one more day / full "
              "| serving publish / full build |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run in results["runs"]:
        r = run["ratios"]
        lines.append(f"| {run['scale']} | {r['dagster_over_engine']} | "
                     f"{r['dagster_over_load_plus_engine']} | {r['dbt_build_over_engine']} | "
                     f"{r['dbt_run_over_engine']} | {r.get('quality_share_of_full_build', '')} | "
                     f"{r.get('incremental_day_over_full', '')} | "
                     f"{r.get('serving_publish_share_of_full_build', '')} |")
    for run in results["runs"]:
        nodes = run["dbt_build"].get("slowest_nodes", [])
        if nodes:
            slowest = ", ".join(f"{n['node']} {n['seconds']} s" for n in nodes)
            lines += ["", f"Ten slowest dbt nodes of `dbt build` at scale {run['scale']}: "
                      f"{slowest}"]
    for run in results["runs"]:
        phases = run.get("incremental_day", {}).get("phases")
        if phases:
            lines += ["", f"One more day at scale {run['scale']}, seconds per phase (Dagster's "
                      "event log): " + ", ".join(f"{name} {sec}" for name, sec in phases.items())]
    if results.get("growth"):
        lines += ["", "Growth exponent (time ~ rows^k): " + ", ".join(
            f"{k} {v}" for k, v in results["growth"].items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "data" / "bench")
    parser.add_argument("--reuse-drops", type=Path, nargs="+", metavar="DROP",
                        help="drops already generated at the scales (same seed), in order: "
                             "the generate stage is skipped")
    parser.add_argument("--no-models", action="store_true",
                        help="skip model training, the report and the recommendations")
    args = parser.parse_args(argv)
    # dbt runs in dbt/: a relative --work would point it at another warehouse path.
    args.work = args.work.resolve()
    if args.reuse_drops and len(args.reuse_drops) != len(args.scales):
        parser.error("--reuse-drops needs one drop per scale")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    results = {"date": date.today().isoformat(), "machine": machine, "runs": []}
    for number, scale in enumerate(args.scales):
        print(f"Benchmark at scale {scale}")
        reuse = args.reuse_drops[number] if args.reuse_drops else None
        results["runs"].append(bench_scale(scale, args.work / f"scale-{scale}", reuse_drop=reuse,
                                           models=not args.no_models))
    if len(results["runs"]) >= 2:
        small, large = results["runs"][0], results["runs"][-1]
        results["growth"] = {s: growth_exponent(small, large, s) for s in
                             ["load", "dbt_build", "dagster_full_materialisation",
                              "model_training", "total"] if s in large}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / results["date"]
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2))
    stem.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))
    print(f"Results: {stem.with_suffix('.json')} and {stem.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
