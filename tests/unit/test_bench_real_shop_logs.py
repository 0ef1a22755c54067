"""The second log of bench/real_shop.py (lifetimes' simulated example_transactions.csv)
read as the drop writer expects, checked against the file read line by line; the churn
margin over BG/NBD and its bootstrap interval; the do-nothing churn score."""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from bench.real_shop import EXAMPLE, LOGS, auc_margin, do_nothing, main, read_example


def test_the_example_log_keeps_every_purchase_day():
    with EXAMPLE.open() as handle:
        lines = [(row["id"], row["date"][:10]) for row in csv.DictReader(handle)]
    log = read_example()
    assert len(log) == len(lines) == 15273
    assert log["customer_id"].nunique() == len({i for i, _ in lines}) == 5000
    assert set(zip(log["customer_id"], log["order_date"].dt.strftime("%Y-%m-%d"),
                   strict=True)) == {(f"C{int(i):05d}", d) for i, d in lines}
    assert (log["cds"] == 1).all() and (log["dollars"] == 1.0).all()
    assert log["order_date"].min().year == log["order_date"].max().year == 2014
    assert read_example(customers=10)["customer_id"].nunique() == 10


def test_the_auc_margin_and_its_paired_bootstrap_interval():
    rng = np.random.default_rng(5)
    frames = {}
    for cutoff, n in (("a", 300), ("b", 200)):
        churned = rng.random(n) < 0.6
        expected = rng.gamma(1.0, 1.0, n) + (~churned) * 0.5
        frames[cutoff] = pd.DataFrame({
            "customer_id": [f"C{i}" for i in rng.choice(400, n, replace=False)],
            "is_churned": churned, "bgnbd_expected_purchases": expected,
            "lightgbm_probability": -expected + rng.normal(0, 0.3, n) + churned * 0.3})
    margin = auc_margin(frames, iterations=200)
    for cutoff, frame in frames.items():
        by_sklearn = (roc_auc_score(frame["is_churned"], frame["lightgbm_probability"])
                      - roc_auc_score(frame["is_churned"], -frame["bgnbd_expected_purchases"]))
        assert margin[cutoff]["margin"] == pytest.approx(by_sklearn)
        assert margin[cutoff]["low"] < by_sklearn < margin[cutoff]["high"]
    assert margin["mean"]["margin"] == pytest.approx(
        (margin["a"]["margin"] + margin["b"]["margin"]) / 2)
    # A score that ranks as BG/NBD does has no margin in any resample.
    same = {c: f.assign(lightgbm_probability=1 / (1 + f["bgnbd_expected_purchases"]))
            for c, f in frames.items()}
    assert auc_margin(same, iterations=50)["mean"] == {"margin": 0.0, "low": 0.0, "high": 0.0}


def test_the_do_nothing_score_is_the_best_constant():
    labels = np.array([True, False, False, False, True, False, False, False])
    row = do_nothing(pd.DataFrame({"is_churned": labels}), date(2020, 1, 1), 3)
    assert row["churn_share"] == 0.25 and row["roc_auc"] == 0.5
    assert row["brier"] == pytest.approx(brier_score_loss(labels, np.full(8, 0.25)))
    for other in (0.2, 0.3):  # any other constant scores worse
        assert row["brier"] < brier_score_loss(labels, np.full(8, other))


@pytest.mark.parametrize("argv, message", [
    (["--models", "demand,forecast"], "--models takes demand, churn, recommend"),
    (["--models", ","], "--models takes"),
    (["--warehouse", "/nonexistent/wh.duckdb"], "is not a file"),
])
def test_bad_options_are_refused_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_only_the_catalogue_log_runs_the_recommender_by_default():
    assert LOGS["completejourney"].models == ("demand", "churn", "recommend")
    assert LOGS["cdnow"].models == LOGS["lifetimes_example"].models == ("demand", "churn")
