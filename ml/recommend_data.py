"""The recommender's feedback as sparse matrices over the customer and product indexes.

Built in DuckDB from the marts (`from_warehouse`: millions of events are aggregated where
they live, and only (customer row, product column, number) triples reach Python), or from a
frame of feedback rows (`from_frame`: hand-made baskets in tests). Both give the same
matrices (tests/unit/test_ml_recommend.py checks one against the other):
- weights: per customer and product, the sum of each purchased line (1), add to cart (0.3)
  and product view (0.1), each decayed by its age in days with the half-life;
- bought: 1 where the customer bought the product;
- purchases: per customer and product, the purchased lines alone, each decayed by its age
  with the half-life (the buy-again term's "how much and how lately");
- orders: per customer and product, the number of orders holding it (not decayed);
- recent sales: per product, the purchased lines of the last `popularity_days`;
- repurchase rates: per category, of the (customer, product) pairs bought, the share bought
  in two or more orders;
- baskets: orders x products, 1 where the order holds the product (association rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

WEIGHTS = {"purchase": 1.0, "add_to_cart": 0.3, "product_view": 0.1}


@dataclass
class Feedback:
    weights: sparse.csr_matrix  # customers x products, decayed weights
    bought: sparse.csr_matrix  # customers x products, purchased (0/1)
    purchases: sparse.csr_matrix  # customers x products, decayed purchased lines
    orders: sparse.csr_matrix  # customers x products, orders holding the product
    recent_sales: np.ndarray  # per product: purchased lines in the last popularity_days
    repeat_rates: pd.Series  # per category (categories with a purchase only)
    baskets: sparse.csr_matrix | None  # orders x products (0/1); None: not read
    first_day: date | None  # the oldest feedback day, None without feedback


def from_frame(feedback: pd.DataFrame, products: pd.DataFrame, customers: pd.Index,
               as_of: date, half_life_days: int, popularity_days: int) -> Feedback:
    """From rows customer_id, product_id, order_id, kind, day (feedback before `as_of`);
    rows of customers or products outside the indexes are left out."""
    product_index = pd.Index(products["product_id"])
    rows = customers.get_indexer(feedback["customer_id"])
    cols = product_index.get_indexer(feedback["product_id"])
    keep = (rows >= 0) & (cols >= 0)
    feedback, rows, cols = feedback[keep], rows[keep], cols[keep]
    days = pd.to_datetime(feedback["day"])
    age = (pd.Timestamp(as_of) - days).dt.days.to_numpy()
    decay = 0.5 ** (age / half_life_days)
    weight = feedback["kind"].map(WEIGHTS).to_numpy(dtype=float) * decay
    shape = (len(customers), len(product_index))
    purchase = (feedback["kind"] == "purchase").to_numpy()
    bought = sparse.csr_matrix((np.ones(purchase.sum()), (rows[purchase], cols[purchase])),
                               shape=shape)
    bought.data[:] = 1.0
    decayed = sparse.csr_matrix((decay[purchase], (rows[purchase], cols[purchase])),
                                shape=shape)
    recent = purchase & (age <= popularity_days)
    purchases = feedback[purchase]
    orders = purchases.groupby(["customer_id", "product_id"])["order_id"].nunique()
    order_cells = orders.reset_index()
    order_matrix = sparse.csr_matrix(
        (order_cells["order_id"].to_numpy(dtype=float),
         (customers.get_indexer(order_cells["customer_id"]),
          product_index.get_indexer(order_cells["product_id"]))), shape=shape)
    pairs = orders.rename("orders").reset_index().merge(
        products[["product_id", "category"]], on="product_id")
    rates = pairs.groupby("category")["orders"].apply(lambda o: float((o >= 2).mean()))
    order_codes = pd.Categorical(purchases["order_id"]).codes
    baskets = sparse.csr_matrix(
        (np.ones(len(order_codes)), (order_codes, cols[purchase])),
        shape=(order_codes.max() + 1 if len(order_codes) else 0, shape[1]))
    baskets.data[:] = 1.0
    return Feedback(
        weights=sparse.csr_matrix((weight, (rows, cols)), shape=shape), bought=bought,
        purchases=decayed, orders=order_matrix,
        recent_sales=np.bincount(cols[recent], minlength=shape[1]).astype(float),
        repeat_rates=rates, baskets=baskets,
        first_day=days.min().date() if len(days) else None)


_FEEDBACK = """
create or replace temp table _recommend_feedback as
with rows as (
    select customer_id, product_id, order_id, 'purchase' as kind, order_date as day
    from marts.fct_order_items
    where is_counted and customer_id <> '-1' and product_id <> '-1' and order_date < $before
    union all
    select customer_id, product_id, null, event_type, event_date
    from marts.fct_events
    where event_type in ('product_view', 'add_to_cart') and customer_id is not null
      and customer_id <> '-1' and product_id is not null and product_id <> '-1'
      and event_date < $before
)
select customer_index.customer_row, product_index.product_col, rows.kind, rows.order_id,
       date_diff('day', rows.day, $before) as age
