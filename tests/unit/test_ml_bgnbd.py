"""BG/NBD baseline: the published CDNOW estimates, and the probability of no purchase in
the horizon checked against customers simulated from the BG/NBD story itself."""

from __future__ import annotations

import numpy as np
import pytest
from lifetimes.datasets import load_cdnow_summary

from ml.bgnbd import BgNbd


def test_fit_matches_the_published_cdnow_estimates():
    # Fader, Hardie & Lee (2005), table 1: r 0.243, alpha 4.414, a 0.793, b 2.426 (weeks).
    data = load_cdnow_summary(index_col=[0])
    model = BgNbd.fit(data["frequency"], data["recency"], data["T"])
    assert (model.r, model.alpha, model.a, model.b) == pytest.approx(
        (0.243, 4.414, 0.793, 2.426), abs=0.001)


def _simulate(rng, n, r, alpha, a, b, calibration, horizon):
    """Customers from their first purchase at 0: Poisson purchases at rate lambda until they
    drop out, with probability p after each repeat purchase. Returns the calibration summary
    and whether they bought nothing in (calibration, calibration + horizon]."""
    rate = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    x, last = np.zeros(n), np.zeros(n)
    later = np.zeros(n, dtype=bool)
    end = calibration + horizon
    while alive.any():
        now[alive] += rng.exponential(1 / rate[alive])
        alive &= now <= end
        in_calibration = alive & (now <= calibration)
        x[in_calibration] += 1
        last[in_calibration] = now[in_calibration]
        later |= alive & (now > calibration)
        alive &= ~(alive & (now <= calibration) & (rng.random(n) < drop))
        alive &= now <= calibration  # after the first purchase in the horizon we know enough
    return x, last, ~later


def test_probability_of_no_purchase_is_calibrated_on_simulated_customers():
    rng = np.random.default_rng(11)
    x, recency, silent = _simulate(rng, 20_000, r=0.6, alpha=12.0, a=0.7, b=2.5,
                                   calibration=300.0, horizon=90.0)
    age = np.full(len(x), 300.0)
    model = BgNbd.fit(x, recency, age)
    assert model.r == pytest.approx(0.6, rel=0.15)
    assert model.alpha == pytest.approx(12.0, rel=0.2)
    predicted = model.probability_no_purchase(90, x, recency, age)
    for group in (x == 0, (x >= 1) & (x <= 3), x > 3):
        assert predicted[group].mean() == pytest.approx(silent[group].mean(), abs=0.02)
    expected = model.expected_purchases(90, x, recency, age)
    assert np.corrcoef(expected, predicted)[0, 1] < -0.5  # more expected, less silence
