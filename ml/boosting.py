"""LightGBM boosters trained and scored side by side, one thread each.

The models train several independent boosters on the same rows (the demand forecast's
quantile and expected-units models, the churn model's calibration folds). On 2 cores one
booster with 2 OpenMP threads waits at a barrier after every histogram, and when other
processes share the cores those waits dominate: a demand booster took 23 s with 2 threads
and 5 s with 1 on this machine under load. So every booster here runs single-threaded and
`workers` of them run at once in Python threads (LightGBM releases the GIL in its C calls).

The boosters are created one after another in the calling thread (creating two at once on
one Dataset crashes LightGBM), then trained concurrently: each update touches only its own
booster. A single-threaded deterministic booster gives the same trees whatever the
scheduling, so a run is reproducible and `refit` rebuilds the same model.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

from .threads import side_by_side


def train(jobs: Sequence[tuple[dict, lgb.Dataset, int]], workers: int) -> list[lgb.Booster]:
    """Boosters for (params, dataset, rounds) jobs, `workers` at a time, as `lgb.train`
    would give them with `num_threads=1` (no validation sets, no callbacks). Unlike
    `lgb.train`, the params do not reach the Dataset: give it its binning params itself."""
    return [booster for booster, _ in
            train_validated([(*job, None) for job in jobs], workers)]


def train_fitted(jobs: Sequence[tuple[dict, lgb.Dataset, int]], workers: int
                 ) -> list[tuple[lgb.Booster, np.ndarray]]:
    """As `train`, each booster with its predictions of its own training rows (the output
    the objective gives, e.g. exp of the score for Tweedie, init score included), read from
    the scores LightGBM keeps while training: no second pass over the rows."""
    return train_validated([(*job, None) for job in jobs], workers, fitted=True)


def train_validated(jobs: Sequence[tuple[dict, lgb.Dataset, int, lgb.Dataset | None]],
                    workers: int, fitted: bool = False) -> list[tuple[lgb.Booster, np.ndarray]]:
    """As `train`, each job with a validation set (or None): each booster with the loss of
    the params' metric on its validation set after 0, 1, ..., rounds trees (`rounds + 1`
    values, the first the init score's alone; empty without a validation set). The
    validation set must share the training set's bins: a subset of the same Dataset.
    `fitted`: instead of the losses, the predictions of the training rows (`train_fitted`)."""
    boosters = []
    for params, dataset, rounds, valid in jobs:
        booster = lgb.Booster(params={**params, "num_threads": 1}, train_set=dataset)
        if valid is not None:
            booster.add_valid(valid, "valid")
        boosters.append((booster, rounds, valid is not None))

    def grow(item: tuple[lgb.Booster, int, bool]) -> tuple[lgb.Booster, np.ndarray]:
        booster, rounds, validated = item
        losses = [booster.eval_valid()[0][2]] if validated else []
        for _ in range(rounds):
            booster.update()
            if validated:
                losses.append(booster.eval_valid()[0][2])
        if fitted:  # a custom metric receives the training rows' predictions
            losses = []
            booster.eval_train(feval=lambda predicted, _: (
                losses.append(np.array(predicted, dtype=np.float64)), ("fitted", 0.0, False)
            )[1])
            losses = losses[0]
        return (booster.model_from_string(booster.model_to_string()).free_dataset(),
                np.asarray(losses, dtype=np.float64))

    return side_by_side(grow, boosters, workers)


def predict(boosters: Sequence[lgb.Booster], features: pd.DataFrame | np.ndarray,
            workers: int, **kwargs) -> list[np.ndarray]:
    """Each booster's predictions of the same rows, `workers` boosters at a time."""
    return side_by_side(lambda b: b.predict(features, num_threads=1, **kwargs), boosters,
                        workers)


def predict_rows(booster: lgb.Booster, features: pd.DataFrame, workers: int,
                 **kwargs) -> np.ndarray:
    """One booster's predictions, the rows split into `workers` blocks scored at once."""
    bounds = np.linspace(0, len(features), max(1, workers) + 1).astype(int)
    blocks = [features.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)
              if b > a]
    if not blocks:
        return booster.predict(features, num_threads=1, **kwargs)
    return np.concatenate(side_by_side(
        lambda block: booster.predict(block, num_threads=1, **kwargs), blocks, workers))
