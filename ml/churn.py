"""Churn model: LightGBM on point-in-time features stacked over past cutoffs.

Cutoffs, for a scoring cutoff S (default: the day after the newest order) and horizon H:
- evaluation cutoff E = S - H: its labels end on the last day of data;
- the evaluation model trains on cutoffs E - H, E - H - step, ... (labels complete before E)
  and is scored on E against the recency rule and BG/NBD (fitted on the history before E);
- the scoring model trains on E, E - step, ... (labels complete before S) and scores S.
Nothing at or after S is read, so a run at an earlier S replays the past exactly.

The features include BG/NBD's expected purchases and P(alive), fitted at each cutoff on the
orders before it (churn_features.py), and the trees start from BG/NBD's log-odds of no
purchase in the horizon (LightGBM's init score, `prior_log_odds`): they learn corrections
to BG/NBD, so the model starts where BG/NBD stops, and on a shop where BG/NBD is all there
is (an order-only log that BG/NBD fits well) it stays close to BG/NBD instead of
relearning it from noise. Its scores are calibrated by Platt scaling (a logistic fit of the
label on the model's log-odds) on leave-one-fold-out predictions: the customers are dealt
into at most `calibration_folds` folds and each fold's rows, at every cutoff, are scored by
a booster trained on the others. Platt scaling is monotone, so the ranking (AUC) is the
model's; with one fold the model's own probabilities are kept.

The same folds choose the number of trees: each fold booster grows `num_boost_round` trees
and records its held-out log loss after each; the model keeps the first trees up to the
lowest loss pooled over the folds (`chosen_rounds`), between 1 and `num_boost_round`. Its
own booster grows alongside the folds' and is cut to that many trees, so the choice costs
no extra booster. CDNOW's first 1,500 customers keep 9 to 42 trees, all of CDNOW 66 to 97,
the generator's shop at scale 0.05 84 to 100 (ml/README.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize

from . import boosting
from .bgnbd import BgNbd
from .churn_actions import reason_features, risk_tier, suggested_action, top_reasons
from .churn_features import (
    CATEGORICAL,
    FEATURES,
    churn_frame,
    first_order_date,
    last_order_date,
)
from .errors import NotEnoughData
from .metrics import classification_metrics, gain_shares
from .registry import ModelRecord, data_fingerprint
from .threads import side_by_side


@dataclass(frozen=True)
class ChurnSettings:
    horizon_days: int = 90
    training_cutoffs: int = 4
    cutoff_step_days: int = 28
    # At most this many boosters for Platt scaling and the number of trees (see fit); 2
    # scored as 4 did on the generator at scales 0.05 and 1 and on CDNOW (ml/README.md).
    calibration_folds: int = 2
    boost_from_bgnbd: bool = True  # start the trees from BG/NBD's log-odds (see prior_log_odds)
    active_days: int = 365
    num_boost_round: int = 100  # at most; the folds choose how many (see fit, ml/README.md)
    learning_rate: float = 0.03
    num_leaves: int = 15
    min_data_in_leaf: int = 40
    seed: int = 7
    num_threads: int = 2  # boosters trained at once, one thread each (boosting.py)
    high_risk: float = 0.75  # churn probability from which a customer is high risk
    medium_risk: float = 0.5
    high_value_share: float = 0.2  # top share of 365-day revenue that counts as high value

    def lightgbm_params(self) -> dict:
        return {
            "objective": "binary", "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
            "lambda_l2": 1.0, "seed": self.seed, "deterministic": True,
            "force_row_wise": True, "num_threads": self.num_threads, "verbosity": -1,
        }

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CutoffPlan:
    scoring: date
    evaluation: date
    evaluation_training: tuple[date, ...]
    scoring_training: tuple[date, ...]


def cutoff_plan(scoring: date, settings: ChurnSettings, first_order: date | None = None
                ) -> CutoffPlan:
    """The scoring cutoff, the held-out evaluation cutoff one horizon before it, and the
    training cutoffs of each (one horizon before the cutoff they serve, then every
    `cutoff_step_days` back). With `first_order`, a training cutoff needs `cutoff_step_days`
    of orders before it; a history too short for the configured number of cutoffs gets as
    many as fit, and one with none raises NotEnoughData."""
    horizon, step = timedelta(days=settings.horizon_days), timedelta(settings.cutoff_step_days)
    evaluation = scoring - horizon

    def usable(cutoffs):
        return tuple(c for c in cutoffs if first_order is None or c - step >= first_order)

    plan = CutoffPlan(
        scoring=scoring, evaluation=evaluation,
        evaluation_training=usable(evaluation - horizon - step * j
                                   for j in range(settings.training_cutoffs)),
        scoring_training=usable(evaluation - step * j for j in range(settings.training_cutoffs)),
    )
    if not plan.evaluation_training:
        days = (scoring - first_order).days if first_order else 0
        raise NotEnoughData(
            f"needs {2 * settings.horizon_days + settings.cutoff_step_days} days of order "
            f"history ({settings.cutoff_step_days} before a training cutoff, then the "
            f"{settings.horizon_days}-day churn horizon twice: training labels and the held-out "
            f"evaluation), has {days}")
    return plan


@dataclass
class ChurnModel:
    booster: lgb.Booster
    categories: dict[str, list[str]]
    cutoffs: tuple[date, ...]
    training: pd.DataFrame = field(repr=False)
    seconds: float = 0.0
    calibration: tuple[float, float] = (1.0, 0.0)  # Platt: sigmoid(a * log-odds + b)
    workers: int = 1  # threads scoring at once (boosting.py)
    boost_from_bgnbd: bool = False
    rounds: int = 0  # trees kept, chosen by `chosen_rounds` when the model is calibrated

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        return encode(frame, self.categories)

    def raw_log_odds(self, frame: pd.DataFrame) -> np.ndarray:
        """The trees' log-odds of churn, added to BG/NBD's when the model boosts from it."""
        return boosting.predict_rows(self.booster, self.matrix(frame), self.workers,
                                     raw_score=True) + self.prior(frame)

    def prior(self, frame: pd.DataFrame) -> np.ndarray:
        return (prior_log_odds(frame) if self.boost_from_bgnbd
                else np.zeros(len(frame)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability."""
        a, b = self.calibration
        return 1 / (1 + np.exp(-(a * self.raw_log_odds(frame) + b)))

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per customer and feature, the push on the log-odds of churn (TreeSHAP: LightGBM's
        `pred_contrib`, each tree scored once per group of rows meeting its splits alike,
        boosting.contributions)."""
        return boosting.contributions(self.booster, self.matrix(frame), self.workers)[:, :-1]

    def feature_importance(self) -> pd.DataFrame:
        return gain_shares(self.booster)


def encode(frame: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """The feature matrix, with categorical columns on the training categories (an unseen
    value becomes missing) and booleans as 0/1."""
    matrix = frame[FEATURES].copy()
    for column in CATEGORICAL:
        matrix[column] = pd.Categorical(matrix[column], categories=categories[column])
    matrix["is_marketing_opt_in"] = matrix["is_marketing_opt_in"].astype(np.int8)
    return matrix


def active_frame(con: duckdb.DuckDBPyConnection, cutoff: date, settings: ChurnSettings,
                 cache: dict | None = None) -> pd.DataFrame:
    """The active customers' frame at a cutoff, read once per run when given a cache (the
    evaluation cutoff is also the newest training cutoff of the scoring model)."""
    if cache is None:
        return churn_frame(con, cutoff, settings.horizon_days, settings.active_days)
    if cutoff not in cache:
        cache[cutoff] = churn_frame(con, cutoff, settings.horizon_days, settings.active_days)
    return cache[cutoff]


def read_frames(con: duckdb.DuckDBPyConnection, cutoffs, settings: ChurnSettings,
                cache: dict) -> None:
    """Put the frames of the cutoffs not yet in `cache` there, `settings.num_threads` at
    once (the same frames as `active_frame` reads one by one)."""
    missing = [c for c in dict.fromkeys(cutoffs) if c not in cache]

    def read(cutoff: date) -> pd.DataFrame:
        with con.cursor() as cursor:
            return churn_frame(cursor, cutoff, settings.horizon_days, settings.active_days)

    cache.update(zip(missing, side_by_side(read, missing, settings.num_threads), strict=True))


def stacked_frames(con: duckdb.DuckDBPyConnection, cutoffs, settings: ChurnSettings,
                   cache: dict | None = None) -> pd.DataFrame:
    if not cutoffs:
        raise ValueError("the churn model needs at least one training cutoff")
    return pd.concat([active_frame(con, c, settings, cache) for c in cutoffs],
                     ignore_index=True)


PRIOR_CLIP = 1e-4  # BG/NBD probabilities are clipped to [1e-4, 1 - 1e-4] before the logit


def prior_log_odds(frame: pd.DataFrame) -> np.ndarray:
    """BG/NBD's log-odds of no purchase in the horizon, log(p / (1 - p)), the score the trees
    start from: they learn corrections to BG/NBD rather than rediscover it, and with nothing
    to add they stay at BG/NBD. 0 (even odds) where BG/NBD did not converge."""
    p = frame["bgnbd_probability_no_purchase"].to_numpy(dtype=np.float64, na_value=np.nan)
    p = np.clip(p, PRIOR_CLIP, 1 - PRIOR_CLIP)
    return np.nan_to_num(np.log(p / (1 - p)), nan=0.0)


def _dataset(training: pd.DataFrame, categories: dict, settings: ChurnSettings) -> lgb.Dataset:
    return lgb.Dataset(encode(training, categories),
                       label=training["is_churned"].astype(int).to_numpy(),
                       init_score=prior_log_odds(training) if settings.boost_from_bgnbd
                       else None,
                       categorical_feature=CATEGORICAL, free_raw_data=False,
                       params=settings.lightgbm_params())


def platt(log_odds, label) -> tuple[float, float]:
    """(a, b) of P(churn) = sigmoid(a * log-odds + b), by maximum likelihood."""
    x = np.asarray(log_odds, dtype=np.float64)
    y = np.asarray(label, dtype=np.float64)

    def loss(params):
        z = params[0] * x + params[1]
        return float(np.sum(np.logaddexp(0, z) - y * z))

    def grad(params):
        residual = 1 / (1 + np.exp(-(params[0] * x + params[1]))) - y
        return np.array([np.sum(residual * x), np.sum(residual)])

    found = minimize(loss, np.array([1.0, 0.0]), jac=grad, method="BFGS")
    return float(found.x[0]), float(found.x[1])


def chosen_rounds(losses: list[np.ndarray], held_rows: list[int]) -> int:
    """The number of trees whose out-of-fold log loss, pooled over the held-out rows of
    every fold, is lowest: `losses[f][k]` is fold f's mean loss on its `held_rows[f]`
    held-out rows after k trees (k = 0 is the init score alone). At least one tree when
    any was grown (0 only for curves of the init score alone), and the first of equal
    minima (fewer trees)."""
    weights = np.asarray(held_rows, dtype=np.float64)
    pooled = np.average(np.vstack(losses), axis=0, weights=weights)
    return int(np.argmin(pooled[1:])) + 1 if len(pooled) > 1 else 0


def truncated(booster: lgb.Booster, rounds: int) -> lgb.Booster:
    """The booster's first `rounds` trees: the booster training would have stopped at
    (a deterministic booster's first trees do not depend on how many follow)."""
    if rounds >= booster.current_iteration():
        return booster
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))


