"""Per-customer product recommendations: item-based collaborative filtering on implicit
feedback, blended with a category signal and popularity, evaluated on a time split.

- Feedback: each purchased line (weight 1), add to cart (0.3) and product view (0.1) of a
  known customer, decayed by age with a half-life (90 days), summed per customer and
  product into a sparse matrix (scipy.sparse).
- Item similarity: cosine between the products' customer vectors, keeping each product's
  `neighbours` nearest; a customer's CF score for a product is their feedback times the
  similarities ("bought with X": X is the product that contributes most).
- Blend: CF (scaled to 1 per customer) + `category_weight` x the customer's share of their
  feedback in the product's category x the product's share of its category's recent sales
  + `popularity_weight` x recent popularity. A customer with no feedback (cold start) gets
  the popular products; a product with no feedback yet is reached through its category
  once it sells.
- Repeats: a product the customer bought is recommended again only when its category's
  learned repurchase rate (customers who bought the same product again / customers who
  bought it, in the training data) reaches `repeat_rate`: consumables repeat, durables not.
- Evaluation: train before a cutoff, score the next `evaluation_days` days' purchases of the
  customers who bought then: hit rate, recall and NDCG at N, and catalogue coverage, against
  popularity, association rules (co-purchase confidence) and random (do-nothing) lists.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.preprocessing import normalize

from .errors import NotEnoughData
from .registry import ModelRecord, data_fingerprint

WEIGHTS = {"purchase": 1.0, "add_to_cart": 0.3, "product_view": 0.1}


@dataclass(frozen=True)
class RecommendSettings:
    top_n: int = 10
    half_life_days: int = 90
    neighbours: int = 100
    category_weight: float = 1.0
    popularity_weight: float = 0.2
    popularity_days: int = 90
    repeat_rate: float = 0.2  # a category's repurchase rate from which bought products repeat
    evaluation_days: int = 28
    min_evaluation_customers: int = 20
    batch_size: int = 2_000
    seed: int = 7

    def as_dict(self) -> dict:
        return asdict(self)


def load_catalogue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        select product_id, coalesce(product_name, product_id) as product_name,
               coalesce(category, 'Unknown') as category, coalesce(is_active, true) as is_active
        from marts.dim_products where not is_unknown_member order by product_id""").df()


def load_feedback(con: duckdb.DuckDBPyConnection, before: date) -> pd.DataFrame:
    """Purchases (one row per counted order line) and product views and carts of known
    customers before a date: customer_id, product_id, order_id, kind, day."""
    return con.execute("""
        select customer_id, product_id, order_id, 'purchase' as kind, order_date as day
        from marts.fct_order_items
        where is_counted and customer_id <> '-1' and product_id <> '-1' and order_date < ?
        union all
        select customer_id, product_id, null, event_type, event_date
        from marts.fct_events
        where event_type in ('product_view', 'add_to_cart') and customer_id is not null
          and customer_id <> '-1' and product_id is not null and product_id <> '-1'
          and event_date < ?""", [before, before]).df()


def last_purchase_date(con: duckdb.DuckDBPyConnection) -> date:
    value = con.execute("select max(order_date) from marts.fct_order_items "
                        "where is_counted").fetchone()[0]
    if value is None:
        raise NotEnoughData("marts.fct_order_items has no counted order: nothing to recommend")
    return value


