"""A slice of a real shop's order log (CDNOW, shipped with `lifetimes`: the first 1,500
customer ids) as a drop: it loads and reconciles with the log, and the churn model trains
and is evaluated on an order-only shop with BG/NBD fitted before each cutoff."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pytest

from bench.real_shop import read_cdnow, write_drop
from ml import churn
from tests.conftest import query, run_pipeline

pytestmark = pytest.mark.xdist_group("ml")


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    root = tmp_path_factory.mktemp("cdnow")
    log = read_cdnow(customers=1500)
    write_drop(log, root / "drop")
    assert run_pipeline(root / "drop", root / "wh.duckdb").success
    return log, root / "wh.duckdb"


def test_the_drop_reconciles_with_the_log(cdnow):
    log, warehouse = cdnow
    assert log["customer_id"].nunique() == 1500
    orders, units, revenue = query(warehouse, """
        select count(*), sum(units), sum(revenue) from (
            select orders.order_id, sum(items.quantity) as units,
                   any_value(orders.net_revenue_amount)::double as revenue
            from marts.fct_orders as orders join marts.fct_order_items as items using (order_id)
            where orders.is_counted group by 1)""")[0]
    assert orders == len(log)
    assert units == log["cds"].sum()
    assert revenue == pytest.approx(log["dollars"].sum())


def test_churn_on_an_order_only_shop_fits_bgnbd_before_each_cutoff(cdnow):
    log, warehouse = cdnow
    settings = churn.ChurnSettings(num_threads=1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        plan = churn.cutoff_plan(date(1998, 7, 1), settings, churn.first_order_date(con))
        evaluation = churn.evaluate(con, plan, settings, {})
    assert plan.evaluation == date(1998, 4, 2) and len(plan.evaluation_training) == 4
    # Held-out customers: those with an order in the 365 days before the cutoff, by the log.
    recent = log[(log["order_date"] < "1998-04-02") & (log["order_date"] >= "1997-04-02")]
    assert len(evaluation.predictions) == recent["customer_id"].nunique()
    churned = ~evaluation.predictions["customer_id"].isin(
        log.loc[log["order_date"] >= "1998-04-02", "customer_id"])
    np.testing.assert_array_equal(evaluation.predictions["is_churned"], churned)
    metrics = evaluation.metrics.set_index("method")
    assert set(metrics.index) == {"lightgbm", "recency_rule", "bgnbd_expected_purchases"}
    # Trained on four earlier cutoffs and calibrated on them: a ranking better than chance
    # and probabilities at least as good as BG/NBD's (Brier within 0.01 on 1,500 customers).
    assert metrics.loc["lightgbm", "roc_auc"] > 0.7
    assert metrics.loc["lightgbm", "brier"] <= metrics.loc["bgnbd_expected_purchases",
                                                           "brier"] + 0.01
    a, _ = evaluation.model.calibration
    assert a > 0  # Platt scaling keeps the order of the scores