def customer_folds(customer_id: pd.Series, folds: int) -> list[np.ndarray]:
    """Row masks of at most `folds` folds, each holding out every row of its customers:
    the customers, sorted by id, dealt round-robin. A customer is in the training rows at
    several cutoffs 28 days apart with much the same features and overlapping 90-day labels;
    folds by cutoff (as before) let a fold booster see the held-out customers at the next
    cutoff, and their loss kept falling to 100 rounds where the next, unseen cutoff wanted
    far fewer on a small shop (ml/README.md)."""
    ids = customer_id.astype(str)
    order = {c: i % max(1, folds) for i, c in enumerate(np.sort(ids.unique()))}
    fold = ids.map(order).to_numpy()
    return [fold == f for f in sorted(set(order.values()))]


def fit(training: pd.DataFrame, cutoffs, settings: ChurnSettings) -> ChurnModel:
    started = time.perf_counter()
    if training.empty or training["is_churned"].nunique() < 2:
        raise NotEnoughData(f"churn training data at cutoffs {[str(c) for c in cutoffs]} has "
                         f"{len(training)} customers and needs both churned and retained ones")
    categories = {c: sorted(training[c].dropna().unique().tolist()) for c in CATEGORICAL}
    # The model and its fold boosters are independent: trained side by side.
    folds = customer_folds(training["customer_id"], settings.calibration_folds)
    calibrate = len(folds) > 1 and all(training.loc[~held, "is_churned"].nunique() == 2
                                       for held in folds)
    # The folds' datasets are subsets of the whole one: its features are binned once, and
    # each fold booster is validated on its held-out customers after every round.
    whole = _dataset(training, categories, settings)
    params, most = settings.lightgbm_params(), settings.num_boost_round
    jobs = [(params, whole, most, None)] + (
        [({**params, "metric": "binary_logloss"}, whole.subset(np.flatnonzero(~held)), most,
          whole.subset(np.flatnonzero(held))) for held in folds] if calibrate else [])
    (booster, _), *fold_runs = boosting.train_validated(jobs, settings.num_threads)
    rounds, calibration = most, (1.0, 0.0)
    if calibrate:
        rounds = chosen_rounds([losses for _, losses in fold_runs],
                               [int(held.sum()) for held in folds])
        booster = truncated(booster, rounds)
        out_of_fold = np.zeros(len(training))
        scored = side_by_side(
            lambda pair: pair[0].predict(encode(training[pair[1]], categories),
                                         raw_score=True, num_iteration=rounds, num_threads=1)
            + (prior_log_odds(training[pair[1]]) if settings.boost_from_bgnbd else 0.0),
            [(fold_booster, held) for (fold_booster, _), held in
             zip(fold_runs, folds, strict=True)], settings.num_threads)
        for held, log_odds in zip(folds, scored, strict=True):
            out_of_fold[held] = log_odds
        calibration = platt(out_of_fold, training["is_churned"].astype(int))
    return ChurnModel(booster, categories, tuple(cutoffs), training,
                      time.perf_counter() - started, calibration, settings.num_threads,
                      settings.boost_from_bgnbd, rounds)