@dataclass
class Recommender:
    settings: RecommendSettings
    products: pd.DataFrame
    customers: pd.Index
    feedback: sparse.csr_matrix  # customers x products, decayed weights
    bought: sparse.csr_matrix  # customers x products, purchased (0/1)
    similarity: sparse.csr_matrix  # products x products, top neighbours per column
    popularity: np.ndarray  # per product, recent purchases scaled to max 1
    category_share: np.ndarray  # per product, share of its category's recent purchases
    category_codes: np.ndarray
    repeatable: np.ndarray  # per product: may be recommended again once bought
    repeat_rates: pd.Series  # per category

    def scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Blended scores (rows x products) and the CF part, for matrix rows."""
        s = self.settings
        profile = self.feedback[rows]
        cf = (profile @ self.similarity).toarray()
        top = cf.max(axis=1, keepdims=True)
        cf_scaled = np.divide(cf, top, out=np.zeros_like(cf), where=top > 0)
        n_cat = self.category_codes.max() + 1
        by_category = (profile @ sparse.csr_matrix(
            (np.ones(len(self.category_codes)), (np.arange(len(self.category_codes)),
                                                 self.category_codes)),
            shape=(len(self.category_codes), n_cat))).toarray()
        totals = by_category.sum(axis=1, keepdims=True)
        taste = np.divide(by_category, totals, out=np.zeros_like(by_category), where=totals > 0)
        blended = (cf_scaled + s.category_weight * taste[:, self.category_codes]
                   * self.category_share[None, :] + s.popularity_weight * self.popularity)
        blocked = self.bought[rows].toarray().astype(bool) & ~self.repeatable[None, :]
        blocked |= ~self.products["is_active"].to_numpy(dtype=bool)[None, :]
        blended[blocked] = -np.inf
        return blended, cf

    def recommend(self, rows: np.ndarray | None = None, log: Callable[[str], None] = print
                  ) -> pd.DataFrame:
        """Top N per customer row with a reason in words."""
        s = self.settings
        rows = np.arange(len(self.customers)) if rows is None else rows
        names = self.products["product_name"].to_numpy()
        categories = self.products["category"].to_numpy()
        frames = []
        for start in range(0, len(rows), s.batch_size):
            batch = rows[start:start + s.batch_size]
            scores, cf = self.scores(batch)
            n = min(s.top_n, scores.shape[1])
            top = np.argsort(-scores, axis=1, kind="stable")[:, :n]
            picked = np.take_along_axis(scores, top, axis=1)
            picked_cf = np.take_along_axis(cf, top, axis=1)
            # The product of the customer's that contributes most to each CF score.
            profile = self.feedback[batch].toarray()
            because = np.empty(top.shape, dtype=np.int64)
            for rank in range(n):
                contribution = profile * self.similarity[:, top[:, rank]].T.toarray()
                because[:, rank] = contribution.argmax(axis=1)
            has_taste = profile.sum(axis=1) > 0
            reason = np.where(
                picked_cf > 0, "bought with " + names[because],
                np.where(has_taste[:, None], "popular in category " + categories[top],
                         "popular now"))
            keep = np.isfinite(picked)
            frames.append(pd.DataFrame({
                "customer_id": np.repeat(self.customers[batch].to_numpy(), n)[keep.ravel()],
                "recommendation_rank": np.tile(np.arange(1, n + 1), len(batch))[keep.ravel()],
                "product_id": self.products["product_id"].to_numpy()[top][keep],
                "score": picked[keep],
                "reason": reason[keep],
            }))
            if len(rows) > s.batch_size:
                log(f"recommendations: {min(start + s.batch_size, len(rows)):,} of "
                    f"{len(rows):,} customers scored")
        return pd.concat(frames, ignore_index=True)


def fit(feedback: pd.DataFrame, products: pd.DataFrame, customers: pd.Index, as_of: date,
        settings: RecommendSettings) -> Recommender:
    """The recommender from feedback before `as_of` (see the module docstring)."""
    s = settings
    product_index = pd.Index(products["product_id"])
    rows = customers.get_indexer(feedback["customer_id"])
    cols = product_index.get_indexer(feedback["product_id"])
    keep = (rows >= 0) & (cols >= 0)
    feedback, rows, cols = feedback[keep], rows[keep], cols[keep]
    age = (pd.Timestamp(as_of) - pd.to_datetime(feedback["day"])).dt.days.to_numpy()
    weight = feedback["kind"].map(WEIGHTS).to_numpy(dtype=float) * 0.5 ** (age / s.half_life_days)
    shape = (len(customers), len(product_index))
    matrix = sparse.csr_matrix((weight, (rows, cols)), shape=shape)
    purchase = (feedback["kind"] == "purchase").to_numpy()
    bought = sparse.csr_matrix((np.ones(purchase.sum()), (rows[purchase], cols[purchase])),
                               shape=shape)
    bought.data[:] = 1.0
    similarity = _item_similarity(matrix, s.neighbours)
    recent = purchase & (age <= s.popularity_days)
    sales = np.bincount(cols[recent], minlength=len(product_index)).astype(float)
    popularity = sales / sales.max() if sales.max() > 0 else sales
    codes = pd.Categorical(products["category"]).codes.astype(np.int64)
    category_sales = np.bincount(codes, weights=sales, minlength=codes.max() + 1)
    category_share = np.divide(sales, category_sales[codes], out=np.zeros_like(sales),
                               where=category_sales[codes] > 0)
    rates = repurchase_rates(feedback[purchase], products)
    repeatable = products["category"].map(rates).fillna(0).to_numpy() >= s.repeat_rate
    return Recommender(s, products.reset_index(drop=True), customers, matrix, bought,
                       similarity, popularity, category_share, codes, repeatable, rates)


def _item_similarity(matrix: sparse.csr_matrix, neighbours: int) -> sparse.csr_matrix:
    """Cosine similarity of the products' customer vectors, each product keeping its
    `neighbours` most similar others (column j: the products similar to j)."""
    unit = normalize(matrix.tocsc(), norm="l2", axis=0)
    similarity = (unit.T @ unit).tocsc()
    similarity.setdiag(0)
    similarity.eliminate_zeros()
    columns = []
    for j in range(similarity.shape[1]):
        start, end = similarity.indptr[j], similarity.indptr[j + 1]
        values, index = similarity.data[start:end], similarity.indices[start:end]
        if len(values) > neighbours:
            best = np.argpartition(-values, neighbours)[:neighbours]
            values, index = values[best], index[best]
        columns.append((values, index, np.full(len(values), j)))
    if not columns:
        return similarity.tocsr()
    values, index, col = (np.concatenate(parts) for parts in zip(*columns, strict=True))
    return sparse.csr_matrix((values, (index, col)), shape=similarity.shape)


def repurchase_rates(purchases: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Per category: of the (customer, product) pairs bought, the share bought again in a
    later order."""
    orders = purchases.groupby(["customer_id", "product_id"])["order_id"].nunique()
    frame = orders.rename("orders").reset_index().merge(
        products[["product_id", "category"]], on="product_id")
    return frame.groupby("category")["orders"].apply(lambda o: float((o >= 2).mean()))


