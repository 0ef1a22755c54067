"""Demand features on a made-up history whose values are worked out by hand, and the
point-in-time property: nothing after the origin changes a feature."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.demand import DemandSettings, training_set
from ml.demand_data import DemandHistory
from ml.demand_features import FEATURES, feature_frame, prefix_sums

START = date(2025, 1, 6)  # a Monday
DAYS = 400
ORIGIN = 380


def _history() -> DemandHistory:
    """Product 0 sells (day % 7) units every day, at 10 a unit, with a 25% promotion on days
    378-380. Product 1 sells 1 unit a day from its launch on day 100. A discount campaign
    runs on days 375-390, a flash sale on 385-395."""
    day = np.arange(DAYS)
    units = np.stack([day % 7, np.where(day >= 100, 1, 0)]).astype(float)
    gross = units * 10
    discount = np.zeros_like(gross)
    discount[0, 378:381] = gross[0, 378:381] * 0.25
    products = pd.DataFrame({"product_id": ["P0", "P1"], "category": ["Toys", "Food"],
                             "list_price": [10.0, 10.0], "is_active": [True, True],
                             "available_from": [0, 100]})
    campaigns = pd.DataFrame({"start_day": [375, 385], "end_day": [390, 395],
                              "is_demand_type": [True, True]})
    start = np.datetime64(START, "D")
    return DemandHistory(start=start, end=start + DAYS - 1, products=products, units=units,
                         gross=gross, discount=discount, campaigns=campaigns)


def _features(history: DemandHistory, origin: int = ORIGIN, horizon: int = 28) -> pd.DataFrame:
    o = np.full(2 * horizon, origin)
    p = np.repeat([0, 1], horizon)
    h = np.tile(np.arange(1, horizon + 1), 2)
    return feature_frame(history, prefix_sums(history), o, p, h)


def test_window_features_match_hand_computed_values():
    f = _features(_history())
    p0, p1 = f.iloc[0], f.iloc[28]
    assert p0["units_last_1d"] == 380 % 7 == 2
    assert p0["units_mean_7d"] == pytest.approx(3)  # one whole week of 0..6
    assert p0["units_mean_28d"] == pytest.approx(3)
    assert p0["days_since_last_sale"] == 0
    assert p0["discount_share_3d"] == pytest.approx(0.25)  # days 378 (no sale), 379, 380
    assert p0["discount_share_28d"] == pytest.approx(0.25 * 30 / 840)
    assert p0["promo_days_14d"] == 2
    assert p0["price_index_28d"] == pytest.approx((840 - 7.5) / 84 / 10)
    # Product 1 is averaged over the days it was on sale only.
    assert p1["days_available"] == 281
    assert p1["units_mean_364d"] == pytest.approx(1)
    assert p1["zero_day_share_28d"] == 0


def test_target_day_features_step_back_to_days_known_at_the_origin():
    f = _features(_history())
    for h in range(1, 29):
        row = f.iloc[h - 1]
        target = START + timedelta(days=ORIGIN + h)
        assert row["same_weekday_last"] == (ORIGIN + h) % 7  # the same weekday, known
        assert row["target_iso_dow"] == target.isoweekday()
        assert row["target_day_of_month"] == target.day
        # Started by the origin: the discount campaign (to day 390); not the flash sale.
        assert row["campaigns_active"] == (1 if ORIGIN + h <= 390 else 0)
    assert f.iloc[0]["last_year_mean_7d"] == pytest.approx(3)  # days 14-20: one week
    assert np.isnan(f.iloc[28]["last_year_mean_7d"])  # product 1 was not launched then


def test_festival_features_of_the_target_day():
    history = _history()
    double_11 = history.day_index("2025-11-11")
    f = _features(history, origin=double_11 - 5, horizon=7).iloc[:7]
    # The next 11.11 after this one is a year away: capped at 60 days.
    assert list(f["days_until_double_11"]) == [4, 3, 2, 1, 0, 60, 60]
    assert list(f["target_festival"]) == [0, 0, 0, 0, 1, 0, 0]  # 1: double_11


def test_nothing_after_the_origin_changes_a_feature():
    history = _history()
    rng = np.random.default_rng(0)
    future = {name: getattr(history, name).copy() for name in ("units", "gross", "discount")}
    for matrix in future.values():
        matrix[:, ORIGIN + 1:] = rng.integers(0, 50, matrix[:, ORIGIN + 1:].shape)
    changed = replace(history, **future)
    pd.testing.assert_frame_equal(_features(history), _features(changed))


def test_training_rows_never_target_a_day_after_the_training_day():
    history = _history()
    settings = DemandSettings(horizon_days=28, origin_step_days=7, max_train_rows=10_000)
    data = training_set(history, prefix_sums(history), 300, settings)
    assert list(data.features.columns) == FEATURES
    horizon = data.features["horizon_day"].to_numpy()
    assert (data.origin + horizon <= 300).all()
    origins = np.unique(data.origin)
    assert list(origins[-2:]) == [286, 293] and origins.min() >= 27  # weekly, 28 days known
    # Every (origin, available product, horizon day) whose target is known, none missing.
    assert len(horizon) == sum(min(28, 300 - o) * (1 if o < 100 else 2) for o in origins)
    product = np.where(data.features["category_code"] == 1, 0, 1)  # Food 0, Toys 1
    np.testing.assert_array_equal(data.target, history.units[product, data.origin + horizon])


def test_rows_are_sampled_down_reproducibly():
    history = _history()
    settings = DemandSettings(max_train_rows=500, seed=3)
    first = training_set(history, prefix_sums(history), 300, settings)
    second = training_set(history, prefix_sums(history), 300, settings)
    assert len(first.target) == 500
    pd.testing.assert_frame_equal(first.features, second.features)


def _short_history(days: int) -> DemandHistory:
    """One product selling 2 units every day for `days` days."""
    units = np.full((1, days), 2.0)
    products = pd.DataFrame({"product_id": ["P0"], "category": ["Toys"], "list_price": [5.0],
                             "is_active": [True], "available_from": [0]})
    campaigns = pd.DataFrame({"start_day": np.array([], int), "end_day": np.array([], int),
                              "is_demand_type": np.array([], bool)})
    start = np.datetime64(START, "D")
    return DemandHistory(start=start, end=start + days - 1, products=products, units=units,
                         gross=units * 5, discount=np.zeros_like(units), campaigns=campaigns)


@pytest.mark.parametrize("days", [1, 30, 270, 364, 365, 392])
def test_windows_at_the_edges_of_history(days):
    """Day 0, less than a year and about a year of history: every window is clipped to the
    days that exist (a nine-month drop once failed with an IndexError here)."""
    history = _short_history(days)
    origin = days - 1
    f = _features_one(history, origin)
    assert f["units_last_1d"].iloc[0] == 2
    # A window longer than the history averages the days there are: 2 units a day.
    assert f["units_mean_364d"].iloc[0] == pytest.approx(2)
    assert f["units_mean_7d"].iloc[0] == pytest.approx(2)
    # Last year's week around the target (t - 367 .. t - 361) exists once t >= 367.
    target = origin + f["horizon_day"].to_numpy()
    expected = np.where(target - 367 >= 0, 2.0, np.nan)
    np.testing.assert_array_equal(f["last_year_mean_7d"].to_numpy(), expected)
    # The category's year-on-year ratio needs the origin's 28 days a year back (o - 391).
    known = origin - 391 >= 0
    assert np.isnan(f["category_last_year_ratio"].to_numpy()).all() != known


def _features_one(history: DemandHistory, origin: int, horizon: int = 28) -> pd.DataFrame:
    return feature_frame(history, prefix_sums(history), np.full(horizon, origin),
                         np.zeros(horizon, dtype=int), np.arange(1, horizon + 1))


def test_short_history_gets_fewer_backtest_origins_or_a_reason():
    from ml.demand import backtest_origins
    from ml.errors import NotEnoughData

    settings = DemandSettings()  # 28 to learn, 7 to the first origin, 28 per backtest
    with pytest.raises(NotEnoughData, match="needs 63 days of demand history .*has 11$"):
        backtest_origins(_short_history(11), settings)
    assert backtest_origins(_short_history(63), settings) == 1
    assert backtest_origins(_short_history(90), settings) == 1
    assert backtest_origins(_short_history(91), settings) == 2
    assert backtest_origins(_short_history(400), settings) == 3  # the configured number


def test_training_sets_computed_together_equal_each_computed_alone():
    """The backtest and final models' rows share their features (computed once); each set
    is the one its model would draw alone, so a refit draws the same rows."""
    from ml.demand import training_sets

    history = _history()
    settings = DemandSettings(max_train_rows=1_000, min_train_rows=1, seed=5,
                              train_rows_per_product=10_000)
    together = training_sets(history, prefix_sums(history), [244, 272, 300], settings)
    for day, data in together.items():
        alone = training_set(history, prefix_sums(history), day, settings)
        assert len(data.target) == 1_000
        pd.testing.assert_frame_equal(data.features, alone.features)
        np.testing.assert_array_equal(data.target, alone.target)
        np.testing.assert_array_equal(data.origin, alone.origin)
        assert (data.origin + data.features["horizon_day"].to_numpy() <= day).all()
    # The smallest keys win: most of the earlier model's rows are the later one's too.
    codes = {day: set(zip(d.origin, d.features["category_code"], d.features["horizon_day"],
                          strict=True))
             for day, d in together.items()}
    assert len(codes[272] & codes[300]) > 700


def test_row_limit_scales_with_products_between_its_bounds():
    settings = DemandSettings(max_train_rows=300_000, min_train_rows=50_000,
                              train_rows_per_product=400)
    assert settings.row_limit(249) == 99_600  # 249 x 400
    assert settings.row_limit(10) == 50_000  # 4,000 is below the floor
    assert settings.row_limit(4_977) == 300_000  # 1,990,800 is above the cap


def test_a_product_without_a_launch_date_counts_its_first_interval_from_day_0():
    # Product 1 first sells on day 100 (1 unit a day after). Launched on day 100: its first
    # interval is 1 day. Without a launch date: 101 days (days 0..100), so SBA's state
    # after day 100 is 0.95 x 1 / 101 and TSB's 1 / 101.
    launched = _history()
    unlaunched = replace(launched, products=launched.products.assign(
        has_launch_date=[True, False]))
    for history, interval in ((launched, 1.0), (unlaunched, 101.0)):
        f = feature_frame(history, prefix_sums(history), np.array([100]), np.array([1]),
                          np.array([1]))
        assert f["sba_forecast"].iloc[0] == pytest.approx(0.95 / interval)
        assert f["tsb_forecast"].iloc[0] == pytest.approx(1 / interval)


def test_a_product_without_a_launch_date_averages_over_the_whole_window():
    # Product 1 sells 1 unit a day from day 100. At origin 103, launched on day 100: 4 units
    # over its 4 days (mean 1, 28-day mean 1). Without a launch date its days count from day
    # 0: 4 units over 7 days and over 28 days; no day without a sale in the 28 days counts as
    # one. Its category mean (only it in Food, available from day 100) stays 1.
    launched = _history()
    unlaunched = replace(launched, products=launched.products.assign(
        has_launch_date=[True, False]))
    f = {name: feature_frame(h, prefix_sums(h), np.array([103]), np.array([1]), np.array([1]))
         .iloc[0] for name, h in (("launched", launched), ("unlaunched", unlaunched))}
    assert f["launched"]["units_mean_7d"] == pytest.approx(1.0)
    assert f["launched"]["zero_day_share_28d"] == pytest.approx(0.0)
    assert f["unlaunched"]["units_mean_7d"] == pytest.approx(4 / 7)
    assert f["unlaunched"]["units_mean_28d"] == pytest.approx(4 / 28)
    assert f["unlaunched"]["zero_day_share_28d"] == pytest.approx(24 / 28)
    assert f["unlaunched"]["category_mean_28d"] == pytest.approx(1.0)
    assert f["unlaunched"]["days_available"] == f["launched"]["days_available"] == 4


def _dense_and_sparse_history() -> DemandHistory:
    """Product 0 sells (day % 7) units a day (6 days in 7: dense); products 1-9 sell one unit
    every 10th day (intermittent), all in one category, all on sale from day 0."""
    day = np.arange(DAYS)
    units = np.vstack([day % 7, np.tile((day % 10 == 0).astype(float), (9, 1))]).astype(float)
    products = pd.DataFrame({"product_id": [f"P{i}" for i in range(10)], "category": "Toys",
                             "list_price": 10.0, "is_active": True, "available_from": 0})
    campaigns = pd.DataFrame({"start_day": np.array([], int), "end_day": np.array([], int),
                              "is_demand_type": np.array([], bool)})
    start = np.datetime64(START, "D")
    return DemandHistory(start=start, end=start + DAYS - 1, products=products, units=units,
                         gross=units * 10, discount=np.zeros_like(units), campaigns=campaigns)


def _row_codes(data) -> set[tuple[int, int, int]]:
    return set(zip(data.origin.tolist(), data.product.tolist(),
                   data.features["horizon_day"].tolist(), strict=True))


def test_dense_products_get_at_least_their_quota_of_training_rows():
    """The sample keeps the `max_train_rows` smallest keys of all candidates and, beside
    them, the smallest keys of the dense products' candidates up to
    `dense_rows_per_product` x the dense products, of which those not sampled yet at most
    `dense_extra_share` of the limit: worked out here from the candidates and their keys
    sorted by hand (product 0 is the only dense product)."""
    from ml.demand import candidate_rows, row_keys
    from ml.intermittent import density_class

    history = _dense_and_sparse_history()
    assert density_class(history.units[0, :301]) == "dense"
    assert density_class(history.units[1, :301]) == "intermittent"
    base = DemandSettings(max_train_rows=300, min_train_rows=1, seed=5,
                          dense_rows_per_product=0)
    o, p, h = candidate_rows(history, 300, base)
    keys = row_keys(o, p, h, base.seed)
    everyone = set(np.argsort(keys)[:300].tolist())
    dense = np.flatnonzero(p == 0)
    quota = set(dense[np.argsort(keys[dense])[:120]].tolist())
    plain = training_set(history, prefix_sums(history), 300, base)
    # Product 0 has a tenth of the candidates, so about 30 of the plain sample's 300 rows.
    assert (plain.product == 0).sum() < 60
    data = training_set(history, prefix_sums(history), 300,
                        replace(base, dense_rows_per_product=120, dense_extra_share=1.0))
    assert _row_codes(data) == {(int(o[i]), int(p[i]), int(h[i])) for i in everyone | quota}
    assert (data.product == 0).sum() >= 120
    target_day = data.origin + data.features["horizon_day"].to_numpy()
    np.testing.assert_array_equal(data.target, history.units[data.product, target_day])
    # At most 10% of the limit added: the 30 new rows with the smallest keys.
    new = sorted(quota - everyone, key=lambda i: keys[i])
    assert len(new) > 30
    capped = training_set(history, prefix_sums(history), 300,
                          replace(base, dense_rows_per_product=120, dense_extra_share=0.1))
    assert _row_codes(capped) == {(int(o[i]), int(p[i]), int(h[i]))
                                  for i in everyone | set(new[:30])}
    # A quota the plain sample already meets changes nothing.
    few = training_set(history, prefix_sums(history), 300,
                       replace(base, dense_rows_per_product=(plain.product == 0).sum()))
    pd.testing.assert_frame_equal(few.features, plain.features)


def test_a_negative_dense_quota_or_a_share_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="dense_rows_per_product must be 0 or more, got -1"):
        DemandSettings(dense_rows_per_product=-1)
    with pytest.raises(ValueError, match="dense_extra_share must be within 0..1, got 1.5"):
        DemandSettings(dense_extra_share=1.5)


def test_the_dense_quota_reads_no_day_after_the_training_day():
    """The classes that choose the dense products are those at the training day: swapping
    which products are dense after it (product 0 stops selling, products 1-9 sell daily)
    leaves the training rows as they were."""
    history = _dense_and_sparse_history()
    units = history.units.copy()
    units[0, 301:] = 0
    units[1:, 301:] = 3
    changed = replace(history, units=units, gross=units * 10)
    settings = DemandSettings(max_train_rows=300, min_train_rows=1, seed=5,
                              dense_rows_per_product=120, dense_extra_share=1.0)
    before = training_set(history, prefix_sums(history), 300, settings)
    after = training_set(changed, prefix_sums(changed), 300, settings)
    assert (before.product == 0).sum() >= 120
    pd.testing.assert_frame_equal(before.features, after.features)
    np.testing.assert_array_equal(before.target, after.target)


def test_a_record_from_before_the_dense_top_up_refits_without_it():
    from dataclasses import asdict

    from ml.demand import recorded_settings
    from ml.registry import ModelRecord

    now = asdict(DemandSettings(seed=3))
    old = {k: v for k, v in now.items()
           if k not in ("dense_rows_per_product", "dense_extra_share")}

    def record(settings: dict) -> ModelRecord:
        return ModelRecord("demand_forecast", settings, "2026-01-01", "2026-03-01",
                           ["2026-03-01"], [], {})

    assert recorded_settings(record(old)) == DemandSettings(seed=3, dense_rows_per_product=0)
    assert recorded_settings(record(now)) == DemandSettings(seed=3)  # recorded: kept
