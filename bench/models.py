"""Time the model run (the `ml` assets) on an existing warehouse, step by step, and record
each model's own held-out evaluation, so a speed-up can be checked against quality.

    python -m bench.models --warehouse data/s1.duckdb --out data/bench-models
    python -m bench.models --warehouse data/s1.duckdb --out data/bench-models \\
        --baseline <folder with another checkout's ml/ and dagster_project/>

Each run materialises the demand forecast (backtest + forecast), reorder alerts, churn
model, recommendations and campaign audiences in-process with their default run config
(as `python -m dagster_project.build --only models` does, without the KPI report and the
serving copy, which are not models), in a child process so peak memory is its own. With
`--baseline`, that code runs first and this checkout right after it on the same warehouse
(the CPU is shared: compare the two in one run, as ratios, and compare CPU seconds, which
other processes move far less than wall seconds). Writes `<out>/<label>.json` (wall and
CPU seconds per asset, peak RSS, metrics) and `<out>/<label>/<table>.parquet` (the ml tables,
to diff two runs), and prints a comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS = ("demand_forecast", "inventory_reorder_alerts", "churn_model", "recommendations",
          "campaign_audiences")
TABLES = ("demand_backtest_metrics", "churn_evaluation_metrics", "recommendation_evaluation",
          "fct_demand_forecast", "customer_churn_scores", "customer_recommendations",
          "campaign_audiences", "inventory_reorder_alerts")


def _worker(warehouse: str, code: str | None, out: Path, label: str) -> dict:
    """Materialise the ml assets with the code in `code` (default: this checkout)."""
    if code:
        sys.path.insert(0, code)
    import duckdb
    from dagster import DagsterEventType, DagsterInstance, materialize

    from dagster_project.ml import assets as ml_assets
    from dagster_project.ml import recommend_assets
    from dagster_project.resources import ModelStore, WarehouseResource
    from ml.warehouse import table_exists

    here = Path(ml_assets.__file__).resolve()
    expected = Path(code).resolve() if code else PROJECT_ROOT
    if not here.is_relative_to(expected):
        raise RuntimeError(f"imported {here}, expected code under {expected}")
    definitions = [ml_assets.demand_forecast, ml_assets.inventory_reorder_alerts,
                   ml_assets.churn_model, recommend_assets.recommendations,
                   recommend_assets.campaign_audiences]
    instance = DagsterInstance.ephemeral()
    with tempfile.TemporaryDirectory() as models, _cpu_clock() as clock:
        started = time.perf_counter()
        result = materialize(definitions, instance=instance, resources={
            "warehouse": WarehouseResource(path=warehouse),
            "models": ModelStore(models_dir=models)}, raise_on_error=False)
        total = time.perf_counter() - started
    if not result.success:
        raise RuntimeError(f"{label}: the model run failed")
    seconds = {event.step_key: round(event.event_specific_data.duration_ms / 1000, 2)
               for event in result.all_events
               if event.event_type == DagsterEventType.STEP_SUCCESS}
    # CPU seconds of the process (all its threads) from each step's start to its success:
    # on a shared machine they compare across runs where wall seconds do not.
    bounds: dict[str, dict] = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is not None and event.event_type in (DagsterEventType.STEP_START,
                                                      DagsterEventType.STEP_SUCCESS):
            bounds.setdefault(event.step_key, {})[event.event_type] = entry.timestamp
    cpu_seconds = {step: round(clock(ends[DagsterEventType.STEP_SUCCESS])
                               - clock(ends[DagsterEventType.STEP_START]), 2)
                   for step, ends in bounds.items() if len(ends) == 2}
    tables = out / label
    tables.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(warehouse, read_only=True) as con:
        # A model the shop's data cannot train yet (e.g. churn on months of history) is
        # skipped by its asset and writes no table: it is left out here too.
        written = {table for table in TABLES if table_exists(con, table)}
        for table in TABLES:
            if table in written:
                con.table(f"ml.{table}").write_parquet(str(tables / f"{table}.parquet"))
        metrics = _metrics(con, written)
    return {"label": label, "code": str(expected), "total_seconds": round(total, 2),
            "seconds": seconds, "cpu_seconds": cpu_seconds,
            "total_cpu_seconds": round(sum(cpu_seconds.values()), 2), "metrics": metrics}


@contextmanager
def _cpu_clock(interval: float = 0.1):
    """A function of a wall-clock time (time.time()) giving the process's CPU seconds then,
    interpolated between samples taken every `interval` seconds while the block runs."""
    samples = [(time.time(), time.process_time())]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            samples.append((time.time(), time.process_time()))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield lambda at: float(np.interp(at, *zip(*samples, strict=True)))
    finally:
        done.set()
        thread.join()
        samples.append((time.time(), time.process_time()))


def _metrics(con, written: set[str]) -> dict:
    """Each model's own held-out evaluation, as the assets wrote it ([] for a table a
    skipped model did not write)."""
    def records(table: str, sql: str) -> list:
        return con.execute(sql).df().to_dict("records") if table in written else []

    demand = records("demand_backtest_metrics", """
        select density_class, method, wrmsse, wrmsse_product, wrmsse_shop, wrmsse_category,
               pinball_p10, pinball_p50, pinball_p90, p10_p90_coverage, products
        from ml.demand_backtest_metrics where forecast_origin = 'all'
        order by density_class, method""")
    churn = records("churn_evaluation_metrics", "select method, roc_auc, pr_auc, brier from "
                    "ml.churn_evaluation_metrics order by method")
    recommend = records("recommendation_evaluation", "select method, ndcg, hit_rate, recall, "
                        "coverage, customers from ml.recommendation_evaluation order by method")
    sizes = (con.execute("select campaign_type, test_group, count(*) as n from "
                         "ml.campaign_audiences group by all order by all").fetchall()
             if "campaign_audiences" in written else [])
    return {"demand": demand, "churn": churn, "recommendations": recommend,
            "audiences": [list(map(str, r[:2])) + [int(r[2])] for r in sizes]}


def _run(warehouse: str, code: str | None, out: Path, label: str) -> dict:
    """The worker in a child process, with its peak memory."""
    from .measure import measured

    command = [sys.executable, "-m", "bench.models", "--worker", "--warehouse", warehouse,
               "--out", str(out), "--label", label] + (["--code", code] if code else [])
    env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"}
    with measured() as m:
        subprocess.run(command, check=True, cwd=PROJECT_ROOT, env=env)
    result = json.loads((out / f"{label}.json").read_text())
    result["peak_rss_mb"] = m.peak_rss_mb
    (out / f"{label}.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def _summary(result: dict) -> list[str]:
    lines = [f"{result['label']}: {result['total_seconds']:.1f} s, peak RSS "
             f"{result.get('peak_rss_mb', float('nan')):.0f} MB; "
             + ", ".join(f"{k} {v:.1f}" for k, v in result["seconds"].items())]
    if "cpu_seconds" in result:
        lines.append(f"  CPU seconds {result['total_cpu_seconds']:.1f}: " + ", ".join(
            f"{k} {v:.1f}" for k, v in result["cpu_seconds"].items()))
    m = result["metrics"]
    demand = {(r["density_class"], r["method"]): r for r in m["demand"]}
    for cls in ("all", "dense", "intermittent", "lumpy"):
        if (cls, "lightgbm_mean") not in demand:
            continue
        rows = {meth: demand[(c, meth)] for c, meth in demand if c == cls}
        best = min((meth for meth in rows if meth not in ("lightgbm_mean", "lightgbm_p50")),
                   key=lambda meth: rows[meth]["wrmsse"])
        p50 = rows["lightgbm_p50"]
        lines.append(f"  demand {cls:<12} WRMSSE {rows['lightgbm_mean']['wrmsse']:.4f} "
                     f"(product {rows['lightgbm_mean']['wrmsse_product']:.4f}) vs {best} "
                     f"{rows[best]['wrmsse']:.4f}; pinball p10/p50/p90 "
                     f"{p50['pinball_p10']:.4f}/{p50['pinball_p50']:.4f}/"
                     f"{p50['pinball_p90']:.4f}; coverage {p50['p10_p90_coverage']:.3f}")
    for r in m["churn"]:
        lines.append(f"  churn {r['method']:<26} AUC {r['roc_auc']:.4f} PR-AUC "
                     f"{r['pr_auc']:.4f} Brier {r['brier']:.4f}")
    for r in m["recommendations"]:
        lines.append(f"  recommend {r['method']:<18} NDCG@10 {r['ndcg']:.4f} hit "
                     f"{r['hit_rate']:.4f} recall {r['recall']:.4f} coverage "
                     f"{r['coverage']:.4f} ({r['customers']} customers)")
    lines.append(f"  audiences {m['audiences']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--baseline", help="folder holding another checkout's code")
    parser.add_argument("--label", default="current")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    warehouse = str(Path(args.warehouse).resolve())
    if args.worker:
        result = _worker(warehouse, args.code, args.out, args.label)
        (args.out / f"{args.label}.json").write_text(json.dumps(result, indent=2, default=str))
        return 0
    runs = []
    if args.baseline:
        runs.append(_run(warehouse, str(Path(args.baseline).resolve()), args.out, "baseline"))
    runs.append(_run(warehouse, None, args.out, args.label))
    for result in runs:
        print("\n".join(_summary(result)))
    if len(runs) == 2:
        before, after = runs
        print("ratio after/before: total "
              f"{after['total_seconds'] / before['total_seconds']:.3f}; " + ", ".join(
                  f"{k} {after['seconds'][k] / before['seconds'][k]:.3f}"
                  for k in after["seconds"] if before["seconds"].get(k)))
        if before.get("cpu_seconds") and after.get("cpu_seconds"):
            print("CPU ratio after/before: total "
                  f"{after['total_cpu_seconds'] / before['total_cpu_seconds']:.3f}; "
                  + ", ".join(f"{k} {after['cpu_seconds'][k] / before['cpu_seconds'][k]:.3f}"
                              for k in after["cpu_seconds"] if before["cpu_seconds"].get(k)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