# --- evaluation -------------------------------------------------------------------------

def ranking_metrics(recommended: dict, relevant: dict, n: int) -> dict[str, float]:
    """Hit rate, recall and NDCG at n (binary relevance), averaged over the customers of
    `relevant` (customer -> set of products bought in the evaluation window)."""
    discounts = 1 / np.log2(np.arange(2, n + 2))
    hits, recalls, ndcgs = [], [], []
    for customer, truth in relevant.items():
        ranked = list(recommended.get(customer, []))[:n]
        gains = np.array([1.0 if p in truth else 0.0 for p in ranked])
        hits.append(float(gains.any()))
        recalls.append(gains.sum() / len(truth))
        ideal = discounts[:min(len(truth), n)].sum()
        ndcgs.append(float((gains * discounts[:len(gains)]).sum() / ideal))
    return {"hit_rate": float(np.mean(hits)), "recall": float(np.mean(recalls)),
            "ndcg": float(np.mean(ndcgs))}


def _lists(frame: pd.DataFrame) -> dict:
    frame = frame.sort_values(["customer_id", "recommendation_rank"])
    return frame.groupby("customer_id")["product_id"].agg(list).to_dict()


def baseline_lists(model: Recommender, rows: np.ndarray, feedback: pd.DataFrame,
                   seed: int) -> dict[str, dict]:
    """Popularity, association rules (co-purchase confidence) and random lists for the
    same customers, with the same rule for repeats and inactive products."""
    n = model.settings.top_n
    ids = model.products["product_id"].to_numpy()
    allowed_base = model.products["is_active"].to_numpy(dtype=bool)
    purchases = feedback[feedback["kind"] == "purchase"]
    order_codes = pd.Categorical(purchases["order_id"]).codes
    cols = pd.Index(model.products["product_id"]).get_indexer(purchases["product_id"])
    ok = cols >= 0
    baskets = sparse.csr_matrix((np.ones(ok.sum()), (order_codes[ok], cols[ok])),
                                shape=(order_codes.max() + 1 if len(order_codes) else 0,
                                       len(ids)))
    baskets.data[:] = 1.0
    together = (baskets.T @ baskets).tocsr()
    counts = together.diagonal()
    together.setdiag(0)
    confidence = sparse.diags(np.divide(1.0, counts, out=np.zeros_like(counts),
                                        where=counts > 0)) @ together
    rng = np.random.default_rng(seed)
    lists = {"popularity": {}, "association_rules": {}, "random": {}}
    customers = model.customers[rows]
    bought = model.bought[rows].toarray().astype(bool)
    rules = (model.bought[rows] @ confidence).toarray()
    for i, customer in enumerate(customers):
        allowed = allowed_base & ~(bought[i] & ~model.repeatable)
        popular = np.where(allowed, model.popularity, -np.inf)
        lists["popularity"][customer] = ids[np.argsort(-popular, kind="stable")[:n]].tolist()
        ranked = np.where(allowed, rules[i] + 1e-6 * model.popularity, -np.inf)
        lists["association_rules"][customer] = ids[np.argsort(-ranked, kind="stable")[:n]].tolist()
        choices = np.flatnonzero(allowed)
        lists["random"][customer] = ids[rng.choice(choices, min(n, len(choices)),
                                                   replace=False)].tolist()
    return lists