from rows
join _recommend_customers as customer_index using (customer_id)
join _recommend_products as product_index using (product_id)
"""


def from_warehouse(con: duckdb.DuckDBPyConnection, products: pd.DataFrame,
                   customers: pd.Index, before: date, half_life_days: int,
                   popularity_days: int) -> Feedback:
    """Purchases (counted order lines) and product views and carts of the indexed customers
    before a date, aggregated in DuckDB (ages count from `before`)."""
    return from_warehouse_at(con, products, customers, [before], half_life_days,
                             popularity_days)[0]


def from_warehouse_at(con: duckdb.DuckDBPyConnection, products: pd.DataFrame,
                      customers: pd.Index, befores: list[date], half_life_days: int,
                      popularity_days: int) -> list[Feedback]:
    """`from_warehouse` before each of several dates, the marts read once (FeedbackTable)."""
    with FeedbackTable(con, products, customers, max(befores), half_life_days,
                       popularity_days) as table:
        return [table.at(before) for before in befores]


class FeedbackTable:
    """The marts' feedback before `latest`, joined to the customer and product indexes once
    into a temporary table, and read at any earlier date: the rows at least `shift` days old
    (the date's distance from `latest`) with their age less `shift`, which is their age
    from that date. A context manager: the table lives until the block ends."""

    def __init__(self, con: duckdb.DuckDBPyConnection, products: pd.DataFrame,
                 customers: pd.Index, latest: date, half_life_days: int,
                 popularity_days: int) -> None:
        self.con, self.latest = con, latest
        self.shape = (len(customers), len(products))
        self.categories = products["category"].array  # keeps its dtype
        self.half_life, self.popularity_days = float(half_life_days), popularity_days
        con.register("_recommend_customers", pd.DataFrame(
            {"customer_id": customers.to_numpy(), "customer_row": np.arange(self.shape[0])}))
        con.register("_recommend_products", pd.DataFrame(
            {"product_id": products["product_id"].to_numpy(),
             "product_col": np.arange(self.shape[1])}))
        try:
            con.execute(_FEEDBACK, {"before": latest})
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> FeedbackTable:
        return self

    def __exit__(self, *_) -> None:
        self.con.execute("drop table if exists _recommend_feedback")
        self.con.unregister("_recommend_customers")
        self.con.unregister("_recommend_products")

    def _rows(self, before: date) -> tuple[str, dict]:
        shift = (self.latest - before).days
        return ("(select * exclude (age), age - $shift as age from _recommend_feedback "
                "where age > $shift)"), {"shift": int(shift)}

    def _bought(self, before: date) -> dict:
        rows, at = self._rows(before)
        return self.con.execute(f"""
            select customer_row, product_col, sum(pow(0.5, age / $half_life)) as decayed,
                   count(distinct order_id)::double as orders
            from {rows} as f where kind = 'purchase' group by all""",
            {"half_life": self.half_life, **at}).fetchnumpy()

    def repeat_rates(self, before: date) -> pd.Series:
        """Per category with a purchase before `before`, the share of the (customer,
        product) pairs bought in two or more orders (as `at(before).repeat_rates`)."""
        return self._rates(self._bought(before))

    def _rates(self, bought: dict) -> pd.Series:
        pairs = pd.DataFrame({"category": self.categories.take(np.asarray(bought["product_col"])),
                              "orders": (np.asarray(bought["orders"]) >= 2).astype(float)})
        return pairs.groupby("category", sort=True)["orders"].mean()

    def at(self, before: date, baskets: bool = True) -> Feedback:
        """The matrices of the feedback before `before`; `baskets` False leaves the orders x
        products matrix out (None), which only the association rules read."""
        rows, at = self._rows(before)
        weights = self.con.execute(f"""
            select customer_row, product_col,
                   sum(case kind when 'purchase' then $purchase when 'add_to_cart' then $cart
                       else $view end * pow(0.5, age / $half_life)) as weight
            from {rows} as f group by all""", {
            "purchase": WEIGHTS["purchase"], "cart": WEIGHTS["add_to_cart"],
            "view": WEIGHTS["product_view"], "half_life": self.half_life, **at}).fetchnumpy()
        bought = self._bought(before)
        sales = self.con.execute(f"""
            select product_col, count(*)::double as lines from {rows} as f
            where kind = 'purchase' and age <= $days group by all""",
            {"days": self.popularity_days, **at}).fetchnumpy()
        basket_matrix = None
        if baskets:
            lines = self.con.execute(f"""
                select dense_rank() over (order by order_id) - 1 as basket, product_col
                from (select distinct order_id, product_col from {rows} as f
                      where kind = 'purchase') as lines""", at).fetchnumpy()
            count = int(lines["basket"].max()) + 1 if len(lines["basket"]) else 0
            basket_matrix = sparse.csr_matrix(
                (np.ones(len(lines["basket"])), (lines["basket"], lines["product_col"])),
                shape=(count, self.shape[1]))
        oldest = self.con.execute(f"select max(age) from {rows} as f", at).fetchone()[0]
        recent_sales = np.zeros(self.shape[1])
        recent_sales[sales["product_col"]] = sales["lines"]
        return Feedback(
            weights=_csr(weights["weight"], weights, self.shape),
            bought=_csr(np.ones(len(bought["customer_row"])), bought, self.shape),
            purchases=_csr(bought["decayed"], bought, self.shape),
            orders=_csr(bought["orders"], bought, self.shape),
            recent_sales=recent_sales, repeat_rates=self._rates(bought), baskets=basket_matrix,
            first_day=None if oldest is None else before - timedelta(days=int(oldest)))


def _csr(values, cells: dict, shape: tuple[int, int]) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.asarray(values, dtype=np.float64),
                              (cells["customer_row"], cells["product_col"])), shape=shape)
