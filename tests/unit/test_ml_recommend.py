"""Recommendations and campaign audiences on hand-made baskets whose right answers are
known: a pair always bought together, a cold-start customer, durables not offered again,
ranking metrics worked out by hand, consent, the frequency cap and the holdout."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from ml import audiences, recommend, recommend_data

AS_OF = date(2026, 3, 1)


def _products() -> pd.DataFrame:
    rows = [("TEA", "Green tea", "Food"), ("CUP", "Tea cup", "Home"),
            ("PEN", "Pen", "Office"), ("INK", "Ink", "Office"),
            ("BALL", "Ball", "Sports"), ("NET", "Net", "Sports"),
            ("OLD", "Retired lamp", "Home")]
    frame = pd.DataFrame(rows, columns=["product_id", "product_name", "category"])
    frame["is_active"] = frame["product_id"] != "OLD"
    return frame


def _purchases(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """(customer, product, order, days before AS_OF) as purchase feedback."""
    return pd.DataFrame([{"customer_id": c, "product_id": p, "order_id": o, "kind": "purchase",
                          "day": AS_OF - timedelta(days=d)} for c, p, o, d in rows])


def _shop() -> pd.DataFrame:
    """TEA and CUP always in the same order; PEN with INK; BALL with NET. TEA is bought
    again by its buyers (a consumable); the others never are. C9 bought only TEA."""
    rows = []
    for i in range(1, 7):
        rows += [(f"C{i}", "TEA", f"O{i}a", 20), (f"C{i}", "CUP", f"O{i}a", 20),
                 (f"C{i}", "TEA", f"O{i}b", 5)]
    for i in range(7, 9):
        rows += [(f"C{i}", "PEN", f"O{i}", 10), (f"C{i}", "INK", f"O{i}", 10)]
    rows += [("C10", "BALL", "O10", 3), ("C10", "NET", "O10", 3)]
    rows += [("C9", "TEA", "O9", 1)]
    return _purchases(rows)


def _model(settings=None) -> recommend.Recommender:
    customers = pd.Index([f"C{i}" for i in range(1, 12)])  # C11 has no feedback at all
    return recommend.fit(_shop(), _products(), customers, AS_OF,
                         settings or recommend.RecommendSettings(top_n=3))


def _top(model: recommend.Recommender, customer: str) -> pd.DataFrame:
    frame = model.recommend(np.array([model.customers.get_loc(customer)]), log=lambda _: None)
    return frame.sort_values("recommendation_rank")


def test_the_product_always_bought_with_yours_comes_first_and_says_why():
    top = _top(_model(), "C9")  # bought TEA only: CUP is always bought with TEA
    # TEA itself may come back (a consumable; C9's only category); of the others CUP leads.
    others = top[top["product_id"] != "TEA"]
    assert others.iloc[0]["product_id"] == "CUP"
    assert others.iloc[0]["reason"] == "bought with Green tea"
    assert list(top["product_id"][:2]) in (["TEA", "CUP"], ["CUP", "TEA"])


def test_consumables_repeat_durables_do_not_and_retired_products_never_show():
    model = _model()
    # Learned repurchase rates: Food 6 of 7 (TEA bought again by C1-C6, not C9), Home 0.
    assert model.repeat_rates["Food"] == pytest.approx(6 / 7)
    assert model.repeat_rates["Home"] == 0
    offered = set(_top(_model(recommend.RecommendSettings(top_n=6)), "C1")["product_id"])
    assert "CUP" not in offered  # a bought durable
    assert "TEA" in offered  # a bought consumable may come again
    assert "OLD" not in offered


def test_a_cold_start_customer_gets_the_popular_products():
    top = _top(_model(), "C11")
    # Purchases in the last 90 days: TEA 13, CUP 6, the rest 2 or 1.
    assert list(top["product_id"][:2]) == ["TEA", "CUP"]
    assert set(top["reason"]) == {"popular now"}


def test_ranking_metrics_match_hand_computed_values():
    recommended = {"A": ["x", "y", "z"], "B": ["q", "r", "s"]}
    relevant = {"A": {"y", "w"}, "B": {"s"}}
    metrics = recommend.ranking_metrics(recommended, relevant, n=3)
    # A: hit, recall 1/2, DCG 1/log2(3), ideal 1 + 1/log2(3). B: hit, recall 1, DCG 1/log2(4).
    ndcg_a = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    ndcg_b = (1 / np.log2(4)) / 1
    assert metrics["hit_rate"] == 1.0
    assert metrics["recall"] == pytest.approx((0.5 + 1) / 2)
    assert metrics["ndcg"] == pytest.approx((ndcg_a + ndcg_b) / 2)
    assert recommend.ranking_metrics({}, relevant, n=3) == {"hit_rate": 0.0, "recall": 0.0,
                                                            "ndcg": 0.0}


def _audience_inputs():
    customers = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D"],
        "lifecycle_stage": ["at_risk", "active", "active", "churned"],
        "churn_risk_tier": ["high", None, None, "high"],
        "counted_order_count": [3, 1, 2, 4],
        "first_order_date": [date(2025, 1, 1), AS_OF - timedelta(days=10), date(2025, 5, 1),
                             date(2024, 1, 1)],
        "group_buy_order_count": [1, 0, 0, 0],
    })
    offers = pd.DataFrame({
        "customer_id": ["A", "A", "B", "C", "D"],
        "recommendation_rank": [1, 2, 1, 1, 1],
        "product_id": ["CUP", "INK", "TEA", "NET", "PEN"],
        "reason": ["popular now", "bought with Pen", "bought with Tea cup", "bought with Ball",
                   "popular now"],
    })
    return customers, offers


def test_audiences_keep_consent_and_the_cap_across_campaigns():
    customers, offers = _audience_inputs()
    settings = audiences.AudienceSettings(frequency_cap=2, holdout_share=0.0)
    rows = audiences.candidates(customers, offers, AS_OF, settings)
    # A: win_back (at risk) and group_buy; B: new_customer and cross_sell; C: cross_sell;
    # D: win_back.
    assert sorted(zip(rows["campaign_type"], rows["customer_id"], strict=True)) == [
        ("cross_sell", "B"), ("cross_sell", "C"), ("group_buy", "A"), ("new_customer", "B"),
        ("win_back", "A"), ("win_back", "D")]
    # D opted out: in no audience. A had two messages this week: capped out entirely.
    # B had one: only its first campaign by priority (new_customer) fits.
    built = audiences.build(rows, opted_in={"A", "B", "C"},
                            recent_contacts=pd.Series({"A": 2, "B": 1}), as_of=AS_OF,
                            settings=settings)
    assert sorted(zip(built["campaign_type"], built["customer_id"], strict=True)) == [
        ("cross_sell", "C"), ("new_customer", "B")]
    # The cross-sell offer is the "bought with" recommendation, with its reason.
    c = built[built["customer_id"] == "C"].iloc[0]
    assert (c["offer_product_id"], c["reason"]) == ("NET", "bought with Ball")
    # Without recent contacts and a cap of 1, A gets only win_back (the higher priority).
    capped = audiences.build(rows, opted_in={"A"}, recent_contacts=pd.Series(dtype=int),
                             as_of=AS_OF, settings=audiences.AudienceSettings(
                                 frequency_cap=1, holdout_share=0.0))
    assert list(capped["campaign_type"]) == ["win_back"]


def test_the_holdout_is_stable_and_near_its_share():
    ids = [f"C{i:06d}" for i in range(20_000)]
    control = [audiences.in_holdout("win_back", c, 0.1) for c in ids]
    assert abs(np.mean(control) - 0.1) < 0.01  # binomial sd 0.002
    assert control == [audiences.in_holdout("win_back", c, 0.1) for c in ids]
    # Another campaign type draws its own control group.
    other = [audiences.in_holdout("cross_sell", c, 0.1) for c in ids]
    assert control != other


def _warehouse_with(feedback: pd.DataFrame):
    """An in-memory DuckDB with the two marts the recommender reads, holding the feedback
    rows (plus rows it must leave out: uncounted, unknown members, guests, other events,
    days on or after AS_OF)."""
    import duckdb

    con = duckdb.connect()
    con.execute("create schema marts")
    purchases = feedback[feedback["kind"] == "purchase"]
    lines = pd.DataFrame({"customer_id": purchases["customer_id"],
                          "product_id": purchases["product_id"],
                          "order_id": purchases["order_id"],
                          "order_date": pd.to_datetime(purchases["day"]).dt.date,
                          "is_counted": True})
    left_out = pd.DataFrame({"customer_id": ["C1", "-1", "C2"], "product_id": ["TEA", "CUP", "-1"],
                             "order_id": ["X1", "X2", "X3"],
                             "order_date": [AS_OF - timedelta(days=2)] * 3,
                             "is_counted": [False, True, True]})
    late = left_out.assign(customer_id="C1", product_id="PEN", is_counted=True,
                           order_date=AS_OF).head(1)
    con.register("lines", pd.concat([lines, left_out, late], ignore_index=True))
    con.execute("create table marts.fct_order_items as select * from lines")
    events = feedback[feedback["kind"] != "purchase"]
    rows = pd.DataFrame({"customer_id": events["customer_id"], "product_id": events["product_id"],
                         "event_type": events["kind"],
                         "event_date": pd.to_datetime(events["day"]).dt.date})
    noise = pd.DataFrame({"customer_id": [None, "C3", "C3", "C3"],
                          "product_id": ["TEA", None, "INK", "INK"],
                          "event_type": ["product_view", "product_view", "checkout",
                                         "add_to_cart"],
                          "event_date": [AS_OF - timedelta(days=1)] * 3 + [AS_OF]})
    con.register("events", pd.concat([rows, noise], ignore_index=True))
    con.execute("create table marts.fct_events as select * from events")
    return con


def test_feedback_aggregated_in_duckdb_equals_the_frame_computation():
    views = pd.DataFrame([
        {"customer_id": c, "product_id": p, "order_id": None, "kind": k,
         "day": AS_OF - timedelta(days=d)}
        for c, p, k, d in [("C9", "CUP", "product_view", 2), ("C9", "CUP", "product_view", 2),
                           ("C9", "CUP", "add_to_cart", 2), ("C10", "TEA", "product_view", 100),
                           ("C11", "INK", "add_to_cart", 40), ("C3", "OLD", "product_view", 7)]])
    feedback = pd.concat([_shop(), views], ignore_index=True)
    customers = pd.Index([f"C{i}" for i in range(1, 12)])
    settings = recommend.RecommendSettings(top_n=3, popularity_days=10)
    framed = recommend_data.from_frame(feedback, _products(), customers, AS_OF,
                                       settings.half_life_days, settings.popularity_days)
    con = _warehouse_with(feedback)
    found = recommend_data.from_warehouse(con, _products(), customers, AS_OF,
                                          settings.half_life_days, settings.popularity_days)
    np.testing.assert_allclose(found.weights.toarray(), framed.weights.toarray(), rtol=1e-12)
    np.testing.assert_array_equal(found.bought.toarray(), framed.bought.toarray())
    np.testing.assert_array_equal(found.orders.toarray(), framed.orders.toarray())
    np.testing.assert_allclose(found.purchases.toarray(), framed.purchases.toarray())
    np.testing.assert_array_equal(found.recent_sales, framed.recent_sales)
    pd.testing.assert_series_equal(found.repeat_rates, framed.repeat_rates, check_names=False)
    # The same baskets up to the order of their rows.
    assert sorted(map(tuple, found.baskets.toarray())) == sorted(map(tuple,
                                                                     framed.baskets.toarray()))
    assert found.first_day == framed.first_day == AS_OF - timedelta(days=100)
    # By hand: C9 viewed CUP twice and put it in the cart two days ago, and bought TEA a day
    # ago; C10's view of TEA 100 days ago is worth 0.1 x 0.5 ** (100 / 90).
    c9 = customers.get_loc("C9")
    assert found.weights[c9, 1] == pytest.approx((0.1 + 0.1 + 0.3) * 0.5 ** (2 / 90))
    assert found.weights[c9, 0] == pytest.approx(0.5 ** (1 / 90))
    assert found.weights[customers.get_loc("C10"), 0] == pytest.approx(0.1 * 0.5 ** (100 / 90))
    # Purchases in the last 10 days: TEA by C1-C6 (5 days ago) and C9, INK, PEN by C7-C8,
    # BALL and NET by C10.
    assert list(found.recent_sales) == [7, 0, 2, 2, 1, 1, 0]
    # The whole recommender gives the same lists from either.
    rows = np.arange(len(customers))
    lists = [recommend.fit_feedback(data, _products(), customers, settings).recommend(
        rows, log=lambda _: None) for data in (framed, found)]
    pd.testing.assert_frame_equal(lists[0][["customer_id", "product_id", "reason"]],
                                  lists[1][["customer_id", "product_id", "reason"]])


def test_top_n_by_partition_equals_a_stable_sort():
    rng = np.random.default_rng(3)
    # Few distinct values, so ties (including at the n-th place) are everywhere; -inf too.
    scores = rng.integers(0, 4, size=(200, 30)).astype(float)
    scores[rng.random(scores.shape) < 0.2] = -np.inf
    scores[0] = -np.inf  # a row with nothing allowed
    for n in (1, 3, 10, 30):
        np.testing.assert_array_equal(recommend.top_n(scores, n),
                                      np.argsort(-scores, axis=1, kind="stable")[:, :n])


def test_the_reason_names_the_bought_product_contributing_most():
    model = _model(recommend.RecommendSettings(top_n=5))
    rows = np.arange(len(model.customers))
    top = np.argsort(-model.scores(rows)[0], axis=1, kind="stable")[:, :5]
    # By the dense definition: argmax over the customer's products of feedback x similarity.
    profile = model.feedback.toarray()
    similarity = model.similarity.toarray()
    expected = np.array([[np.argmax(profile[r] * similarity[:, p]) for p in top[r]]
                         for r in rows])
    cf = model.scores(rows)[1]
    scored = np.take_along_axis(cf, top, axis=1) > 0  # the reason is used only there
    assert scored.any()
    np.testing.assert_array_equal(model._because(rows, top)[scored], expected[scored])


def test_feedback_at_several_dates_in_one_pass_equals_one_pass_per_date():
    """`from_warehouse_at` reads the marts once for the evaluation and the final feedback;
    each date's matrices equal those of `from_frame` at that date (rows before it only, ages
    from it)."""
    feedback = _shop()
    customers = pd.Index([f"C{i}" for i in range(1, 12)])
    settings = recommend.RecommendSettings(top_n=3, popularity_days=10)
    dates = [AS_OF - timedelta(days=4), AS_OF]
    found = recommend_data.from_warehouse_at(_warehouse_with(feedback), _products(), customers,
                                             dates, settings.half_life_days,
                                             settings.popularity_days)
    for day, data in zip(dates, found, strict=True):
        framed = recommend_data.from_frame(feedback[pd.to_datetime(feedback["day"]).dt.date < day],
                                           _products(), customers, day,
                                           settings.half_life_days, settings.popularity_days)
        np.testing.assert_allclose(data.weights.toarray(), framed.weights.toarray(), rtol=1e-12)
        np.testing.assert_array_equal(data.bought.toarray(), framed.bought.toarray())
        np.testing.assert_array_equal(data.orders.toarray(), framed.orders.toarray())
        np.testing.assert_allclose(data.purchases.toarray(), framed.purchases.toarray())
        np.testing.assert_array_equal(data.recent_sales, framed.recent_sales)
        pd.testing.assert_series_equal(data.repeat_rates, framed.repeat_rates, check_names=False)
        assert data.baskets.shape == framed.baskets.shape
        assert data.first_day == framed.first_day
    # Four days earlier the TEA bought 5 days ago by C1-C6 is still there, the later
    # purchases are not.
    assert found[0].bought.sum() < found[1].bought.sum()


def test_similarity_keeps_exactly_its_neighbours_among_ties():
    """Three products bought by the same two customers (cosine 1 between any two of them,
    and with themselves), a fourth bought by one of them (cosine 1/sqrt(2) with each), a
    fifth by nobody. A product keeps `neighbours` others even where its own similarity ties
    with them, never itself, and all its others when the catalogue is smaller."""
    weights = sparse.csr_matrix(np.array([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], dtype=float))
    for threads in (1, 2):
        one = recommend._item_similarity(weights, 1, threads).toarray()
        assert (np.count_nonzero(one, axis=0) == [1, 1, 1, 1, 0]).all()
        assert np.diag(one).sum() == 0
        # A twin's neighbour is another twin (1 > 1/sqrt(2)); the fourth's is a twin.
        assert all(one[:3, j].max() == pytest.approx(1.0) for j in range(3))
        assert one[:3, 3].max() == pytest.approx(1 / np.sqrt(2))
        every = recommend._item_similarity(weights, 10, threads).toarray()
        by_hand = np.array([[0, 1, 1, 2 ** -0.5, 0], [1, 0, 1, 2 ** -0.5, 0],
                            [1, 1, 0, 2 ** -0.5, 0], [2 ** -0.5] * 3 + [0, 0], [0] * 5])
        np.testing.assert_allclose(every, by_hand)


def test_similarity_and_lists_in_threads_equal_one_thread():
    """The similarity in sparse_dot_topn's threads and the customer batches computed side by
    side (ml/threads.py) give the same neighbours, values and lists as one thread; checked
    on a random shop big enough to split."""
    rng = np.random.default_rng(11)
    customers, products = 300, 40
    weights = sparse.random(customers, products, density=0.08, random_state=5, format="csr")
    one = recommend._item_similarity(weights, 5, threads=1).tocsr()
    three = recommend._item_similarity(weights, 5, threads=3).tocsr()
    one.sort_indices(), three.sort_indices()
    assert one.nnz == 5 * products
    np.testing.assert_array_equal(one.indptr, three.indptr)
    np.testing.assert_array_equal(one.indices, three.indices)
    np.testing.assert_array_equal(one.data, three.data)
    # Every kept neighbour is one of its column's 5 largest cosines (dense by hand).
    unit = weights.toarray() / np.linalg.norm(weights.toarray(), axis=0)
    cosine = unit.T @ unit
    np.fill_diagonal(cosine, 0)
    fifth = np.sort(cosine, axis=0)[-5]
    kept = one.tocoo()
    assert (cosine[kept.row, kept.col] >= fifth[kept.col] - 1e-12).all()

    catalogue = pd.DataFrame({"product_id": [f"P{j:02d}" for j in range(products)],
                              "product_name": [f"Product {j}" for j in range(products)],
                              "category": [f"K{j % 4}" for j in range(products)],
                              "is_active": True})
    shop = _purchases([(f"C{i}", f"P{j:02d}", f"O{i}", int(rng.integers(0, 60)))
                       for i, j in zip(*weights.nonzero(), strict=True)])
    index = pd.Index([f"C{i}" for i in range(customers)])
    models = [recommend.fit(shop, catalogue, index, AS_OF, recommend.RecommendSettings(
        top_n=4, batch_size=7, threads=threads)) for threads in (1, 2)]
    lists = [model.recommend(log=lambda _: None) for model in models]
    assert len(lists[0]) == 4 * customers
    pd.testing.assert_frame_equal(lists[0], lists[1])
    # The baselines' batches side by side: the same lists, random ones included (each
    # batch draws from its own stream).
    baskets = recommend_data.from_frame(shop, catalogue, index, AS_OF, 90, 90).baskets
    rows = np.arange(customers)
    baselines = [recommend.baseline_lists(model, rows, baskets, seed=7) for model in models]
    assert baselines[0] == baselines[1]
    assert all(len(ranked) == customers for ranked in baselines[0].values())


# --- buy again -------------------------------------------------------------------------

def _grocery() -> tuple[pd.DataFrame, pd.DataFrame, pd.Index]:
    """S1 buys MILK every week (4 orders, 7 to 28 days ago) and BREAD once; S2 MILK twice
    and YOG once; S3 MILK, BREAD and a KETTLE once; S4 KETTLE and MUG; S5 and S6 YOG and
    BREAD (S5 with a MUG). Dairy pairs bought in 2+ orders: (S1, MILK), (S2, MILK) of 6
    pairs, so Dairy's rate is 1/3 (repeatable at 0.2); Bakery's and Kitchen's are 0."""
    products = pd.DataFrame(
        [("MILK", "Milk", "Dairy"), ("YOG", "Yoghurt", "Dairy"), ("BREAD", "Bread", "Bakery"),
         ("KETTLE", "Kettle", "Kitchen"), ("MUG", "Mug", "Kitchen")],
        columns=["product_id", "product_name", "category"])
    products["is_active"] = True
    rows = [("S1", "MILK", "A1", 7), ("S1", "MILK", "A2", 14), ("S1", "MILK", "A3", 21),
            ("S1", "MILK", "A4", 28), ("S1", "BREAD", "A4", 28),
            ("S2", "MILK", "B1", 10), ("S2", "MILK", "B2", 20), ("S2", "YOG", "B1", 10),
            ("S3", "MILK", "C1", 5), ("S3", "BREAD", "C1", 5), ("S3", "KETTLE", "C1", 5),
            ("S4", "KETTLE", "D1", 3), ("S4", "MUG", "D1", 3),
            ("S5", "BREAD", "E1", 2), ("S5", "MUG", "E1", 2), ("S5", "YOG", "E1", 2),
            ("S6", "YOG", "F1", 2), ("S6", "BREAD", "F1", 2)]
    return _purchases(rows), products, pd.Index([f"S{i}" for i in range(1, 7)])