@dataclass
class Evaluation:
    cutoff: date
    metrics: pd.DataFrame  # one row per method
    predictions: pd.DataFrame  # per customer: label and each method's score
    model: ChurnModel
    bgnbd: BgNbd


def evaluate(con: duckdb.DuckDBPyConnection, plan: CutoffPlan, settings: ChurnSettings,
             cache: dict | None = None) -> Evaluation:
    """Train on the earlier cutoffs, score the evaluation cutoff, compare with baselines."""
    model = fit(stacked_frames(con, plan.evaluation_training, settings, cache),
                plan.evaluation_training, settings)
    held_out = active_frame(con, plan.evaluation, settings, cache)
    if held_out["is_churned"].nunique() < 2:
        raise NotEnoughData(f"the evaluation cutoff {plan.evaluation} has {len(held_out)} active "
                         f"customers and needs both churned and retained ones")
    # BG/NBD was fitted at the cutoff on every customer with a purchase before it, lapsed
    # ones too (churn_features.churn_frame).
    bgnbd: BgNbd | None = held_out.attrs.get("bgnbd")
    if bgnbd is None:
        raise NotEnoughData(f"BG/NBD, the baseline, does not converge on the {len(held_out)} "
                            f"customers before the evaluation cutoff {plan.evaluation}")
    predictions = pd.DataFrame({
        "customer_id": held_out["customer_id"], "cutoff_date": held_out["cutoff_date"],
        "is_churned": held_out["is_churned"].astype(bool),
        "lightgbm_probability": model.predict(held_out),
        "recency_days": held_out["recency_days"],
        "bgnbd_expected_purchases": held_out["bgnbd_expected_purchases"],
        "bgnbd_probability_no_purchase": held_out["bgnbd_probability_no_purchase"],
    })
    label = predictions["is_churned"].to_numpy()
    metrics = pd.DataFrame([
        {"method": "lightgbm", **classification_metrics(
            label, predictions["lightgbm_probability"], predictions["lightgbm_probability"])},
        {"method": "recency_rule", **classification_metrics(label, predictions["recency_days"])},
        {"method": "bgnbd_expected_purchases", **classification_metrics(
            label, -predictions["bgnbd_expected_purchases"],
            predictions["bgnbd_probability_no_purchase"])},
    ])
    metrics.insert(0, "cutoff_date", plan.evaluation)
    return Evaluation(plan.evaluation, metrics, predictions, model, bgnbd)


