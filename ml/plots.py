"""Model-quality plots as PNG bytes (matplotlib's object API: no pyplot, no display)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from .metrics import reliability

COLOURS = {"actual_units": "black", "mean_units": "tab:blue", "p50_units": "tab:cyan",
           "seasonal_naive_units": "tab:orange", "moving_average_28d_units": "tab:green"}
LABELS = {"actual_units": "actual", "mean_units": "LightGBM expected",
          "p50_units": "LightGBM p50", "seasonal_naive_units": "seasonal naive",
          "moving_average_28d_units": "28-day moving average"}


def backtest_plot(predictions: pd.DataFrame, metrics: pd.DataFrame) -> bytes:
    """Left: units per day over all products in every backtest window, actual against the
    model and the baselines. Right: WRMSSE per forecast origin and method (all products)."""
    fig = Figure(figsize=(12, 4))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    daily = predictions.groupby(["forecast_origin_date", "forecast_date"])[list(LABELS)].sum()
    for origin, window in daily.groupby(level=0):
        dates = window.index.get_level_values(1)
        for column in LABELS:
            left.plot(dates, window[column], color=COLOURS[column], lw=2 if column ==
                      "actual_units" else 1.2, label=LABELS[column] if origin ==
                      daily.index[0][0] else None)
        left.axvline(origin, color="grey", ls=":", lw=1)
    left.set_title("Backtest: units per day, all products (dotted: forecast origins)")
    left.legend(fontsize=8, loc="upper left")
    left.tick_params(axis="x", labelrotation=30, labelsize=8)
    per_origin = metrics[(metrics["forecast_origin"] != "all")
                         & (metrics["density_class"] == "all")
                         & (metrics["method"] != "lightgbm_p50")].pivot(
        index="forecast_origin", columns="method", values="wrmsse")
    per_origin.plot.bar(ax=right, rot=30, fontsize=8, width=0.8)
    right.set_title("WRMSSE per origin (lower is better)")
    right.legend(fontsize=7, loc="lower left")
    return _png(fig)


def roc_plot(label, scores: dict[str, np.ndarray]) -> bytes:
    """ROC curves of the churn model and its baselines on the held-out cutoff."""
    fig = Figure(figsize=(5, 4.5))
    ax = fig.subplots()
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(label, score)
        ax.plot(fpr, tpr, label=name, lw=1.5)
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Churn: ROC on the held-out cutoff")
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def reliability_plot(label, probabilities: dict[str, np.ndarray]) -> bytes:
    """Observed churn rate against the predicted probability, per tenth of [0, 1] (the
    diagonal is perfect calibration; marker size grows with the customers in the bin)."""
    fig = Figure(figsize=(5, 4.5))
    ax = fig.subplots()
    for name, probability in probabilities.items():
        table = reliability(label, probability)
        ax.plot(table["predicted"], table["observed"], marker="o", lw=1.2, label=name)
        ax.scatter(table["predicted"], table["observed"],
                   s=10 + 200 * table["customers"] / table["customers"].sum(), alpha=0.4)
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Churn: reliability on the held-out cutoff")
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()