def _grocer(**settings) -> recommend.Recommender:
    feedback, products, customers = _grocery()
    return recommend.fit(feedback, products, customers, AS_OF,
                         recommend.RecommendSettings(top_n=5, **settings))


def test_the_learned_repurchase_chance_shrinks_a_product_to_its_category():
    model = _grocer()
    assert model.repeat_rates["Dairy"] == pytest.approx(1 / 3)
    # MILK: 3 buyers, 2 bought it again; YOG: 3 buyers, none again; 10 pairs of prior at 1/3.
    assert model.repurchase[0] == pytest.approx((2 + 10 / 3) / (3 + 10))
    assert model.repurchase[1] == pytest.approx((0 + 10 / 3) / (3 + 10))
    # Without a prior the products' own shares; Bakery and Kitchen never repeat: 0.
    own = recommend.repurchase_chance(model.orders, np.array([1 / 3, 1 / 3, 0, 0, 0]), 0)
    np.testing.assert_allclose(own, [2 / 3, 0, 0, 0, 0])


def test_the_weekly_staple_comes_first_and_says_why():
    row = np.array([0])  # S1
    # S2's term by hand: MILK, its most (and latest) bought, scaled to 1; YOG bought once
    # 10 days ago against MILK's 10 and 20 days ago.
    milk, yog = 2 * (2 + 10 / 3) / 13, 2 * (10 / 3) / 13
    term = _grocer(buy_again_weight=2.0).buy_again(np.array([1])).toarray()[0]
    decay = 0.5 ** (np.array([10, 20]) / 90)
    np.testing.assert_allclose(term, [milk, yog * decay[0] / decay.sum(), 0, 0, 0])
    without = _top(_grocer(buy_again_weight=0.0), "S1")
    assert without.iloc[0]["product_id"] == "YOG"  # CF alone puts the staple second
    top = _top(_grocer(buy_again_weight=2.0), "S1")
    assert top.iloc[0][["product_id", "reason"]].tolist() == ["MILK", "you buy it regularly"]
    # The staple's score is its blend without the term plus the term: 2 x 16/39.
    before = without.set_index("product_id").loc["MILK", "score"]
    assert top.iloc[0]["score"] == pytest.approx(before + milk)
    model = _grocer(buy_again_weight=2.0)
    assert model.recommend(row, log=lambda _: None).iloc[0]["score"] == top.iloc[0]["score"]
    # S3 bought MILK once: offered again, and said so.
    s3 = _top(_grocer(buy_again_weight=2.0), "S3").iloc[0]
    assert s3[["product_id", "reason"]].tolist() == ["MILK", "you bought it before"]