@dataclass
class RecommendRun:
    recommendations: pd.DataFrame
    metrics: pd.DataFrame  # per method: hit_rate, recall, ndcg, coverage, customers
    record: ModelRecord
    seconds: float


def run(con: duckdb.DuckDBPyConnection, settings: RecommendSettings,
        log: Callable[[str], None] = print) -> RecommendRun:
    """Evaluate on the last `evaluation_days`, then refit on everything and recommend."""
    started = time.perf_counter()
    s = settings
    last = last_purchase_date(con)
    cutoff = last - timedelta(days=s.evaluation_days - 1)
    products = load_catalogue(con)
    customers = pd.Index(con.execute(
        "select customer_id from marts.dim_customers where not is_unknown_member "
        "order by customer_id").df()["customer_id"])
    train = load_feedback(con, cutoff)
    window = con.execute("""
        select distinct customer_id, product_id from marts.fct_order_items
        where is_counted and customer_id <> '-1' and product_id <> '-1'
          and order_date between ? and ?""", [cutoff, last]).df()
    window = window[window["customer_id"].isin(customers)]
    relevant = window.groupby("customer_id")["product_id"].agg(set).to_dict()
    if len(relevant) < s.min_evaluation_customers or train.empty:
        raise NotEnoughData(
            f"needs {s.min_evaluation_customers} customers buying in the last "
            f"{s.evaluation_days} days and purchases before them to evaluate, has "
            f"{len(relevant)}")
    log(f"recommendations: evaluating on {len(relevant):,} customers who bought from "
        f"{cutoff} to {last}")
    model = fit(train, products, customers, cutoff, s)
    rows = customers.get_indexer(list(relevant))
    lists = {"item_cf_blend": _lists(model.recommend(rows, log))}
    lists.update(baseline_lists(model, rows, train, s.seed))
    active = int(products["is_active"].sum())
    metrics = pd.DataFrame([
        {"method": method, **ranking_metrics(ranked, relevant, s.top_n),
         "coverage": len({p for items in ranked.values() for p in items}) / max(active, 1),
         "customers": len(relevant), "cutoff_date": cutoff}
        for method, ranked in lists.items()])
    log(f"recommendations: training on all history for {len(customers):,} customers")
    everything = load_feedback(con, last + timedelta(days=1))
    final = fit(everything, products, customers, last + timedelta(days=1), s)
    recommendations = final.recommend(log=log)
    # Recommendations are marketing: only customers whose latest marketing_opt_in is true
    # get a list (the others' history still trains the model and scores the evaluation).
    opted_in = set(con.execute("select customer_id from marts.dim_customers "
                               "where is_marketing_opt_in and not is_unknown_member").df()
                   ["customer_id"])
    recommendations = recommendations[recommendations["customer_id"].isin(opted_in)] \
        .reset_index(drop=True)
    record = ModelRecord(
        model_name="recommendations", settings=s.as_dict(),
        training_first_date=str(pd.to_datetime(everything["day"]).min().date()),
        training_last_date=str(last), training_points=[str(cutoff)],
        features=list(WEIGHTS),
        data=data_fingerprint(pd.DataFrame({"rows": final.feedback.indices}),
                              final.feedback.data),
        metrics={row.method: {"hit_rate": row.hit_rate, "recall": row.recall, "ndcg": row.ndcg,
                              "coverage": row.coverage} for row in metrics.itertuples()},
        extra={"repurchase_rates": {str(k): round(float(v), 4)
                                    for k, v in final.repeat_rates.items()}},
    )
    recommendations["model_version"] = record.version
    return RecommendRun(recommendations, metrics, record, time.perf_counter() - started)