def score(con: duckdb.DuckDBPyConnection, plan: CutoffPlan, settings: ChurnSettings,
          cache: dict | None = None) -> tuple[ChurnModel, pd.DataFrame]:
    """Train on the newest labelled cutoffs and score every active customer at the scoring
    cutoff: probability, risk tier, top reasons and a suggested action."""
    model = fit(stacked_frames(con, plan.scoring_training, settings, cache),
                plan.scoring_training, settings)
    current = active_frame(con, plan.scoring, settings, cache)
    return model, scores_table(model, current, settings)


def scores_table(model: ChurnModel, current: pd.DataFrame, settings: ChurnSettings
                 ) -> pd.DataFrame:
    probability = model.predict(current) if len(current) else np.array([])
    contributions = (model.contributions(current) if len(current)
                     else np.zeros((0, len(FEATURES))))
    tiers = risk_tier(probability, settings.high_risk, settings.medium_risk)
    revenue = current["revenue_365d"].to_numpy()
    high_value = revenue >= np.quantile(revenue, 1 - settings.high_value_share) if len(
        current) else np.array([], dtype=bool)
    reasons = top_reasons(current, contributions, FEATURES)
    drivers = reason_features(contributions, FEATURES)
    opted_in = current["is_marketing_opt_in"].to_numpy(dtype=bool)
    return pd.DataFrame({
        "customer_id": current["customer_id"],
        "scored_at_cutoff_date": current["cutoff_date"],
        "churn_score": probability,
        "risk_tier": tiers,
        "top_reasons": ["; ".join(r) for r in reasons],
        "suggested_action": [suggested_action(t, o, v, d) for t, o, v, d in
                             zip(tiers, opted_in, high_value, drivers, strict=True)],
        "is_marketing_opt_in": opted_in,
        "is_high_value": high_value,
        "revenue_365d_amount": revenue,
        "recency_days": current["recency_days"].to_numpy(),
    })