def test_a_durable_never_repeats_however_heavy_the_buy_again_weight():
    model = _grocer(buy_again_weight=100.0)
    lists = recommend._lists(model.recommend(log=lambda _: None))
    assert "KETTLE" not in lists["S3"] and "BREAD" not in lists["S3"]
    assert not {"KETTLE", "MUG"} & set(lists["S4"])
    assert "BREAD" not in lists["S1"]
    assert model.buy_again(np.arange(6))[:, 2:].nnz == 0  # no term on Bakery or Kitchen


def test_the_buy_again_weight_is_chosen_by_ndcg_and_buy_again_is_a_baseline():
    model = _grocer()
    # S1 then buys MILK only: weight 0 ranks it second (NDCG 1/log2(3)), 2 first (1).
    weight, ndcg = recommend.choose_weight(model, np.array([0]), {"S1": {"MILK"}}, "buy_again",
                                           (0.0, 2.0))
    assert weight == 2.0
    assert ndcg == pytest.approx({0.0: 1 / np.log2(3), 2.0: 1.0})
    feedback, _, _ = _grocery()
    baskets = recommend_data.from_frame(feedback, model.products, model.customers, AS_OF, 90,
                                        90).baskets
    lists = recommend.baseline_lists(model, np.arange(6), baskets, seed=7)["buy_again"]
    # Lines in the last 90 days: MILK 7, BREAD 4, YOG 3, KETTLE 2, MUG 2.
    # S2: MILK (2 orders), YOG (1), then the others by popularity: BREAD, then KETTLE
    # before MUG (a tie: the lower index first).
    assert lists["S2"] == ["MILK", "YOG", "BREAD", "KETTLE", "MUG"]
    # S4 bought durables only, which do not repeat: the popular others.
    assert lists["S4"] == ["MILK", "BREAD", "YOG"]


