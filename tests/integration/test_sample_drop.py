"""The generator's dirty sample drop, end to end: reconciliation against `_truth.json`, and
net revenue per channel per month checked against an independent pandas computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_project.sample_data import Config, generate
from tests.conftest import query, run_pipeline

pytestmark = pytest.mark.xdist_group("sample")
COUNTED = {"placed", "paid", "shipped", "delivered"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("sample")
    truth = generate(Config(scale=0.005, seed=11), root / "drop", log=lambda _: None)
    result = run_pipeline(root / "drop", root / "wh.duckdb")
    assert result.success
    return root / "drop", root / "wh.duckdb", truth


def test_every_entity_reconciles_with_the_injected_truth(sample):
    _, warehouse, truth = sample
    recon = {row[0]: row[1:] for row in query(warehouse, """
        select entity, raw_row_count, loaded_row_count, quarantined_row_count,
               exact_duplicate_count, superseded_version_count
        from audit.load_reconciliation""")}
    assert set(recon) == set(truth["entities"])
    for entity, expected in truth["entities"].items():
        raw, loaded, quarantined, duplicates, superseded = recon[entity]
        assert raw == expected["rows"], entity
        assert raw == loaded + quarantined + duplicates, entity
        assert duplicates == expected["exact_duplicates"], entity
        assert superseded == expected["newer_versions"], entity
        reasons = dict(query(warehouse, f"select rejection_reason, count(*) from"
                                        f" staging.stg_shop__{entity}_rejected group by 1"))
        assert reasons == expected["quarantine"], entity


def test_injected_orphans_join_the_unknown_member(sample):
    _, warehouse, truth = sample
    orphans = truth["entities"]["orders"]["orphans"]["customer_id"]
    assert orphans > 0
    # Orders of customers whose own row was quarantined lose their customer too.
    of_quarantined = query(warehouse, """
        select count(*) from marts.fct_orders
        where exported_customer_id in (
            select raw_customer_id from staging.stg_shop__customers_rejected)""")[0][0]
    assert query(warehouse, "select count(*) from marts.fct_orders"
                            " where has_unknown_customer")[0][0] == orphans + of_quarantined


def _read_orders(drop: Path) -> pd.DataFrame:
    frames = []
    for path in sorted(drop.glob("orders*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frames.append(frame.assign(_file=path.name, _line=np.arange(len(frame)) + 2))
    return pd.concat(frames, ignore_index=True)


def _as_of_rates(drop: Path) -> pd.DataFrame:
    fx = pd.read_csv(drop / "fx_rates.csv", dtype=str)
    fx["rate_date"] = pd.to_datetime(fx["rate_date"])
    fx["rate"] = fx["rate_to_base"].astype(float)
    return fx.drop_duplicates(["rate_date", "currency"]).sort_values("rate_date")


def test_channel_revenue_per_month_matches_pandas(sample):
    drop, warehouse, _ = sample
    orders = _read_orders(drop)
    contract = [c for c in orders.columns if not c.startswith("_")]
    orders = orders.drop_duplicates(contract)  # exact duplicates, first copy kept
    when = pd.to_datetime(orders["ordered_at"], utc=True, format="ISO8601", errors="coerce")
    orders["order_day"] = when.dt.tz_localize(None).dt.normalize()
    updated = pd.to_datetime(orders["updated_at"], utc=True, format="ISO8601", errors="coerce")
    orders["updated"] = updated
    money = {c: pd.to_numeric(orders[c].str.replace(",", ""), errors="coerce")
             for c in ["subtotal_amount", "discount_amount", "shipping_amount", "tax_amount",
                       "total_amount"]}
    valid = orders["order_id"].ne("") & orders["customer_id"].ne("") & when.notna()
    valid &= orders["status"].isin(COUNTED | {"cancelled", "returned"})
    for column, parsed in money.items():
        valid &= parsed.notna() | orders[column].eq("")
    valid &= orders["subtotal_amount"].ne("") & orders["total_amount"].ne("")
    valid &= updated.notna() | orders["updated_at"].eq("")
    orders["net"] = money["subtotal_amount"] - money["discount_amount"].fillna(0)
    orders = orders[valid].sort_values("order_day")
    rated = pd.merge_asof(orders, _as_of_rates(drop)[["rate_date", "currency", "rate"]],
                          left_on="order_day", right_on="rate_date", by="currency")
    rated.loc[rated["currency"] == "USD", "rate"] = 1.0
    rated = rated[rated["rate"].notna()]  # currency without a rate: quarantined
    latest = (rated.sort_values(["updated", "_file", "_line"], na_position="first")
              .drop_duplicates("order_id", keep="last"))
    counted = latest[latest["status"].isin(COUNTED)].copy()
    known = set(pd.read_csv(drop / "channels.csv", dtype=str)["channel_id"])
    counted["channel"] = counted["channel_id"].where(counted["channel_id"].isin(known), "-1")
    counted["month"] = counted["order_day"].dt.strftime("%Y-%m")
    expected = (counted.assign(revenue=counted["net"] * counted["rate"])
                .groupby(["channel", "month"])["revenue"].sum())

    got = pd.DataFrame(query(warehouse, """
        select channel_id, strftime(date_day, '%Y-%m') as month, sum(net_revenue_amount)
        from marts.channels group by 1, 2 having sum(order_count) > 0"""),
        columns=["channel", "month", "revenue"]).set_index(["channel", "month"])["revenue"]
    assert len(expected) > 100
    pd.testing.assert_series_equal(got.sort_index().astype(float), expected.sort_index(),
                                   check_names=False, rtol=1e-9)
