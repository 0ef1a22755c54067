"""Daily demand per product, read from the marts into dense arrays.

Demand (metrics.md) is the units of counted orders per product per order date. Each product
is zero-filled from the day it became available: its launch or its first sale, whichever is
earlier (and not before the first day of data). Day indexes count from `start`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from .errors import NotEnoughData

DEMAND_CAMPAIGN_TYPES = ("discount", "flash_sale", "group_buy")


@dataclass(frozen=True)
class DemandHistory:
    start: np.datetime64  # day index 0: the first order date with demand
    end: np.datetime64  # the newest order date with demand
    products: pd.DataFrame  # product_id, category, list_price, is_active, available_from,
    # has_launch_date (else available from the first sale)
    units: np.ndarray  # (products, days) units of counted orders
    gross: np.ndarray  # (products, days) gross amount of those units, base currency
    discount: np.ndarray  # (products, days) line discounts (promotions), base currency
    campaigns: pd.DataFrame  # start_day, end_day (inclusive day indexes), is_demand_type

    @property
    def days(self) -> int:
        return self.units.shape[1]

    def day_index(self, day) -> int:
        return int((np.datetime64(day, "D") - self.start).astype(int))

    def date_of(self, index) -> np.ndarray:
        return self.start + np.asarray(index).astype("timedelta64[D]")


def load_history(con: duckdb.DuckDBPyConnection) -> DemandHistory:
    """Read demand, products and the campaign calendar from schema `marts`."""
    daily = con.execute("""
        select product_id, order_date, sum(quantity)::double as units,
               sum(gross_amount)::double as gross, sum(discount_amount)::double as discount
        from marts.fct_order_items
        where is_counted and product_id <> '-1'
        group by all
    """).df()
    if daily.empty:
        raise NotEnoughData("marts.fct_order_items has no counted order item of a known product: "
                         "there is no demand to forecast")
    products = con.execute("""
        select product_id, category, list_price_base_amount::double as list_price,
               is_active, cast(launched_at as date) as launch_date
        from marts.dim_products
        where not is_unknown_member
        order by product_id
    """).df()
    start = np.datetime64(daily["order_date"].min(), "D")
    end = np.datetime64(daily["order_date"].max(), "D")
    n_days = int((end - start).astype(int)) + 1
    index = pd.Index(products["product_id"])
    row = index.get_indexer(daily["product_id"])
    if (row < 0).any():
        missing = daily.loc[row < 0, "product_id"].iloc[0]
        raise ValueError(f"marts.fct_order_items has product_id {missing!r} that "
                         "marts.dim_products does not know")
    col = (daily["order_date"].to_numpy().astype("datetime64[D]") - start).astype(int)
    shape = (len(products), n_days)
    matrices = {}
    for name in ("units", "gross", "discount"):
        matrix = np.zeros(shape, dtype=np.float64)
        np.add.at(matrix, (row, col), daily[name].to_numpy(dtype=np.float64))
        matrices[name] = matrix
    products["available_from"] = _available_from(products, matrices["units"], start)
    products["has_launch_date"] = products["launch_date"].notna().to_numpy()
    return DemandHistory(start=start, end=end, products=products.drop(columns="launch_date"),
                         campaigns=_campaigns(con, start), **matrices)


def _available_from(products: pd.DataFrame, units: np.ndarray, start: np.datetime64) -> np.ndarray:
    """Day index from which a product is zero-filled: min(launch, first sale), at least 0.
    A product neither launched nor sold gets a day far in the future."""
    never = np.iinfo(np.int32).max // 2
    sold = units > 0
    first_sale = np.where(sold.any(axis=1), sold.argmax(axis=1), never)
    launch = products["launch_date"].to_numpy().astype("datetime64[D]")
    launch_day = np.where(np.isnat(launch), never, (launch - start).astype(np.int64))
    return np.maximum(np.minimum(first_sale, launch_day), 0).astype(np.int64)


def _campaigns(con: duckdb.DuckDBPyConnection, start: np.datetime64) -> pd.DataFrame:
    frame = con.execute("""
        select campaign_type, start_date, coalesce(end_date, start_date + 14) as end_date
        from marts.dim_campaigns
        where not is_unknown_member and start_date is not null
    """).df()

    def to_day(column: str) -> np.ndarray:
        return (frame[column].to_numpy().astype("datetime64[D]") - start).astype(np.int64)

    return pd.DataFrame({
        "start_day": to_day("start_date"), "end_day": to_day("end_date"),
        "is_demand_type": frame["campaign_type"].isin(DEMAND_CAMPAIGN_TYPES).to_numpy(),
    })