def test_the_popularity_weight_is_chosen_by_ndcg():
    model = _grocer()
    # S4 bought a KETTLE and a MUG (durables, Kitchen: nothing left to offer there). BREAD
    # is the one product bought with both, so CF alone ranks it first; by popularity MILK
    # leads (7 lines in 90 days against BREAD's 4: 100 x 1 against 100 x 4/7 plus at most 1
    # of CF). S4 then buys MILK: weight 0 misses the first place, 100 takes it (NDCG 1).
    weight, ndcg = recommend.choose_weight(model, np.array([3]), {"S4": {"MILK"}}, "popularity",
                                           (0.0, 100.0))
    assert weight == 100.0
    assert ndcg[100.0] == pytest.approx(1.0) and ndcg[0.0] < 1.0
    without = replace(model, settings=replace(model.settings, popularity_weight=0.0))
    assert _top(without, "S4").iloc[0]["product_id"] == "BREAD"


def test_settings_are_validated():
    for bad in ({"buy_again_weight": -1.0}, {"buy_again_candidates": ()},
                {"buy_again_candidates": (1.0, -0.5)}, {"popularity_candidates": ()},
                {"popularity_candidates": (-1.0,)}, {"popularity_candidates": (float("inf"),)},
                {"popularity_weight": float("inf")}, {"neighbours": 10_001},
                {"repeat_prior_pairs": -1.0},
                {"repeat_rate": 1.5}, {"top_n": 0}):
        with pytest.raises(ValueError, match="recommender setting"):
            recommend.RecommendSettings(**bad)


