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
  + `popularity_weight` x recent popularity + `buy_again_weight` x buy again. A customer
  with no feedback (cold start) gets the popular products; a product with no feedback yet
  is reached through its category once it sells.
- Buy again: the customer's own purchases of a repeatable product, decayed with the
  half-life and scaled to 1 per customer (their most and latest bought), times the
  product's learned repurchase chance (its buyers' share who bought it in two or more
  orders, shrunk to its category's rate by `repeat_prior_pairs`). Its weight is chosen by
  `run` among `buy_again_candidates` on the `evaluation_days` before the evaluation's
  (trained before them), so a grocery shop of staples gets a heavy weight and a shop of
  category tastes a light one. Where it outweighs the CF term the reason says "you buy it
  regularly" (two or more orders) or "you bought it before".
- Popularity's weight is chosen the same way, after buy again's, among
  `popularity_candidates`: where the customers' feedback says little about their next
  purchase (a long tail of products, each with a few buyers, so the similarities are
  mostly noise) the popular products weigh more.
- Repeats: a product the customer bought is recommended again only when its category's
  learned repurchase rate (customers who bought the same product again / customers who
  bought it, in the training data) reaches `repeat_rate`: consumables repeat, durables not.
- Evaluation: train before a cutoff, score the next `evaluation_days` days' purchases of the
  customers who bought then: hit rate, recall and NDCG at N, and catalogue coverage, against
  popularity, association rules (co-purchase confidence), buy again (the customer's own
  products by their number of orders) and random (do-nothing) lists.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.preprocessing import normalize

from . import recommend_data
from .errors import NotEnoughData
from .recommend_data import WEIGHTS
from .registry import ModelRecord, data_fingerprint
from .threads import side_by_side

# sparse_dot_topn indexes its result with 32 bits: products x (neighbours + 1) must stay
# below 2**31, which this bound keeps for catalogues up to 200,000 products.
MAX_NEIGHBOURS = 10_000


