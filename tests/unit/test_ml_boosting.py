"""Boosters trained side by side (ml/boosting.py) are the boosters `lgb.train` gives."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from ml import boosting


def _data(seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(rng.normal(size=(2_000, 6)), columns=[f"x{i}" for i in range(6)])
    target = rng.poisson(np.exp(0.5 * features["x0"] - 0.3 * features["x1"]))
    return features, target.astype(float)


def _params(objective: dict) -> dict:
    return {**objective, "learning_rate": 0.1, "num_leaves": 7, "min_data_in_leaf": 20,
            "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8, "seed": 3,
            "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbosity": -1}


def test_side_by_side_boosters_predict_as_lgb_train_ones():
    features, target = _data()
    objectives = [{"objective": "tweedie", "tweedie_variance_power": 1.2},
                  {"objective": "quantile", "alpha": 0.1},
                  {"objective": "quantile", "alpha": 0.9}]
    shared = lgb.Dataset(features, label=target, free_raw_data=False,
                         params=_params(objectives[0]))
    trained = boosting.train([(_params(o), shared, 25) for o in objectives], workers=2)
    for objective, booster in zip(objectives, trained, strict=True):
        alone = lgb.train(_params(objective), lgb.Dataset(
            features, label=target, free_raw_data=False, params=_params(objectives[0])),
            num_boost_round=25)
        assert booster.num_trees() == 25
        np.testing.assert_array_equal(booster.predict(features), alone.predict(features))
    # Scoring side by side, and one booster in row blocks, gives the same numbers.
    together = boosting.predict(trained, features, workers=2)
    for booster, predicted in zip(trained, together, strict=True):
        np.testing.assert_array_equal(predicted, booster.predict(features))
        np.testing.assert_array_equal(boosting.predict_rows(booster, features, workers=3),
                                      booster.predict(features))


def test_validation_losses_are_the_held_out_log_loss_after_each_round():
    features, target = _data(7)
    label = (target > 1).astype(float)
    init = np.random.default_rng(1).normal(scale=0.3, size=len(label))
    params = _params({"objective": "binary", "metric": "binary_logloss"})
    whole = lgb.Dataset(features, label=label, init_score=init, free_raw_data=False,
                        params=params)
    held = np.arange(len(label)) % 3 == 0
    (booster, losses), = boosting.train_validated(
        [(params, whole.subset(np.flatnonzero(~held)), 25,
          whole.subset(np.flatnonzero(held)))], workers=1)
    plain, = boosting.train([(params, whole.subset(np.flatnonzero(~held)), 25)], workers=1)
    np.testing.assert_array_equal(booster.predict(features), plain.predict(features))
    assert len(losses) == 26

    def log_loss(log_odds):  # mean binary log loss, by hand
        y = label[held]
        return np.mean(np.logaddexp(0, log_odds) - y * log_odds)

    assert losses[0] == pytest.approx(log_loss(init[held]), rel=1e-9)
    for trees in (1, 10, 25):
        log_odds = booster.predict(features[held], raw_score=True, num_iteration=trees)
        assert losses[trees] == pytest.approx(log_loss(log_odds + init[held]), rel=1e-9)


def test_contributions_by_groups_of_rows_equal_lightgbms_treeshap():
    """Each tree scored once per group of rows meeting its splits alike gives LightGBM's own
    `pred_contrib`: on features with missing values, many exact zeros and a few near ones
    (LightGBM may send both the default way), few distinct values (large groups) and a
    categorical column; with the trees in one block and in two scored at once."""
    rng = np.random.default_rng(11)
    n = 3_000
    features = pd.DataFrame({
        "counts": rng.poisson(1.0, n).astype(float),
        "share": np.where(rng.random(n) < 0.3, np.nan, rng.random(n)),
        "zeros": np.where(rng.random(n) < 0.5, 0.0, rng.normal(size=n)),
        "level": pd.Categorical(rng.choice(["a", "b", "c", "d"], n), categories=list("abcd")),
        "flag": rng.integers(0, 2, n).astype(np.int8),
    })
    features.loc[rng.random(n) < 0.1, "level"] = np.nan
    # Values LightGBM may count as zeros though they are not 0 (each row its own group).
    features.loc[:5, "zeros"] = [1e-36, -1e-36, 1e-33, 5e-31, 2e-30, 1e-20]
    logit = (0.8 * features["counts"] - 2 * features["share"].fillna(0.5)
             + (features["zeros"] == 0) + features["level"].isin(["b", "c"]) - 0.5)
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    for zero_as_missing in (False, True):  # with True, LightGBM's zeros go the default way
        params = {**_params({"objective": "binary"}), "min_data_in_leaf": 10,
                  "num_leaves": 15, "zero_as_missing": zero_as_missing}
        booster = lgb.train(params, lgb.Dataset(features, label=label, params=params),
                            num_boost_round=30)
        expected = booster.predict(features, pred_contrib=True)
        for workers in (1, 2):
            found = boosting.contributions(booster, features, workers)
            assert found.shape == expected.shape
            np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(np.argsort(-found, axis=1, kind="stable")[:, :3],
                                          np.argsort(-expected, axis=1, kind="stable")[:, :3])
    # (Many rows share each tree's decisions here, so the grouping is exercised.)


def test_contributions_read_categories_as_predict_does_and_refuse_multiclass():
    """A frame whose categories are listed in another order (or miss one) is mapped onto the
    booster's categories, as `predict` maps it; a booster with several trees per iteration
    is refused in one line."""
    rng = np.random.default_rng(4)
    n = 2_000
    level = rng.choice(list("abcd"), n)
    train = pd.DataFrame({"x": rng.normal(size=n),
                          "level": pd.Categorical(level, categories=list("abcd"))})
    label = (rng.random(n) < np.where(np.isin(level, ["b", "d"]), 0.7, 0.3)).astype(int)
    params = {**_params({"objective": "binary"}), "min_data_in_leaf": 10}
    booster = lgb.train(params, lgb.Dataset(train, label=label, params=params),
                        num_boost_round=10)
    for categories in (list("dcba"), list("cab")):  # reordered; "d" unseen by the frame
        kept = np.isin(level, categories)
        frame = pd.DataFrame({"x": train["x"][kept],
                              "level": pd.Categorical(level[kept], categories=categories)})
        expected = booster.predict(frame, pred_contrib=True)
        np.testing.assert_allclose(boosting.contributions(booster, frame, 1), expected,
                                   rtol=0, atol=1e-12)
    params = {**_params({"objective": "multiclass", "num_class": 3}), "min_data_in_leaf": 10}
    multiclass = lgb.train(params, lgb.Dataset(train, label=rng.integers(0, 3, n),
                                               params=params), num_boost_round=3)
    with pytest.raises(ValueError, match="3 trees per iteration"):
        boosting.contributions(multiclass, train, 1)