def _grocery_warehouse(held_out: list[tuple[str, str]]):
    """A DuckDB with the four marts `run` reads: S1-S3 buy MILK and S4-S6 YOG every 7 days
    for 10 weeks (the first order with BREAD, S3's and S6's with a KETTLE), then the
    `held_out` (customer, product) lines on the last day, 2026-03-01."""
    import duckdb

    first = AS_OF - timedelta(days=70)
    lines = []
    for i in range(1, 7):
        staple = "MILK" if i <= 3 else "YOG"
        for week in range(10):
            day = first + timedelta(days=7 * week + i % 3)
            lines.append((f"S{i}", staple, f"S{i}-{week}", day))
            if week == 0:
                lines.append((f"S{i}", "BREAD", f"S{i}-{week}", day))
                if i in (3, 6):
                    lines.append((f"S{i}", "KETTLE", f"S{i}-{week}", day))
    lines += [(c, p, f"{c}-last", AS_OF) for c, p in held_out]
    con = duckdb.connect()
    con.execute("create schema marts")
    con.register("lines", pd.DataFrame(lines, columns=["customer_id", "product_id", "order_id",
                                                       "order_date"]))
    con.execute("create table marts.fct_order_items as select *, true as is_counted from lines")
    con.execute("""create table marts.fct_events as select 'S1' as customer_id,
                   'MILK' as product_id, 'product_view' as event_type, date '2000-01-01'
                   as event_date where false""")
    _, products, customers = _grocery()
    con.register("products", products)
    con.execute("create table marts.dim_products as select *, false as is_unknown_member "
                "from products")
    con.register("customers", pd.DataFrame({"customer_id": list(customers)}))
    con.execute("create table marts.dim_customers as select customer_id, true as "
                "is_marketing_opt_in, false as is_unknown_member from customers")
    return con


