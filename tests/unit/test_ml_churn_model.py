"""The churn model boosts from BG/NBD's log-odds: values worked out by hand, and a model
whose trees learn nothing scores exactly BG/NBD's probability of no purchase. Its folds
hold out whole customers and choose how many trees it keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

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
    frame["customer_id"] = np.tile([f"C{i:04d}" for i in range(customers)], len(cutoffs))
    frame["bgnbd_probability_no_purchase"] = rng.uniform(0.05, 0.95, n)
    frame["is_churned"] = rng.random(n) < frame["bgnbd_probability_no_purchase"]
    return frame


def test_a_model_without_trees_scores_bgnbds_probability():
    training = _training(400, [date(2026, 1, 1)])
    settings = churn.ChurnSettings(num_boost_round=0, num_threads=1, calibration_folds=1)
    model = churn.fit(training, [date(2026, 1, 1)], settings)
    assert model.calibration == (1.0, 0.0)  # one fold: no Platt scaling
    np.testing.assert_allclose(model.predict(training),
                               training["bgnbd_probability_no_purchase"], rtol=1e-9)
    plain = churn.fit(training, [date(2026, 1, 1)], replace(settings, boost_from_bgnbd=False))
    np.testing.assert_allclose(plain.predict(training), 0.5)  # no trees, no prior: even odds


def test_calibration_folds_hold_out_whole_customers():
    ids = pd.Series(["b", "a", "c", "a", "b", "c", "d"])  # customers at several cutoffs
    folds = churn.customer_folds(ids, 2)
    # Sorted a, b, c, d dealt round-robin: a and c in the first fold, b and d in the second.
    assert [ids[f].tolist() for f in folds] == [["a", "c", "a", "c"], ["b", "b", "d"]]
    assert len(churn.customer_folds(ids, 9)) == 4  # no more folds than customers
    assert len(churn.customer_folds(ids, 1)) == 1


def test_folds_by_customer_calibrate_a_single_cutoff():
    cutoffs = [date(2026, 1, 1 + 7 * k) for k in range(4)]
    training = _training(150, cutoffs)
    settings = churn.ChurnSettings(num_boost_round=5, num_threads=1, calibration_folds=2)
    assert churn.fit(training, cutoffs, settings).calibration != (1.0, 0.0)
    # Folds by cutoff could not hold one cutoff out; folds by customer can.
    first = training[training["cutoff_date"] == cutoffs[0]]
    single = churn.fit(first, cutoffs[:1], settings)
    assert single.calibration != (1.0, 0.0)
    assert 1 <= single.rounds <= 5


def test_chosen_rounds_pools_the_folds_by_their_held_out_rows():
    # Fold A: 100 held-out rows, fold B: 300. Pooled loss after 1, 2, 3 trees:
    # (60 + 195) / 400 = 0.6375, (50 + 192) / 400 = 0.605, (55 + 180) / 400 = 0.5875: 3.
    # Unweighted, 2 would win (0.57 against 0.575).
    losses = [np.array([0.7, 0.6, 0.5, 0.55]), np.array([0.7, 0.65, 0.64, 0.6])]
    assert churn.chosen_rounds(losses, [100, 300]) == 3
    assert churn.chosen_rounds(losses, [1, 1]) == 2
    # At least one tree, and the first of equal minima.
    assert churn.chosen_rounds([np.array([0.3, 0.5, 0.4, 0.4])], [10]) == 2
    assert churn.chosen_rounds([np.array([0.3])], [10]) == 0  # no trees asked for


def _signal(customers: int, cutoffs: list[date]) -> pd.DataFrame:
    """Churn set by two features BG/NBD knows nothing of (its probability is 0.5)."""
    frame = _training(customers, cutoffs, seed=4)
    rng = np.random.default_rng(5)
    frame["bgnbd_probability_no_purchase"] = 0.5
    signal = 2.0 * frame[FEATURES[0]] - 1.5 * frame[FEATURES[1]]
    frame["is_churned"] = rng.random(len(frame)) < 1 / (1 + np.exp(-signal))
    return frame


def test_noise_keeps_few_trees_and_a_signal_many():
    cutoffs = [date(2026, 1, 1 + 7 * k) for k in range(4)]
    settings = churn.ChurnSettings(num_threads=1)
    noise = churn.fit(_training(300, cutoffs), cutoffs, settings)  # BG/NBD is all there is
    signal = churn.fit(_signal(300, cutoffs), cutoffs, settings)
    assert 1 <= noise.rounds <= 15
    assert signal.rounds >= 60
    for model in (noise, signal):
        assert model.booster.num_trees() == model.rounds
    # The kept trees are those a fit capped at that many trees grows: the same model.
    capped = churn.fit(_signal(300, cutoffs), cutoffs,
                       replace(settings, num_boost_round=signal.rounds))
    assert capped.rounds == signal.rounds
    frame = _signal(300, cutoffs)
    np.testing.assert_allclose(capped.predict(frame), signal.predict(frame), rtol=1e-12)
