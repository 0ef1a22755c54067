"""The expected-units model starts from its category's level (`demand.level_offset`):
the offset by hand, and a model with no trees forecasts exactly that level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.demand import LEVEL_FLOOR, MEAN, DemandSettings, fit, level_offset, origin_rows
from ml.demand_data import DemandHistory
from ml.demand_features import feature_frame, prefix_sums
from tests.unit.demand_histories import history_of


def test_the_offset_is_the_category_level_then_the_shops_then_the_floor():
    features = pd.DataFrame({"category_mean_28d": [2.0, np.nan, 0.0, np.nan, 0.004],
                             "shop_mean_28d": [1.0, 0.5, 3.0, np.nan, 1.0]})
    np.testing.assert_allclose(np.exp(level_offset(features)),
                               [2.0, 0.5, LEVEL_FLOOR, LEVEL_FLOOR, LEVEL_FLOOR])


def _history(days: int = 120) -> DemandHistory:
    """Three products, two in Music (one from day 60 on), one in Books."""
    rng = np.random.default_rng(2)
    units = np.stack([rng.poisson(4.0, days), rng.poisson(1.0, days),
                      rng.poisson(0.3, days)]).astype(float)
    units[1, :60] = 0
    products = pd.DataFrame({"product_id": ["A", "B", "C"],
                             "category": ["Music", "Music", "Books"],
                             "list_price": [10.0, 12.0, 20.0], "is_active": True,
                             "available_from": [0, 60, 0]})
    return history_of(units, products)


def test_with_no_trees_the_expected_units_are_the_categorys_mean_per_product_and_day():
    history = _history()
    prefix = prefix_sums(history)
    model = fit(history, prefix, 90, DemandSettings(num_boost_round=0, min_data_in_leaf=5,
                                                    num_threads=1))
    origin = 90
    o, p, h = origin_rows(history, origin, 3)
    predicted = model.predict(feature_frame(history, prefix, o, p, h))[MEAN].to_numpy()
    window = slice(origin - 27, origin + 1)
    # Music: both products available on all 28 days up to the origin; Books: one.
    music = history.units[:2, window].sum() / (2 * 28)
    books = history.units[2, window].sum() / 28
    np.testing.assert_allclose(predicted, np.repeat([music, music, books], 3))
    assert music == pytest.approx(history.units[:2, window].mean())
