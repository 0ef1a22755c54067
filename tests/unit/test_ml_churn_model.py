"""The churn model boosts from BG/NBD's log-odds: values worked out by hand, and a model
whose trees learn nothing scores exactly BG/NBD's probability of no purchase."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml import churn
from ml.churn_features import CATEGORICAL, FEATURES


def test_prior_is_the_logit_of_bgnbds_probability_of_no_purchase():
    frame = pd.DataFrame({"bgnbd_probability_no_purchase": [0.5, 0.8, 0.2, np.nan, 0.0, 1.0]})
    expected = [0.0, np.log(4), -np.log(4), 0.0,  # 0.8 / 0.2 = 4; missing: even odds
                np.log(1e-4 / (1 - 1e-4)), np.log((1 - 1e-4) / 1e-4)]  # clipped
    np.testing.assert_allclose(churn.prior_log_odds(frame), expected, rtol=1e-12)


def _training(customers: int, cutoffs: list[date], seed: int = 3) -> pd.DataFrame:
    """Customers whose churn follows BG/NBD's probability and nothing else."""
    rng = np.random.default_rng(seed)
    n = customers * len(cutoffs)
    frame = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    for column in CATEGORICAL:
        frame[column] = rng.choice(["a", "b"], n)
    frame["is_marketing_opt_in"] = rng.random(n) < 0.5
    frame["cutoff_date"] = np.repeat(cutoffs, customers)
    frame["bgnbd_probability_no_purchase"] = rng.uniform(0.05, 0.95, n)
    frame["is_churned"] = rng.random(n) < frame["bgnbd_probability_no_purchase"]
    return frame


def test_a_model_without_trees_scores_bgnbds_probability():
    training = _training(400, [date(2026, 1, 1)])
    settings = churn.ChurnSettings(num_boost_round=0, num_threads=1)
    model = churn.fit(training, [date(2026, 1, 1)], settings)
    assert model.calibration == (1.0, 0.0)  # one cutoff: no Platt scaling
    np.testing.assert_allclose(model.predict(training),
                               training["bgnbd_probability_no_purchase"], rtol=1e-9)
    plain = churn.fit(training, [date(2026, 1, 1)], replace(settings, boost_from_bgnbd=False))
    np.testing.assert_allclose(plain.predict(training), 0.5)  # no trees, no prior: even odds


def test_calibration_folds_group_the_cutoffs():
    cutoffs = [date(2026, 1, 1 + 7 * k) for k in range(4)]
    training = _training(150, cutoffs)
    settings = churn.ChurnSettings(num_boost_round=5, num_threads=1, calibration_folds=2)
    grouped = churn.fit(training, cutoffs, settings)
    # Two folds of two cutoffs each (dealt round-robin) give the same model as the same two
    # folds written out as two cutoffs.
    relabelled = training.assign(cutoff_date=training["cutoff_date"].map(
        {c: cutoffs[i % 2] for i, c in enumerate(cutoffs)}))
    by_hand = churn.fit(relabelled, cutoffs[:2], replace(settings, calibration_folds=4))
    assert grouped.calibration == pytest.approx(by_hand.calibration, rel=1e-9)
    assert grouped.calibration != (1.0, 0.0)
