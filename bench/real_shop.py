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

Usage: python -m bench.real_shop [--log cdnow|lifetimes_example] [--customers N]
       [--out /tmp/cdnow] [--threads 1]
Writes <out>/results.json and prints a Markdown table of the results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import lifetimes
import numpy as np
import pandas as pd

from ml import churn, demand, demand_eval
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


LOGS = {"cdnow": (read_cdnow, CHURN_CUTOFFS), "lifetimes_example": (read_example,
                                                                    EXAMPLE_CUTOFFS)}


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
    return rows, auc_margin(predictions)


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


def demand_results(warehouse: Path, threads: int, name: str = "cdnow") -> list[dict]:
    settings = demand.DemandSettings(num_threads=threads, max_train_rows=40_000,
                                     num_boost_round=80)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        history = load_history(con)
    result = demand.backtest(history, settings)
    overall = result.metrics[result.metrics["density_class"] == "all"]
    keep = ["forecast_origin", "method", "wrmsse", "wrmsse_product", "wape", "bias",
            "p10_p90_coverage"]
    return [{**row, "headline": None} for row in overall[keep].to_dict("records")] + [
        {"headline": demand_eval.headline(f"on {name}", result.metrics),
         "blends": {origin: {c: vars(b) for c, b in chosen.items()}
                    for origin, chosen in result.blends.items()}}]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.real_shop")
    parser.add_argument("--log", choices=sorted(LOGS), default="cdnow")
    parser.add_argument("--customers", type=int, help="first N customer ids only")
    parser.add_argument("--out", type=Path, default=Path("/tmp/cdnow"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    reader, cutoffs = LOGS[args.log]
    log = reader(args.customers)
    drop = write_drop(log, args.out / "drop")
    warehouse = args.out / "wh.duckdb"
    build_warehouse(drop, warehouse)
    results = {"data": {"log": args.log, "customers": int(log["customer_id"].nunique()),
                        "orders": len(log),
                        "first": str(log["order_date"].min().date()),
                        "last": str(log["order_date"].max().date())},
               "demand": demand_results(warehouse, args.threads, args.log)}
    results["churn"], results["churn_auc_margin"] = churn_results(warehouse, args.threads,
                                                                   cutoffs)
    results["seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    frame = pd.DataFrame(results["churn"])
    print(frame.pivot(index="cutoff_date", columns="method", values="roc_auc").round(3)
          .to_markdown())
    print(frame.pivot(index="cutoff_date", columns="method", values="brier").round(3)
          .to_markdown())
    print(pd.DataFrame(results["churn_auc_margin"]).T.round(4).to_markdown())
    print(results["demand"][-1]["headline"])
    print(json.dumps(results["data"]), f"{results['seconds']} s")


if __name__ == "__main__":
    main()