def test_run_chooses_the_buy_again_weight_on_earlier_days_without_peeking():
    settings = recommend.RecommendSettings(top_n=3, evaluation_days=14,
                                           min_evaluation_customers=2,
                                           buy_again_candidates=(0.0, 4.0))
    staples = [(f"S{i}", "MILK" if i <= 3 else "YOG") for i in range(1, 7)]
    others = [(f"S{i}", "MUG") for i in range(1, 7)]
    runs = [recommend.run(_grocery_warehouse(held_out), settings, log=lambda _: None)
            for held_out in (staples, others)]
    # The same choice whatever the held-out days hold, as it reads only the days before.
    chosen = [r.record.extra["buy_again_ndcg_before_evaluation"] for r in runs]
    assert chosen[0] == chosen[1] and set(chosen[0]) == {"0.0", "4.0"}
    for name in ("buy_again_weight", "popularity_weight", "popularity_ndcg_before_evaluation"):
        assert runs[0].record.extra[name] == runs[1].record.extra[name]
    # In the 14 days before the held-out ones everyone bought their staple again: with
    # weight 4 it is first in every list (NDCG 1).
    assert chosen[0]["4.0"] == 1.0
    assert runs[0].record.extra["buy_again_weight"] == 4.0
    metrics = [r.metrics.set_index("method")["ndcg"] for r in runs]
    assert metrics[0]["item_cf_blend"] == 1.0 and metrics[1]["item_cf_blend"] < 1.0
    assert metrics[0]["buy_again"] == 1.0  # the baseline: each one's staple first
    top = runs[0].recommendations.query("recommendation_rank == 1")
    assert set(top["reason"]) == {"you buy it regularly"}


