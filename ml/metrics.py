"""Forecast and classification metrics, with ratios over zero as NaN (metrics.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def forecast_metrics(actual, predicted) -> dict[str, float]:
    """WAPE = sum|error| / sum(actual); bias = sum(predicted - actual) / sum(actual)
    (negative: the forecast is too low); MAE and RMSE in units per product and day."""
    actual = np.asarray(actual, dtype=np.float64)
    error = np.asarray(predicted, dtype=np.float64) - actual
    total = actual.sum()
    return {
        "wape": float(np.abs(error).sum() / total) if total > 0 else float("nan"),
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error ** 2).mean())),
        "bias": float(error.sum() / total) if total > 0 else float("nan"),
        "rows": int(len(actual)),
    }


def top_decile_lift(label, score) -> float:
    """Churn rate among the 10% highest scores over the overall churn rate."""
    label = np.asarray(label, dtype=np.float64)
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    top = order[: max(1, int(np.ceil(len(order) * 0.1)))]
    base = label.mean()
    return float(label[top].mean() / base) if base > 0 else float("nan")


def reliability(label, probability, bins: int = 10) -> pd.DataFrame:
    """Per bin of predicted probability (equal widths over [0, 1]; empty bins left out):
    customers, mean predicted probability and observed churn rate."""
    label = np.asarray(label, dtype=np.float64)
    probability = np.asarray(probability, dtype=np.float64)
    which = np.minimum((probability * bins).astype(np.int64), bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": probability, "observed": label})
    out = frame.groupby("bin").agg(customers=("observed", "size"),
                                   predicted=("predicted", "mean"),
                                   observed=("observed", "mean")).reset_index()
    return out


def calibration_error(label, probability, bins: int = 10) -> float:
    """Expected calibration error: the customer-weighted mean of |observed - predicted|
    over the reliability bins."""
    table = reliability(label, probability, bins)
    return float((table["customers"] * (table["observed"] - table["predicted"]).abs()).sum()
                 / table["customers"].sum())


def classification_metrics(label, score, probability=None) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision), top-decile lift from a ranking score; the Brier
    score and calibration error only when the method gives a probability (otherwise NaN)."""
    label = np.asarray(label, dtype=np.int64)
    return {
        "roc_auc": float(roc_auc_score(label, score)),
        "pr_auc": float(average_precision_score(label, score)),
        "brier": float(brier_score_loss(label, probability)) if probability is not None
        else float("nan"),
        "calibration_error": calibration_error(label, probability)
        if probability is not None else float("nan"),
        "top_decile_lift": top_decile_lift(label, score),
        "churn_rate": float(label.mean()),
        "customers": int(len(label)),
    }


def weighted_roc_auc(label, score, weight) -> float:
    """ROC AUC with a weight per row: the weighted share of (churned, retained) pairs the
    score orders correctly, ties counting half. NaN without weight on both sides."""
    return float(auc_by_weights(*score_ties(label, score), weight)[0])


def score_ties(label, score) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows' label and the rank of their score among the distinct scores (ties share
    one), and how many distinct scores there are: what `auc_by_weights` needs, computed
    once for many sets of weights (a bootstrap)."""
    _, rank = np.unique(np.asarray(score, dtype=np.float64), return_inverse=True)
    return np.asarray(label, dtype=bool), rank.ravel(), int(rank.max()) + 1 if len(rank) else 0


def auc_by_weights(label, rank, levels, weight) -> np.ndarray:
    """Weighted ROC AUC of `score_ties`' rows for each row of `weight` (sets × rows, or one
    vector: one set): per distinct score, the positives' weight times the negatives' weight
    below it plus half the tied negatives'."""
    weight = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    auc = np.empty(len(weight))
    for i, w in enumerate(weight):
        positive = np.bincount(rank[label], weights=w[label], minlength=levels)
        negative = np.bincount(rank[~label], weights=w[~label], minlength=levels)
        below = np.cumsum(negative) - negative
        pairs = positive.sum() * negative.sum()
        auc[i] = (positive @ (below + negative / 2)) / pairs if pairs > 0 else np.nan
    return auc


def gain_shares(booster) -> pd.DataFrame:
    """Total gain per feature of a LightGBM booster, as a share of the whole."""
    gain = booster.feature_importance(importance_type="gain")
    frame = pd.DataFrame({"feature": booster.feature_name(), "gain": gain})
    frame["gain_share"] = frame["gain"] / max(frame["gain"].sum(), 1e-12)
    return frame.sort_values("gain_share", ascending=False, ignore_index=True)


def pinball_loss(actual, quantile, tau: float) -> float:
    """Mean quantile (pinball) loss: tau * (y - q) when y >= q, else (1 - tau) * (q - y)."""
    diff = np.asarray(actual, dtype=np.float64) - np.asarray(quantile, dtype=np.float64)
    return float(np.mean(np.maximum(tau * diff, (tau - 1) * diff)))


def naive_scale(insample) -> float:
    """M5's RMSSE denominator: the mean squared one-day change of the series, from its first
    non-zero value on (the in-sample error of the naive forecast). NaN with no change."""
    series = np.asarray(insample, dtype=np.float64)
    nonzero = np.flatnonzero(series > 0)
    if len(nonzero) == 0:
        return float("nan")
    steps = np.diff(series[nonzero[0]:])
    scale = float(np.mean(steps ** 2)) if len(steps) else float("nan")
    return scale if scale > 0 else float("nan")


def rmsse(actual, forecast, scale: float) -> float:
    """Root mean squared scaled error (M5): sqrt(mean((y - f)²) / scale)."""
    error = np.asarray(actual, dtype=np.float64) - np.asarray(forecast, dtype=np.float64)
    return float(np.sqrt(np.mean(error ** 2) / scale)) if scale > 0 else float("nan")


def wrmsse(values, weights) -> float:
    """Weighted mean of per-series RMSSE (M5 weighs by each series' revenue in the 28 days
    before the origin); series without a scale (NaN) or weight drop out, the rest of the
    weights are renormalised. NaN when no weight is left."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    keep = ~np.isnan(values) & (weights > 0)
    total = weights[keep].sum()
    return float((values[keep] * weights[keep]).sum() / total) if total > 0 else float("nan")