@dataclass(frozen=True)
class RecommendSettings:
    top_n: int = 10
    half_life_days: int = 90
    neighbours: int = 100
    category_weight: float = 1.0
    popularity_weight: float = 0.2  # used while buy again's weight is chosen; see below
    popularity_days: int = 90
    repeat_rate: float = 0.2  # a category's repurchase rate from which bought products repeat
    buy_again_weight: float = 1.0  # weight of the customer's own repeat purchases (buy again)
    # run() chooses buy_again_weight among these on the days before the evaluation's
    buy_again_candidates: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0,
                                               64.0)
    # then popularity_weight among these, on the same days. A weight set above is kept only
    # when its candidates are one value (or nothing can be chosen: too few customers)
    popularity_candidates: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0, 16.0)
    repeat_prior_pairs: float = 10.0  # pairs of its category's rate in a product's own rate
    evaluation_days: int = 28
    min_evaluation_customers: int = 20
    batch_size: int = 2_000
    threads: int = 2  # the similarity's threads; customer batches scored at once (threads.py)
    seed: int = 7

    def __post_init__(self) -> None:
        for name in ("top_n", "half_life_days", "neighbours", "popularity_days",
                     "evaluation_days", "min_evaluation_customers", "batch_size", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"recommender setting {name} must be at least 1, "
                                 f"got {getattr(self, name)!r}")
        if self.neighbours > MAX_NEIGHBOURS:
            raise ValueError(f"recommender setting neighbours must be at most "
                             f"{MAX_NEIGHBOURS:,}, got {self.neighbours!r}")
        for name in ("category_weight", "popularity_weight", "buy_again_weight",
                     "repeat_prior_pairs"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ValueError(f"recommender setting {name} must be a finite number of 0 "
                                 f"or more, got {getattr(self, name)!r}")
        if not 0 <= self.repeat_rate <= 1:
            raise ValueError(f"recommender setting repeat_rate must be in [0, 1], "
                             f"got {self.repeat_rate!r}")
        for name in ("buy_again_candidates", "popularity_candidates"):
            candidates = tuple(getattr(self, name))
            if not candidates or not all(0 <= c < math.inf for c in candidates):
                raise ValueError(f"recommender setting {name} must be one or more finite "
                                 f"weights of 0 or more, got {candidates!r}")
            object.__setattr__(self, name, candidates)

    def as_dict(self) -> dict:
        return asdict(self)


def load_catalogue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        select product_id, coalesce(product_name, product_id) as product_name,
               coalesce(category, 'Unknown') as category, coalesce(is_active, true) as is_active
        from marts.dim_products where not is_unknown_member order by product_id""").df()


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
    purchases: sparse.csr_matrix  # customers x products, decayed purchased lines
    orders: sparse.csr_matrix  # customers x products, orders holding the product
    repurchase: np.ndarray  # per product: learned chance a buyer buys it again
    _neighbours: sparse.csr_matrix | None = field(default=None, repr=False)
    _categories: sparse.csr_matrix | None = field(default=None, repr=False)

    def scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Blended scores (rows x products) and the CF part, for matrix rows. The blend is
        built in place in one array (the same sums in the same order as cf + category +
        popularity, then + buy again, so the same floats), products a customer may not get
        set to -inf."""
        s = self.settings
        profile = self.feedback[rows]
        cf = (profile @ self.similarity).toarray()
        by_category = (profile @ self._category_matrix()).toarray()
        totals = by_category.sum(axis=1, keepdims=True)
        taste = np.divide(by_category, totals, out=np.zeros_like(by_category), where=totals > 0)
        blended = taste[:, self.category_codes]
        blended *= s.category_weight
        blended *= self.category_share[None, :]
        top = cf.max(axis=1, keepdims=True)
        scaled = np.divide(cf, top, out=np.zeros_like(cf), where=top > 0)
        scaled += blended  # cf_scaled + category, as (cf_scaled + category) + popularity
        blended = scaled
        blended += s.popularity_weight * self.popularity
        again = self.buy_again(rows).tocoo()
        blended[again.row, again.col] += again.data
        bought = self.bought[rows].tocoo()
        once = ~self.repeatable[bought.col]
        blended[bought.row[once], bought.col[once]] = -np.inf
        blended[:, ~self.products["is_active"].to_numpy(dtype=bool)] = -np.inf
        return blended, cf

    def buy_again(self, rows: np.ndarray) -> sparse.csr_matrix:
        """The buy-again term (rows x products, sparse): `buy_again_weight` x the customer's
        decayed purchases of the product scaled to 1 per customer (their most and latest
        bought product) x the product's learned repurchase chance; on repeatable products
        only (a bought durable is not offered again). Empty, without work, where it is 0
        for everyone: a zero weight or no repeatable product."""
        if self.settings.buy_again_weight == 0 or not self.repeatable.any():
            return sparse.csr_matrix((len(rows), len(self.products)))
        own = self.purchases[rows].multiply(self.repeatable[None, :]).tocsr()
        top = own.max(axis=1).toarray().ravel()
        scale = np.divide(self.settings.buy_again_weight, top, out=np.zeros_like(top),
                          where=top > 0)
        return sparse.csr_matrix(sparse.diags(scale) @ own.multiply(
            self.repurchase[None, :]))

    def _category_matrix(self) -> sparse.csr_matrix:
        """Products x categories, 1 where the product is in the category."""
        if self._categories is None:
            n = len(self.category_codes)
            self._categories = sparse.csr_matrix(
                (np.ones(n), (np.arange(n), self.category_codes)),
                shape=(n, self.category_codes.max() + 1))
        return self._categories

    def _neighbour_matrix(self) -> sparse.csr_matrix:
        """Row j: the products similar to j (the similarity's columns as rows)."""
        if self._neighbours is None:
            self._neighbours = self.similarity.T.tocsr()
        return self._neighbours

    def _because(self, rows: np.ndarray, top: np.ndarray) -> np.ndarray:
        """Per customer row and recommended product, the customer's product that contributes
        most to its CF score (feedback x similarity; the first on a tie, as argmax)."""
        n = top.shape[1]
        profile = self.feedback[np.repeat(rows, n)]
        contribution = profile.multiply(self._neighbour_matrix()[top.ravel()]).tocsr()
        contribution.sort_indices()
        return _row_argmax(contribution).reshape(top.shape)

    def recommend(self, rows: np.ndarray | None = None, log: Callable[[str], None] = print
                  ) -> pd.DataFrame:
        """Top N per customer row with a reason in words."""
        s = self.settings
        rows = np.arange(len(self.customers)) if rows is None else rows
        names = self.products["product_name"].to_numpy()
        categories = self.products["category"].to_numpy()
        starts = range(0, len(rows), s.batch_size)
        self._category_matrix(), self._neighbour_matrix()  # built once, before the threads
        progress = {"done": 0}
        lock = threading.Lock()

        def batch_frame(start: int) -> pd.DataFrame:
            batch = rows[start:start + s.batch_size]
            scores, cf = self.scores(batch)
            n = min(s.top_n, scores.shape[1])
            top = top_n(scores, n)
            picked = np.take_along_axis(scores, top, axis=1)
            picked_cf = np.take_along_axis(cf, top, axis=1)
            because = self._because(batch, top)
            has_taste = np.asarray(self.feedback[batch].sum(axis=1)).ravel() > 0
            # The buy-again reason where that term outweighs the CF term (scaled as blended).
            cells = (np.repeat(np.arange(len(batch)), n), top.ravel())
            picked_again = np.asarray(self.buy_again(batch)[cells]).reshape(top.shape)
            cf_top = cf.max(axis=1, keepdims=True)
            picked_cf_scaled = np.divide(picked_cf, cf_top, out=np.zeros_like(picked_cf),
                                         where=cf_top > 0)
            times = np.asarray(self.orders[batch][cells]).reshape(top.shape)
            reason = np.where(
                (picked_again > 0) & (picked_again >= picked_cf_scaled),
                np.where(times >= 2, "you buy it regularly", "you bought it before"),
                np.where(picked_cf > 0, "bought with " + names[because],
                         np.where(has_taste[:, None], "popular in category " + categories[top],
                                  "popular now")))
            keep = np.isfinite(picked)
            frame = pd.DataFrame({
                "customer_id": np.repeat(self.customers[batch].to_numpy(), n)[keep.ravel()],
                "recommendation_rank": np.tile(np.arange(1, n + 1), len(batch))[keep.ravel()],
                "product_id": self.products["product_id"].to_numpy()[top][keep],
                "score": picked[keep],
                "reason": reason[keep],
            })
            if len(rows) > s.batch_size:
                with lock:
                    progress["done"] += len(batch)
                    log(f"recommendations: {progress['done']:,} of {len(rows):,} customers "
                        f"scored")
            return frame

        # Batches are independent: `threads` of them at once, concatenated in order.
        frames = side_by_side(batch_frame, starts, s.threads)
        if not frames:
            return pd.DataFrame({"customer_id": pd.Series(dtype=object),
                                 "recommendation_rank": pd.Series(dtype=np.int64),
                                 "product_id": pd.Series(dtype=object),
                                 "score": pd.Series(dtype=float),
                                 "reason": pd.Series(dtype=object)})
        return pd.concat(frames, ignore_index=True)


def _row_argmax(matrix: sparse.csr_matrix) -> np.ndarray:
    """Per row of a CSR matrix with sorted indexes, the column of its largest stored value
    (the first on a tie; 0 for an empty row). Where every stored value is 0 or less the
    answer may differ from a dense argmax; the reason never reads those rows."""
    counts = np.diff(matrix.indptr)
    out = np.zeros(matrix.shape[0], dtype=np.int64)
    filled = np.flatnonzero(counts)
    if len(filled) == 0:
        return out
    row_max = np.maximum.reduceat(matrix.data, matrix.indptr[filled])
    row_of = np.repeat(np.arange(len(filled)), counts[filled])
    at_max = np.flatnonzero(matrix.data == row_max[row_of])
    first = np.unique(row_of[at_max], return_index=True)[1]
    out[filled] = matrix.indices[at_max[first]]
    return out


def fit(feedback: pd.DataFrame, products: pd.DataFrame, customers: pd.Index, as_of: date,
        settings: RecommendSettings) -> Recommender:
    """The recommender from feedback rows before `as_of` (see the module docstring)."""
    return fit_feedback(
        recommend_data.from_frame(feedback, products, customers, as_of,
                                  settings.half_life_days, settings.popularity_days),
        products, customers, settings)


def fit_feedback(data: recommend_data.Feedback, products: pd.DataFrame, customers: pd.Index,
                 settings: RecommendSettings) -> Recommender:
    """The recommender from feedback matrices (recommend_data.py)."""
    s = settings
    similarity = _item_similarity(data.weights, s.neighbours, s.threads)
    sales = data.recent_sales
    popularity = sales / sales.max() if sales.max() > 0 else sales
    codes = pd.Categorical(products["category"]).codes.astype(np.int64)
    category_sales = np.bincount(codes, weights=sales, minlength=codes.max() + 1)
    category_share = np.divide(sales, category_sales[codes], out=np.zeros_like(sales),
                               where=category_sales[codes] > 0)
    rates = data.repeat_rates
    category_rate = products["category"].map(rates).fillna(0).to_numpy(dtype=float)
    repeatable = category_rate >= s.repeat_rate
    return Recommender(s, products.reset_index(drop=True), customers, data.weights,
                       data.bought, similarity, popularity, category_share, codes, repeatable,
                       rates, data.purchases, data.orders,
                       repurchase_chance(data.orders, category_rate, s.repeat_prior_pairs))


def repurchase_chance(orders: sparse.csr_matrix, category_rate: np.ndarray,
                      prior_pairs: float) -> np.ndarray:
    """Per product, the share of its buyers who bought it in two or more orders, shrunk to
    its category's rate as if `prior_pairs` more buyers had bought it at that rate:
    (repeaters + prior x category rate) / (buyers + prior). A product few bought leans on
    its category; one many bought, on its own buyers."""
    buyers = np.asarray((orders > 0).sum(axis=0), dtype=float).ravel()
    repeaters = np.asarray((orders >= 2).sum(axis=0), dtype=float).ravel()
    total = buyers + prior_pairs
    return np.divide(repeaters + prior_pairs * category_rate, total,
                     out=category_rate.astype(float), where=total > 0)


def _item_similarity(matrix: sparse.csr_matrix, neighbours: int,
                     threads: int = 1) -> sparse.csr_matrix:
    """Cosine similarity of the products' customer vectors, each product keeping its
    `neighbours` most similar others (column j: the products similar to j).

    sparse_dot_topn multiplies unit.T @ unit in `threads` threads keeping each row's
    neighbours + 1 largest values as it goes (the full product, 25M pairs at scale 1, is
    never held); the product's own similarity, 1, is among them and dropped. The product is
    symmetric, so row j's best are column j's."""
    # Imported here: on import the package asks psutil for the physical cores, which fails
    # where psutil cannot tell; only a fit should fail then, not the code location's load.
    from sparse_dot_topn import sp_matmul_topn

    unit = normalize(matrix.tocsc(), norm="l2", axis=0)
    left, right = unit.T.tocsr(), unit.tocsr()
    best = sp_matmul_topn(left, right, top_n=neighbours + 1, sort=True,
                          n_threads=threads if threads > 1 else None)
    rows = np.repeat(np.arange(best.shape[0]), np.diff(best.indptr))
    other = (best.indices != rows) & (best.data > 0)
    # Rank among the row's others, in the sorted order (1 = most similar): a product whose
    # own similarity did not make its row's best (ties at 1) still keeps `neighbours`.
    counted = np.concatenate(([0], np.cumsum(other)))
    rank = counted[1:] - np.repeat(counted[best.indptr[:-1]], np.diff(best.indptr))
    keep = other & (rank <= neighbours)
    return sparse.csr_matrix((best.data[keep], (best.indices[keep], rows[keep])),
                             shape=best.shape)


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
    """{customer: product ids in rank order} of a recommendations frame."""
    if frame.empty:
        return {}
    frame = frame.sort_values(["customer_id", "recommendation_rank"], kind="stable")
    customers = frame["customer_id"].to_numpy()
    products = frame["product_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, customers[1:] != customers[:-1]])
    ends = np.r_[starts[1:], len(customers)]
    return {customers[a]: products[a:b].tolist() for a, b in zip(starts, ends, strict=True)}


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Column indexes of each row's n highest scores, highest first and the lower index
    first on a tie: `np.argsort(-scores, axis=1, kind="stable")[:, :n]`, without sorting or
    partitioning whole rows: the n-th largest of the maxima of at least n column blocks is
    a lower bound of the row's n-th largest score, so the scores at or above it hold the n
    best and every tie with the n-th; only those few are sorted."""
    rows, width = scores.shape
    if n >= width or rows == 0 or n < 1:
        return np.argsort(-scores, axis=1, kind="stable")[:, :n]
    blocks = min(width, max(n, 64))
    starts = np.linspace(0, width, blocks + 1).astype(np.int64)[:-1]
    maxima = np.maximum.reduceat(scores, starts, axis=1)
    bound = -np.partition(-maxima, n - 1, axis=1)[:, n - 1:n]
    row, col = np.nonzero(scores >= bound)
    order = np.lexsort((col, -scores[row, col], row))
    row, col = row[order], col[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row)
    keep = rank < n
    top = np.empty((rows, n), dtype=np.int64)
    top[row[keep], rank[keep]] = col[keep]
    return top


def baseline_lists(model: Recommender, rows: np.ndarray, baskets: sparse.csr_matrix,
                   seed: int) -> dict[str, dict]:
    """Popularity, association rules (co-purchase confidence from the orders x products
    `baskets`), buy again (the customer's own products by the number of orders holding
    them, the more and later bought first on a tie, then the popular ones) and random lists
    for the same customers, with the same rule for repeats and inactive products."""
    n = min(model.settings.top_n, len(model.products))
    ids = model.products["product_id"].to_numpy()
    inactive = ~model.products["is_active"].to_numpy(dtype=bool)
    together = (baskets.T @ baskets).tocsr()
    counts = together.diagonal()
    together.setdiag(0)
    confidence = sparse.diags(np.divide(1.0, counts, out=np.zeros_like(counts),
                                        where=counts > 0)) @ together
    methods = ("popularity", "association_rules", "buy_again", "random")

    def batch_lists(number: int) -> dict[str, list]:
        start = number * model.settings.batch_size
        batch = rows[start:start + model.settings.batch_size]
        customers = model.customers[batch]
        blocked = (model.bought[batch].toarray().astype(bool) & ~model.repeatable) | inactive
        popular = np.where(blocked, -np.inf, model.popularity)
        rules = (model.bought[batch] @ confidence).toarray()
        ranked = np.where(blocked, -np.inf, rules + 1e-6 * model.popularity)
        # Own products score their orders plus less than 1 (their decayed purchases d as
        # d / (1 + d)); the others their popularity less 1, so below every own product.
        again = np.broadcast_to(model.popularity - 1, blocked.shape).copy()
        orders = model.orders[batch].tocoo()
        decayed = np.asarray(model.purchases[batch][orders.row, orders.col]).ravel()
        again[orders.row, orders.col] = orders.data + decayed / (1 + decayed)
        again[blocked] = -np.inf
        # Random: the n allowed products with the smallest uniform keys, in key order; the
        # keys of each batch drawn from its own stream, so threads draw the same keys.
        keys = np.random.default_rng([seed, number]).random(blocked.shape)
        keys[blocked] = np.inf
        picks = top_n(-keys, n)
        drawn = np.isfinite(np.take_along_axis(keys, picks, axis=1))
        found = {}
        for method, scores in (("popularity", popular), ("association_rules", ranked),
                               ("buy_again", again)):
            top = top_n(scores, n)  # a blocked product (-inf) only where too few are left
            allowed = np.isfinite(np.take_along_axis(scores, top, axis=1))
            found[method] = [(c, ids[t[a]].tolist())
                             for c, t, a in zip(customers, top, allowed, strict=True)]
        found["random"] = [(c, ids[p[d]].tolist())
                           for c, p, d in zip(customers, picks, drawn, strict=True)]
        return found

    batches = range(-(-len(rows) // model.settings.batch_size))
    lists: dict[str, dict] = {method: {} for method in methods}
    for found in side_by_side(batch_lists, batches, model.settings.threads):
        for method in methods:
            lists[method].update(found[method])
    return lists


def choose_weight(model: Recommender, rows: np.ndarray, relevant: dict, term: str,
                  candidates: tuple[float, ...]) -> tuple[float, dict[float, float]]:
    """The candidate weight of one blend term (`term`: "buy_again" or "popularity") whose
    lists score the best NDCG at N on `relevant` (the smaller weight on a tie), and each
    candidate's NDCG. The rest of the blend is computed once per batch; each weight only
    adds its multiple of the term."""
    s = model.settings
    n = min(s.top_n, len(model.products))
    ids = model.products["product_id"].to_numpy()
    # Sums in scores()'s order: ((CF + category) + popularity) + buy again.
    zero = {"buy_again_weight": 0.0} | ({"popularity_weight": 0.0} if term == "popularity"
                                        else {})
    without = replace(model, settings=replace(s, **zero))
    unit = replace(model, settings=replace(s, buy_again_weight=1.0))
    lists: dict[float, dict] = {w: {} for w in candidates}
    for start in range(0, len(rows), s.batch_size):
        batch = rows[start:start + s.batch_size]
        base = without.scores(batch)[0]  # a blocked product is -inf, and stays so
        again = (unit if term == "buy_again" else model).buy_again(batch).tocoo()
        customers = model.customers[batch]
        scores = np.empty_like(base)
        for weight in candidates:
            if term == "buy_again":
                scores[:] = base
                scores[again.row, again.col] += weight * again.data
            else:
                np.add(base, weight * model.popularity[None, :], out=scores)
                scores[again.row, again.col] += again.data
            top = top_n(scores, n)
            finite = np.isfinite(np.take_along_axis(scores, top, axis=1))
            lists[weight].update((c, ids[t[f]].tolist())
                                 for c, t, f in zip(customers, top, finite, strict=True))
    ndcg = {w: ranking_metrics(lists[w], relevant, s.top_n)["ndcg"] for w in candidates}
    best = max(ndcg.values())
    return min(w for w, v in ndcg.items() if v == best), ndcg


@dataclass
class RecommendRun:
    recommendations: pd.DataFrame
    metrics: pd.DataFrame  # per method: hit_rate, recall, ndcg, coverage, customers
    record: ModelRecord
    seconds: float


def bought_between(con: duckdb.DuckDBPyConnection, first: date, end: date) -> dict:
    """{customer: products bought} of the known customers' counted orders from `first` to
    `end`, both included (the relevant products of an evaluation window)."""
    return {customer: set(bought) for customer, bought in con.execute("""
        select customer_id, list(distinct product_id) from marts.fct_order_items
        where is_counted and customer_id <> '-1' and product_id <> '-1'
          and order_date between ? and ?
          and customer_id in (select customer_id from marts.dim_customers
                              where not is_unknown_member)
        group by customer_id order by customer_id""", [first, end]).fetchall()}


def run(con: duckdb.DuckDBPyConnection, settings: RecommendSettings,
        log: Callable[[str], None] = print) -> RecommendRun:
    """Choose the buy-again and popularity weights on the `evaluation_days` before the last
    ones, evaluate on the last `evaluation_days`, then refit on everything and recommend."""
    started = time.perf_counter()
    s = settings
    last = last_purchase_date(con)
    cutoff = last - timedelta(days=s.evaluation_days - 1)
    earlier = cutoff - timedelta(days=s.evaluation_days)
    products = load_catalogue(con)
    customers = pd.Index(con.execute(
        "select customer_id from marts.dim_customers where not is_unknown_member "
        "order by customer_id").df()["customer_id"])
    # The choice's feedback (before the earlier window), the evaluation's (before the
    # cutoff) and the final one (all of it) from one read of the marts.
    with recommend_data.FeedbackTable(con, products, customers, last + timedelta(days=1),
                                      s.half_life_days, s.popularity_days) as table:
        train = table.at(cutoff)
        everything = table.at(last + timedelta(days=1), baskets=False)
        relevant = bought_between(con, cutoff, last)
        if len(relevant) < s.min_evaluation_customers or train.weights.nnz == 0:
            raise NotEnoughData(
                f"needs {s.min_evaluation_customers} customers buying in the last "
                f"{s.evaluation_days} days and purchases before them to evaluate, has "
                f"{len(relevant)}")
        # The buy-again weight, then popularity's: the candidates ranking best on the window
        # before the evaluation's, trained before it (the held-out days are not looked at).
        # Without a repeatable category the buy-again term is 0 whatever its weight: it is
        # not chosen; with nothing to choose the choice's feedback is not read.
        choice = bought_between(con, earlier, cutoff - timedelta(days=1))
        wanted = {"buy_again": len(s.buy_again_candidates) > 1
                  and bool((table.repeat_rates(earlier) >= s.repeat_rate).any()),
                  "popularity": len(s.popularity_candidates) > 1}
        before = (table.at(earlier, baskets=False)
                  if any(wanted.values()) and len(choice) >= s.min_evaluation_customers
                  else None)
    for term in ("buy_again", "popularity"):  # one candidate fixes the weight
        if len(getattr(s, f"{term}_candidates")) == 1:
            s = replace(s, **{f"{term}_weight": getattr(s, f"{term}_candidates")[0]})
    ndcg_by_weight: dict[str, dict[float, float]] = {"buy_again": {}, "popularity": {}}
    if before is not None and before.weights.nnz > 0:
        chooser = fit_feedback(before, products, customers, s)
        rows = customers.get_indexer(list(choice))
        for term in (t for t, wants in wanted.items() if wants):
            weight, ndcg_by_weight[term] = choose_weight(
                chooser, rows, choice, term, getattr(s, f"{term}_candidates"))
            s = replace(s, **{f"{term}_weight": weight})
            chooser = replace(chooser, settings=s)
        log(f"recommendations: buy-again weight {s.buy_again_weight}, popularity weight "
            f"{s.popularity_weight} ({' and '.join(t for t, w in wanted.items() if w)} "
            f"chosen on {len(choice):,} customers who bought from {earlier} to "
            f"{cutoff - timedelta(days=1)})")
    else:
        why = (f"{len(choice):,} customers bought from {earlier} to "
               f"{cutoff - timedelta(days=1)}, {s.min_evaluation_customers} needed"
               if any(wanted.values()) and len(choice) < s.min_evaluation_customers
               else "no purchase before those days" if any(wanted.values())
               else "one candidate each, or no repeatable category for buy again")
        log(f"recommendations: buy-again weight {s.buy_again_weight}, popularity weight "
            f"{s.popularity_weight} (not chosen: {why})")
    log(f"recommendations: evaluating on {len(relevant):,} customers who bought from "
        f"{cutoff} to {last}")
    model = fit_feedback(train, products, customers, s)
    rows = customers.get_indexer(list(relevant))
    lists = {"item_cf_blend": _lists(model.recommend(rows, log))}
    lists.update(baseline_lists(model, rows, train.baskets, s.seed))
    active = int(products["is_active"].sum())
    metrics = pd.DataFrame([
        {"method": method, **ranking_metrics(ranked, relevant, s.top_n),
         "coverage": len({p for items in ranked.values() for p in items}) / max(active, 1),
         "customers": len(relevant), "cutoff_date": cutoff}
        for method, ranked in lists.items()])
    log(f"recommendations: training on all history for {len(customers):,} customers")
    final = fit_feedback(everything, products, customers, s)
    # Recommendations are marketing: only customers whose latest marketing_opt_in is true
    # get a list, so only they are scored (the others' history still trains the model and
    # scores the evaluation).
    opted_in = con.execute("select customer_id from marts.dim_customers "
                           "where is_marketing_opt_in and not is_unknown_member").df()
    recommendations = final.recommend(
        np.flatnonzero(customers.isin(opted_in["customer_id"])), log=log)
    record = ModelRecord(
        model_name="recommendations", settings=s.as_dict(),
        training_first_date=str(everything.first_day),
        training_last_date=str(last), training_points=[str(cutoff)],
        features=list(WEIGHTS),
        data=data_fingerprint(pd.DataFrame({"rows": final.feedback.indices}),
                              final.feedback.data),
        metrics={row.method: {"hit_rate": row.hit_rate, "recall": row.recall, "ndcg": row.ndcg,
                              "coverage": row.coverage} for row in metrics.itertuples()},
        extra={"repurchase_rates": {str(k): round(float(v), 4)
                                    for k, v in final.repeat_rates.items()},
               **{f"{term}_weight": getattr(s, f"{term}_weight") for term in ndcg_by_weight},
               **{f"{term}_ndcg_before_evaluation": {str(w): round(v, 4)
                                                     for w, v in ndcg.items()}
                  for term, ndcg in ndcg_by_weight.items()}},
    )
    recommendations["model_version"] = record.version
    return RecommendRun(recommendations, metrics, record, time.perf_counter() - started)
