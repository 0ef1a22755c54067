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


def classification_metrics(label, score, probability=None) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision), top-decile lift from a ranking score; the Brier
    score only when the method gives a probability (otherwise NaN)."""
    label = np.asarray(label, dtype=np.int64)
    return {
        "roc_auc": float(roc_auc_score(label, score)),
        "pr_auc": float(average_precision_score(label, score)),
        "brier": float(brier_score_loss(label, probability)) if probability is not None
        else float("nan"),
        "top_decile_lift": top_decile_lift(label, score),
        "churn_rate": float(label.mean()),
        "customers": int(len(label)),
    }


def gain_shares(booster) -> pd.DataFrame:
    """Total gain per feature of a LightGBM booster, as a share of the whole."""
    gain = booster.feature_importance(importance_type="gain")
    frame = pd.DataFrame({"feature": booster.feature_name(), "gain": gain})
    frame["gain_share"] = frame["gain"] / max(frame["gain"].sum(), 1e-12)
    return frame.sort_values("gain_share", ascending=False, ignore_index=True)
