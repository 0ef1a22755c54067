"""Count quantiles of the demand forecast (ml/demand_quantiles.py): the negative binomial's
CDF and quantiles by hand and against scipy.stats, the size's fit, and the model's p10/p50/p90."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ml import demand_quantiles as nbq
from ml.demand import QUANTILES, DemandSettings, fit, origin_rows
from ml.demand_features import feature_frame, prefix_sums
from tests.unit.demand_histories import history_of


def test_geometric_cdf_and_quantiles_by_hand():
    # Size 1 is the geometric: P(Y <= j) = 1 - (mu / (1 + mu))^(j + 1); with mu = 2:
    # 1/3, 5/9, 19/27, ... and P(Y <= j) >= 0.9 first at j = 5 ((2/3)^6 = 0.088).
    np.testing.assert_allclose(nbq.nb_cdf(np.array([-1, 0, 1, 2]), 2.0, 1.0),
                               [0.0, 1 / 3, 5 / 9, 19 / 27])
    assert [float(nbq.nb_quantile(tau, np.array([2.0]), 1.0)[0]) for tau in (0.1, 0.5, 0.9)] \
        == [0.0, 1.0, 5.0]
    # A mean of 0 is a point mass at 0.
    assert list(nbq.nb_quantile(0.9, np.zeros(3), np.array([0.1, 1.0, 1e4]))) == [0, 0, 0]


def test_quantiles_equal_scipys_negative_binomial():
    rng = np.random.default_rng(5)
    mean = np.concatenate([rng.gamma(0.5, 4.0, 3000), [0.001, 0.3, 40.0, 400.0]])
    size = np.concatenate([rng.uniform(0.05, 60.0, 3000), [0.5, 1e4, 1e4, 2.0]])
    for tau in (0.1, 0.5, 0.9):
        expected = stats.nbinom.ppf(tau, size, size / (size + mean))
        np.testing.assert_array_equal(nbq.nb_quantile(tau, mean, size), expected)


def test_the_size_is_recovered_from_negative_binomial_counts():
    rng = np.random.default_rng(6)
    mean = rng.gamma(2.0, 1.5, 40_000)
    counts = stats.nbinom.rvs(2.5, 2.5 / (2.5 + mean), random_state=rng)
    assert nbq.fit_size(counts, mean) == pytest.approx(2.5, rel=0.1)
    # Poisson counts: the likelihood keeps rising with k, up to the bound.
    poisson = rng.poisson(mean)
    assert nbq.fit_size(poisson, mean) > 50


def test_counts_no_wider_than_poisson_are_poisson_not_the_smallest_size():
    # 2,000 product-days forecast 0.05 a day that sold nothing, or once in 100 days: the
    # likelihood alone falls to the smallest k (sd sqrt(0.05 + 0.05² / 0.001) = 1.6 a day
    # for products that sold nothing); Pearson's statistic (sum (y - mu)² / mu: 100 and
    # 20 x 0.95² / 0.05 + 1,980 x 0.05 = 460) is below the 2,000 rows, so Poisson.
    mean = np.full(2000, 0.05)
    for sold in (0, 20):
        units = np.zeros(2000)
        units[:sold] = 1
        assert nbq.fit_size(units, mean) == nbq.SIZE_BOUNDS[1]
    # Overdispersed counts around the same means still get their own size.
    rng = np.random.default_rng(3)
    lumpy = stats.nbinom.rvs(0.05, 0.05 / (0.05 + 0.05), size=20_000, random_state=rng)
    assert nbq.fit_size(lumpy, np.full(20_000, 0.05)) < 1


def test_a_quantile_of_a_mean_beyond_exact_integers_ends():
    # Past 2^53 the bisection's midpoint can equal a bound; it must stop with a bound that
    # holds, not loop.
    q = nbq.nb_quantile(0.9, np.array([1e17, 3.0]), np.array([1e4, 1e4]))
    assert q[0] >= 1e17
    assert q[1] == stats.nbinom.ppf(0.9, 1e4, 1e4 / (1e4 + 3.0))


def test_sizes_per_class_and_bin_of_expected_units_and_their_fallbacks():
    # "dense": means 1 to 2 drawn with k = 0.5, means 20 to 40 with k = 20 (the bins split
    # there); "lumpy" has too few rows and takes the pooled size.
    rng = np.random.default_rng(7)
    low, high = rng.uniform(1, 2, 6000), rng.uniform(20, 40, 4000)
    mean = np.concatenate([low, high, np.full(300, 2.0)])
    size = np.concatenate([np.full(6000, 0.5), np.full(4000, 20.0), np.full(300, 1.0)])
    counts = stats.nbinom.rvs(size, size / (size + mean), random_state=rng)
    groups = np.array(["dense"] * 10_000 + ["lumpy"] * 300)
    fit = nbq.fit_dispersion(groups, counts, mean)
    assert set(fit) == {nbq.POOLED, "dense"}  # lumpy: 300 rows < MIN_ROWS
    dense = fit["dense"]
    assert len(dense["edges"]) == nbq.MEAN_BINS - 1 and len(dense["sizes"]) == nbq.MEAN_BINS
    # Bins by equal counts of 10,000 rows: the first three hold the low means only, the
    # last two the high ones.
    assert dense["edges"][1] < 2 <= dense["edges"][2] <= 20 < dense["edges"][3]
    for k in dense["sizes"][:3]:
        assert k == pytest.approx(0.5, rel=0.15)
    for k in dense["sizes"][3:]:
        assert k == pytest.approx(20.0, rel=0.35)
    # Lumpy takes the pooled fit's bin of its mean: 40.0 is in the last of all rows' bins.
    pooled = fit[nbq.POOLED]
    assert pooled["edges"][-1] < 40.0
    sizes = nbq.row_sizes(np.array([1.0, 40.0, 40.0]), np.array(["dense", "dense", "lumpy"]),
                          fit)
    np.testing.assert_array_equal(sizes, [dense["sizes"][0], dense["sizes"][4],
                                          pooled["sizes"][4]])
    out = nbq.quantiles(np.array([1.0, 40.0]), np.array(["dense", "dense"]), fit,
                        {"p90_units": 0.9})
    expected = [stats.nbinom.ppf(0.9, k, k / (k + m))
                for k, m in ((dense["sizes"][0], 1.0), (dense["sizes"][4], 40.0))]
    np.testing.assert_array_equal(out["p90_units"], expected)


def test_the_model_scatters_each_class_as_its_training_rows_do():
    # Product A sells every day, Poisson around 6: its class (dense) gets a size near the
    # Poisson bound. B sells about one day in four, 1 to 12 units (intermittent: ADI 4, CV²
    # of the sizes 0.28): mean 1.625, variance 10.9, so k = mean² / (var - mean) is 0.28.
    rng = np.random.default_rng(8)
    days = 400
    a = rng.poisson(6.0, days)
    b = np.where(rng.random(days) < 0.25, rng.integers(1, 13, days), 0)
    history = history_of(np.stack([a, b]).astype(float), pd.DataFrame({
        "product_id": ["A", "B"], "category": ["Music", "Books"], "list_price": 10.0,
        "is_active": True, "available_from": [0, 0]}))
    prefix = prefix_sums(history)
    model = fit(history, prefix, days - 1, DemandSettings(num_boost_round=20,
                                                          min_data_in_leaf=20, num_threads=1))
    dense, sparse = (model.dispersion[c]["sizes"] for c in ("dense", "intermittent"))
    assert min(dense) > 20
    assert all(0.1 < k < 0.6 for k in sparse)
    o, p, h = origin_rows(history, days - 1, 28)
    features = feature_frame(history, prefix, o, p, h)
    predicted = model.predict(features, np.where(p == 0, "dense", "intermittent"))
    mean = predicted["mean_units"].to_numpy()
    size = nbq.row_sizes(mean, np.where(p == 0, "dense", "intermittent"), model.dispersion)
    for column, tau in QUANTILES.items():
        np.testing.assert_array_equal(predicted[column],
                                      stats.nbinom.ppf(tau, size, size / (size + mean)))
    assert (predicted["p10_units"] <= predicted["p50_units"]).all()
    assert (predicted["p50_units"] <= predicted["p90_units"]).all()


def test_quantiles_follow_the_blended_expected_units_where_a_blend_changed_them():
    from ml.demand import DemandModel, _requantile

    dispersion = {nbq.POOLED: {"edges": [], "sizes": [3.0]},
                  "dense": {"edges": [], "sizes": [8.0]}}
    model = DemandModel({}, 0, None, 0.0, dispersion=dispersion)
    frame = pd.DataFrame({"product_id": ["A", "B", "C"],
                          "booster_mean_units": [5.0, 5.0, 5.0],
                          "mean_units": [5.0, 12.0, 0.5],
                          "p10_units": -1.0, "p50_units": -1.0, "p90_units": -1.0})
    series = pd.DataFrame({"product_id": ["A", "B", "C"],
                           "density_class": ["dense", "dense", "lumpy"]})
    _requantile(frame, model, series)
    # A kept the booster's units: its quantiles are untouched. B (dense, k = 8) and C
    # (lumpy, no size of its own: the pooled k = 3) get NB quantiles of their blended units.
    for column, tau in QUANTILES.items():
        expected = [-1.0, stats.nbinom.ppf(tau, 8.0, 8.0 / 20.0),
                    stats.nbinom.ppf(tau, 3.0, 3.0 / 3.5)]
        np.testing.assert_array_equal(frame[column], expected)


def test_the_forecasts_sd_is_the_negative_binomials_and_sets_the_safety_stock():
    from ml.demand import DemandModel
    from ml.inventory import reorder_alerts

    dispersion = {nbq.POOLED: {"edges": [], "sizes": [2.0]},
                  "dense": {"edges": [10.0], "sizes": [4.0, 50.0]}}
    model = DemandModel({}, 0, None, 0.0, dispersion=dispersion)
    # Var = mu + mu² / k: 3 + 9/4 (dense, first bin), 20 + 400/50 (dense, second), 1 + 1/2.
    np.testing.assert_allclose(model.sd(np.array([3.0, 20.0, 1.0]),
                                        np.array(["dense", "dense", "lumpy"])),
                               np.sqrt([5.25, 28.0, 1.5]))
    # Inventory adds up the days' sd_units (not the p10-p90 spread) over the lead time.
    forecast = pd.DataFrame({"product_id": "A", "horizon_day": [1, 2, 3],
                             "forecast_date": pd.date_range("2026-01-11", periods=3),
                             "p10_units": 0.0, "p50_units": 3.0, "p90_units": 6.0,
                             "mean_units": 3.0, "sd_units": [1.0, 2.0, 2.0]})
    stock = pd.DataFrame({"product_id": ["A"], "snapshot_date": [pd.Timestamp(2026, 1, 7)],
                          "on_hand_units": [10.0], "on_order_units": [0.0],
                          "sold_since_snapshot_units": [0.0]})
    alerts = reorder_alerts(forecast, stock, lead_time_days=2, service_level=0.95)
    assert alerts["safety_stock_units"].iloc[0] == pytest.approx(
        stats.norm.ppf(0.95) * np.sqrt(1 + 4))