def test_run_skips_the_choice_when_no_category_repeats():
    con = _grocery_warehouse([(f"S{i}", "MUG") for i in range(1, 7)])
    # Only the first orders, and a KETTLE 20 days ago for those without one: every
    # (customer, product) pair is bought once, so no category repeats and the buy-again
    # term is 0 at any weight: the weight set is kept, nothing is chosen.
    con.execute("delete from marts.fct_order_items where order_id similar to '.*-[1-9]'")
    con.execute("insert into marts.fct_order_items select customer_id, 'KETTLE', "
                "customer_id || '-k', ?, true from marts.dim_customers "
                "where customer_id not in ('S3', 'S6')", [AS_OF - timedelta(days=20)])
    settings = recommend.RecommendSettings(top_n=3, evaluation_days=14,
                                           min_evaluation_customers=2, buy_again_weight=0.5)
    result = recommend.run(con, settings, log=lambda _: None)
    assert set(result.record.extra["repurchase_rates"].values()) == {0.0}
    assert result.record.extra["buy_again_weight"] == 0.5
    assert result.record.extra["buy_again_ndcg_before_evaluation"] == {}
    assert "you" not in " ".join(result.recommendations["reason"])


def test_lists_of_a_recommendations_frame_in_rank_order():
    frame = pd.DataFrame({"customer_id": ["B", "A", "B", "A", "C"],
                          "recommendation_rank": [2, 1, 1, 2, 1],
                          "product_id": ["P2", "P5", "P9", "P1", "P3"]})
    assert recommend._lists(frame) == {"A": ["P5", "P1"], "B": ["P9", "P2"], "C": ["P3"]}
    assert recommend._lists(frame.iloc[:0]) == {}  # every product blocked: no lists
