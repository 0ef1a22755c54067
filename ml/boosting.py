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


def contributions(booster: lgb.Booster, features: pd.DataFrame, workers: int) -> np.ndarray:
    """TreeSHAP contributions (`pred_contrib`: one column per feature, then the expected
    value), each tree scored once per distinct way rows meet its splits.

    A tree's TreeSHAP values of a row depend on the row only through the decision at each
    of its splits (LightGBM follows both branches everywhere and reads the row only to
    say which one it takes). Rows that meet every split of a tree alike get the same
    values from it, so each tree scores one row of each group (`pred_contrib` of that tree
    alone) and the values go to the whole group. At scale 1 a churn tree sees about 3,400
    groups among 52,000 customers. The values equal LightGBM's own to rounding (the trees
    are summed one by one instead of into one running sum: within 1e-13 at scale 1).

    Rows are grouped by a key that is at least as fine as LightGBM's decisions: per
    numeric split, value <= threshold; per numeric feature the tree splits on, whether
    it is missing and whether it is exactly 0 (LightGBM may send missing values and zeros
    the default way); per categorical feature, its code. A numeric value within 1e-30 of
    0 but not 0 could be a zero to LightGBM or not (BG/NBD's features have a few): a row
    with one in a feature the tree splits on is a group of its own.
    Trees are split into `workers` blocks scored at once, each block by its own booster.
    For models of one tree per iteration (binary and regression: the churn model); a
    frame's categorical columns are read with the booster's own categories, as `predict`
    reads them."""
    if booster.num_model_per_iteration() != 1:
        raise ValueError(f"contributions: the booster has {booster.num_model_per_iteration()} "
                         f"trees per iteration; only one (binary, regression) is supported")
    matrix = _float_matrix(features, booster.pandas_categorical or [])
    trees = [_splits(tree["tree_structure"], []) for tree in booster.dump_model()["tree_info"]]
    if not trees or len(matrix) == 0:
        return booster.predict(matrix, pred_contrib=True, num_threads=1)
    missing, zero = np.isnan(matrix), matrix == 0
    near_zero = ~zero & (np.abs(matrix) <= 1e-30)
    categories: dict[int, np.ndarray] = {}  # per categorical column, the ids of its values

    def parts_of(splits: list[tuple[int, float | None]]) -> list[tuple[np.ndarray, int]]:
        """(values, bits) whose combination is the tree's key."""
        numeric = list(dict.fromkeys(f for f, t in splits if t is not None))
        categorical = list(dict.fromkeys(f for f, t in splits if t is None))
        return ([(missing[:, f], 1) for f in numeric] + [(zero[:, f], 1) for f in numeric]
                + [(matrix[:, f] <= t, 1) for f, t in splits if t is not None]
                + [(categories[f], max(1, int(categories[f].max()).bit_length()))
                   for f in categorical])

    def tree_values(start: int, stop: int) -> np.ndarray:
        # Its own booster of these trees: LightGBM's predictor of one booster keeps the
        # iterations to score as state, so threads scoring different trees need their own.
        own = lgb.Booster(model_str=booster.model_to_string(start_iteration=start,
                                                              num_iteration=stop - start))
        total = np.zeros((len(matrix), matrix.shape[1] + 1))
        for index in range(start, stop):
            key, bits = np.zeros(len(matrix), dtype=np.int64), 0
            for values, width in parts_of(trees[index]):
                if bits + width > 62:  # renumber the groups so far (fewer than 2**31)
                    key = np.unique(key, return_inverse=True)[1].ravel().astype(np.int64)
                    bits = len(matrix).bit_length()
                key |= values.astype(np.int64) << bits
                bits += width
            alone = near_zero[:, list({f for f, t in trees[index] if t is not None})].any(axis=1)
            key[alone] = -1 - np.arange(alone.sum())  # each its own group (keys above are >= 0)
            _, first_row, group = np.unique(key, return_index=True, return_inverse=True)
            total += own.predict(matrix[first_row], pred_contrib=True,
                                 start_iteration=index - start, num_iteration=1,
                                 num_threads=1)[group.ravel()]
        return total

    for f in {f for splits in trees for f, t in splits if t is None}:
        categories[f] = np.unique(matrix[:, f], return_inverse=True)[1].ravel()
    bounds = np.linspace(0, len(trees), max(1, workers) + 1).astype(int)
    blocks = [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    parts = side_by_side(lambda ab: tree_values(*ab), blocks, workers)
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _float_matrix(features: pd.DataFrame, categories: list[list]) -> np.ndarray:
    """The float64 matrix LightGBM predicts from for a frame: categorical columns as their
    codes among the booster's categories (`pandas_categorical`, in the order of the frame's
    categorical columns, as `predict` maps them; missing or unseen as NaN), the rest as
    floats."""
    columns, categorical = [], 0
    for name, dtype in features.dtypes.items():
        column = features[name]
        if isinstance(dtype, pd.CategoricalDtype):
            if categorical < len(categories):
                column = column.cat.set_categories(categories[categorical])
            categorical += 1
            codes = column.cat.codes.to_numpy(dtype=np.float64)
            columns.append(np.where(codes < 0, np.nan, codes))
        else:
            columns.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.column_stack(columns) if columns else np.zeros((len(features), 0))


def _splits(node: dict, found: list[tuple[int, float | None]]
            ) -> list[tuple[int, float | None]]:
    """(feature, threshold) of every split of a dumped tree (threshold None if the split is
    categorical)."""
    if "split_feature" in node:
        numeric = node["decision_type"] == "<="
        found.append((node["split_feature"], float(node["threshold"]) if numeric else None))
        _splits(node["left_child"], found)
        _splits(node["right_child"], found)
    return found