@dataclass
class ChurnRun:
    plan: CutoffPlan
    evaluation: Evaluation
    model: ChurnModel
    scores: pd.DataFrame
    record: ModelRecord


def run(con: duckdb.DuckDBPyConnection, settings: ChurnSettings, cutoff: date | None = None,
        log: Callable[[str], None] = lambda _: None) -> ChurnRun:
    """Evaluate against the baselines, then train the scoring model and score the cutoff
    (default: the day after the newest order)."""
    last_day = last_order_date(con)
    scoring = cutoff or last_day + timedelta(days=1)
    if scoring > last_day + timedelta(days=1):
        raise ValueError(f"cutoff {scoring} is after the data, whose newest order date is "
                         f"{last_day}: labels for the evaluation would be incomplete")
    plan = cutoff_plan(scoring, settings, first_order_date(con))
    log(f"churn: evaluation cutoff {plan.evaluation}, training cutoffs "
        f"{', '.join(str(c) for c in plan.evaluation_training)}")
    frames: dict = {}
    # Every cutoff's frame, `num_threads` at once: one's BG/NBD fit (Python) runs beside
    # another's query (DuckDB), each thread on its own cursor.
    read_frames(con, [*plan.evaluation_training, plan.evaluation, *plan.scoring_training,
                      plan.scoring], settings, frames)
    evaluation = evaluate(con, plan, settings, frames)
    log(f"churn: evaluated on {len(evaluation.predictions):,} customers; training the "
        f"scoring model")
    model, scores = score(con, plan, settings, frames)
    label = model.training["is_churned"].astype(int).to_numpy()
    metrics = evaluation.metrics.set_index("method")
    record = ModelRecord(
        model_name="churn", settings=settings.as_dict(),
        training_first_date=str(min(plan.scoring_training)),
        training_last_date=str(plan.scoring - timedelta(days=1)),
        training_points=[str(c) for c in plan.scoring_training], features=FEATURES,
        data=data_fingerprint(model.matrix(model.training), label),
        metrics={method: {k: float(v) for k, v in row.items() if k != "cutoff_date"}
                 for method, row in metrics.iterrows()},
        extra={"categories": model.categories, "evaluation_cutoff": str(plan.evaluation),
               "scoring_cutoff": str(plan.scoring),
               "bgnbd": asdict(evaluation.bgnbd), "calibration": list(model.calibration),
               "boosting_rounds": model.rounds,
               "evaluation_boosting_rounds": evaluation.model.rounds},
    )
    scores["model_version"] = record.version
    return ChurnRun(plan, evaluation, model, scores, record)


def refit(con: duckdb.DuckDBPyConnection, record: ModelRecord) -> ChurnModel:
    """Train again from a saved record; the warehouse must still hold the same data."""
    settings = ChurnSettings(**record.settings)
    cutoffs = [date.fromisoformat(c) for c in record.training_points]
    model = fit(stacked_frames(con, cutoffs, settings), cutoffs, settings)
    found = data_fingerprint(model.matrix(model.training),
                             model.training["is_churned"].astype(int).to_numpy())
    if found != record.data:
        raise ValueError(f"model {record.model_name} {record.version} was trained on "
                         f"{record.data}, the warehouse now gives {found}")
    return model
