"""The blend of the expected-units booster with a smoother, per density class, chosen by
product-level WRMSSE: values worked out by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ml.demand import Blend, DemandSettings, backtest, blended, choose_blends
from ml.demand_data import DemandHistory
from tests.unit.demand_histories import history_of

ORIGIN = pd.Timestamp("2026-05-01")


def _rows(product, actual, booster, sba):
    return pd.DataFrame({
        "forecast_origin_date": ORIGIN, "product_id": product, "actual_units": actual,
        "booster_mean_units": booster, "croston_sba_units": sba,
        # The other smoothers equal the booster: no blend with them can gain anything.
        "tsb_units": booster, "moving_average_28d_units": booster})


PREDICTIONS = pd.concat([
    _rows("A", [2.0, 0.0], [1.0, 1.0], [2.0, 0.0]),  # SBA is right, the booster is not
    _rows("B", [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]),  # the booster is right
    _rows("C", [3.0, 1.0], [3.0, 1.0], [0.0, 0.0]),  # the booster is right
], ignore_index=True)
SERIES = pd.DataFrame({"forecast_origin_date": ORIGIN, "product_id": ["A", "B", "C"],
                       "scale": [1.0, 1.0, 4.0], "weight": [3.0, 1.0, 4.0],
                       "density_class": ["dense", "dense", "intermittent"]})


def test_the_blend_with_the_lowest_product_wrmsse_is_chosen_per_class():
    # Dense: with booster weight w, A's squared errors are w² on both days (RMSSE w) and B's
    # (1 - w)² (RMSSE 1 - w); weights 3 and 1: WRMSSE (3w + (1 - w)) / 4 = 0.25 + 0.5 w,
    # lowest at w = 0 (0.25 against the booster's 0.75). Intermittent: the booster is exact.
    chosen = choose_blends(PREDICTIONS, SERIES, margin=0.03)
    assert chosen == {"dense": Blend("croston_sba_units", 0.0), "intermittent": Blend()}
    # A margin the blend does not clear (0.25 > 0.75 x (1 - 0.7) = 0.225) keeps the booster.
    assert choose_blends(PREDICTIONS, SERIES, margin=0.7)["dense"] == Blend()
    assert choose_blends(PREDICTIONS, SERIES, margin=0.6)["dense"] == Blend(
        "croston_sba_units", 0.0)


def test_blended_applies_each_rows_class():
    frame = PREDICTIONS.assign(croston_sba_units=[2.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    classes = pd.Series({"A": "dense", "B": "dense", "C": "intermittent"})
    out = blended(frame, classes, {"dense": Blend("croston_sba_units", 0.3),
                                   "intermittent": Blend()})
    # A: 0.3 x 1 + 0.7 x (2, 0); B: 0.3 x 1 + 0.7 x 0; C unchanged.
    np.testing.assert_allclose(out, [1.7, 0.3, 0.3, 0.3, 3.0, 1.0])
    assert blended(frame, classes, {}) == pytest.approx(frame["booster_mean_units"])


def _one_series(days: int = 220, seed: int = 4) -> DemandHistory:
    """One product whose demand decays after an acquisition period, like CDNOW's."""
    rng = np.random.default_rng(seed)
    units = rng.poisson(3 + 30 * np.exp(-np.arange(days) / 40))[None, :].astype(float)
    products = pd.DataFrame({"product_id": ["CD"], "category": ["Music"],
                             "list_price": [10.0], "is_active": [True], "available_from": [0]})
    return history_of(units, products)


def test_backtest_blends_are_chosen_on_earlier_origins_only():
    settings = DemandSettings(num_boost_round=10, min_data_in_leaf=20, num_threads=1)
    history = _one_series()
    result = backtest(history, settings)
    origins = sorted(result.predictions["forecast_origin_date"].unique())
    assert len(origins) == 3
    assert sorted(result.blends) == [str(o)[:10] for o in origins[1:]]  # not the first
    # Ten rounds on one decaying series lose to the smoothers: a blend is chosen.
    assert all(c["dense"].smoother is not None for c in result.blends.values())
    # The last origin's 28 days changed: what was chosen for it (and the forecast made at
    # it) stays the same, its actuals and errors do not.
    later = history.units.copy()
    later[:, -28:] *= 5
    changed = backtest(replace(history, units=later, gross=later * 10), settings)
    assert changed.blends == result.blends
    last = result.predictions["forecast_origin_date"] == origins[-1]
    np.testing.assert_array_equal(changed.predictions.loc[last, "mean_units"],
                                  result.predictions.loc[last, "mean_units"])
    assert (changed.predictions.loc[last, "actual_units"]
            != result.predictions.loc[last, "actual_units"]).any()
