"""BG/NBD baseline (Fader, Hardie & Lee 2005) through the `lifetimes` library.

lifetimes 0.11.3 (2020) still fits and predicts with pandas 3, numpy 2 and scipy 1.17; it
matches the paper's CDNOW estimates (tests/unit/test_ml_bgnbd.py). Its
`conditional_probability_alive` is no churn score (a one-time buyer is "alive" with
certainty), so the baseline ranks by the expected purchases in the horizon; the
probability of none in the horizon gives it a Brier score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    @classmethod
    def fit(cls, frequency, recency, age, penalizer: float = 0.0) -> BgNbd:
        """Maximum likelihood on repeat-purchase counts `frequency`, the age at the last
        purchase `recency` and the age now `age` (all ages in the same unit, here days)."""
        # Customers with the same summary are one row with a weight: lifetimes' likelihood
        # is the weighted mean over rows, so the fit is the same on fewer rows.
        summary = np.column_stack([np.asarray(x, dtype=float) for x in (frequency, recency, age)])
        unique, counts = np.unique(summary, axis=0, return_counts=True)
        fitter = BetaGeoFitter(penalizer_coef=penalizer)
        fitter.fit(unique[:, 0], unique[:, 1], unique[:, 2], weights=counts)
        params = fitter.params_
        return cls(float(params["r"]), float(params["alpha"]), float(params["a"]),
                   float(params["b"]))

    def _fitter(self) -> BetaGeoFitter:
        fitter = BetaGeoFitter()
        fitter.params_ = pd.Series({"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b})
        return fitter

    def expected_purchases(self, horizon, frequency, recency, age) -> np.ndarray:
        """E[purchases in (age, age + horizon] | history]."""
        return np.asarray(self._fitter().conditional_expected_number_of_purchases_up_to_time(
            horizon, np.asarray(frequency, dtype=float), np.asarray(recency, dtype=float),
            np.asarray(age, dtype=float)), dtype=float)

    def probability_alive(self, frequency, recency, age) -> np.ndarray:
        return np.asarray(self._fitter().conditional_probability_alive(
            np.asarray(frequency, dtype=float), np.asarray(recency, dtype=float),
            np.asarray(age, dtype=float)), dtype=float)

    def probability_no_purchase(self, horizon, frequency, recency, age) -> np.ndarray:
        """P(no purchase in the horizon | history) = 1 - P(alive) (1 - E[exp(-lambda t)]),
        where lambda | history ~ Gamma(r + x, alpha + T): E[exp(-lambda t)] =
        ((alpha + T) / (alpha + T + t)) ** (r + x). A customer who stays alive and buys
        nothing cannot drop out in between (drop-out follows a purchase)."""
        x = np.asarray(frequency, dtype=float)
        age = np.asarray(age, dtype=float)
        alive = self.probability_alive(x, recency, age)
        silent = ((self.alpha + age) / (self.alpha + age + horizon)) ** (self.r + x)
        return 1 - alive * (1 - silent)
