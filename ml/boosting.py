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
from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np
import pandas as pd


def train(jobs: Sequence[tuple[dict, lgb.Dataset, int]], workers: int) -> list[lgb.Booster]:
    """Boosters for (params, dataset, rounds) jobs, `workers` at a time, as `lgb.train`
    would give them with `num_threads=1` (no validation sets, no callbacks). Unlike
    `lgb.train`, the params do not reach the Dataset: give it its binning params itself."""
    boosters = [(lgb.Booster(params={**params, "num_threads": 1}, train_set=dataset), rounds)
                for params, dataset, rounds in jobs]

    def grow(item: tuple[lgb.Booster, int]) -> lgb.Booster:
        booster, rounds = item
        for _ in range(rounds):
            booster.update()
        return booster.model_from_string(booster.model_to_string()).free_dataset()

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


def side_by_side(function, items, workers: int) -> list:
    """`function` of each item, `workers` items at a time in threads, in order."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        return list(pool.map(function, items))
