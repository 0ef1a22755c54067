"""Quantiles of daily units from the expected units: a negative binomial per density class.

Daily units are counts, and the expected units (the Tweedie booster) say most of what is
known about a product-day; what is left is how widely counts scatter around that mean. Units
are modelled as negative binomial with the forecast mean mu and a size k: Var = mu + mu² / k,
Poisson as k grows. k is the maximum likelihood fit on the model's own training rows (their
expected units against their units), per density class (intermittent.py) and, within a
class, per fifth of its rows by expected units (`MEAN_BINS`): the spread of a product that
sells 0.3 a day and of one that sells 30 need not follow one k. A class or bin with too
few rows takes the size of the level above it (a bin the class's, a class the bin of all
rows its expected units fall in). The p10, p50 and p90
are then the NB's quantiles: integers, never crossing, and right for count data in the
sense of `demand_eval.quantile_calibration_error` (P(y < q) <= tau <= P(y <= q)) when the
distribution fits.

This replaced three LightGBM quantile boosters per model (three quarters of the demand
forecast's training time) with a few scalar fits: ml/README.md (Speed, "Fifth round") has the
before/after of the pinball losses and the calibration.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import betainc, gammaln

POOLED = "all"  # the size fitted on every row: for a class with too few rows to fit alone
MIN_ROWS = 500  # rows a class, or a bin of a class, needs for a size of its own
MEAN_BINS = 5  # bins of each class's rows by expected units (equal counts), a size each
MAX_FIT_ROWS = 50_000  # rows one size is fitted on, at most (every n-th)
SIZE_BOUNDS = (1e-3, 1e4)  # k: from very overdispersed to Poisson for practical purposes
MEAN_FLOOR = 1e-9  # a mean of 0 is a point mass at 0; the likelihood needs mu > 0


def nb_cdf(count: np.ndarray, mean: np.ndarray, size: np.ndarray) -> np.ndarray:
    """P(Y <= count) of a negative binomial with `mean` and `size` (k), elementwise:
    the regularised incomplete beta I_p(k, count + 1) with p = k / (k + mean). 0 below 0."""
    count, mean, size = np.broadcast_arrays(np.asarray(count, dtype=np.float64),
                                            np.asarray(mean, dtype=np.float64),
                                            np.asarray(size, dtype=np.float64))
    p = size / (size + mean)
    out = betainc(size, np.maximum(count, 0) + 1, p)
    return np.where(count < 0, 0.0, out)


def nb_quantile(tau: float, mean: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The smallest integer q with P(Y <= q) >= tau for each (mean, size): bisection between
    -1 (P = 0) and Cantelli's bound mean + sd * sqrt(tau / (1 - tau)) (P >= tau there)."""
    if not 0 < tau < 1:
        raise ValueError(f"a quantile needs 0 < tau < 1, got {tau}")
    mean = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    size = np.broadcast_to(np.asarray(size, dtype=np.float64), mean.shape)
    sd = np.sqrt(mean + mean ** 2 / size)
    hi = np.ceil(mean + sd * np.sqrt(tau / (1 - tau))) + 1
    lo = np.full(mean.shape, -1.0)
    open_ = np.flatnonzero(hi - lo > 1)  # rows still searched: the sparse ones end soon
    while len(open_):
        mid = np.floor((lo[open_] + hi[open_]) / 2)
        # Beyond 2^53 doubles are more than 1 apart and the midpoint can equal a bound: such
        # a row stops there, `hi` still a count with P(Y <= hi) >= tau (a mean that large
        # is not a forecast, but it must not hang the run).
        moves = (mid > lo[open_]) & (mid < hi[open_])
        open_, mid = open_[moves], mid[moves]
        reached = nb_cdf(mid, mean[open_], size[open_]) >= tau
        hi[open_] = np.where(reached, mid, hi[open_])
        lo[open_] = np.where(reached, lo[open_], mid)
        open_ = open_[hi[open_] - lo[open_] > 1]
    return hi


def nb_log_likelihood(size: float, units: np.ndarray, mean: np.ndarray) -> float:
    """Mean log-likelihood of `units` under NB(mean, size)."""
    mu = np.maximum(mean, MEAN_FLOOR)
    k = float(size)
    return float(np.mean(gammaln(units + k) - gammaln(k) - gammaln(units + 1)
                         + k * np.log(k / (k + mu)) + units * np.log(mu / (k + mu))))


def fit_size(units: np.ndarray, mean: np.ndarray) -> float:
    """Maximum likelihood size k of NB(mean, k) for the rows, within SIZE_BOUNDS (searched on
    log k: the likelihood is flat in k once the counts are Poisson-like)."""
    units = np.asarray(units, dtype=np.float64)
    mu = np.maximum(np.asarray(mean, dtype=np.float64), MEAN_FLOOR)
    # Counts that scatter no more than Poisson around their means (Pearson's statistic at
    # most the number of rows) show no overdispersion to fit: Poisson. Without this a bin
    # whose means lie above nearly every count (products that sold nothing in it) drives
    # the likelihood to the smallest k, which keeps P(0) high but gives a standard
    # deviation of sqrt(mu + mu² / 0.001): tens of units a day for a product never sold.
    if np.sum((units - mu) ** 2 / mu) <= len(units):
        return SIZE_BOUNDS[1]

    def loss(log_k: float) -> float:  # minus the log-likelihood, without log(units!)
        k = np.exp(log_k)
        return -float(np.mean(gammaln(units + k) - gammaln(k) + k * np.log(k / (k + mu))
                              + units * np.log(mu / (k + mu))))

    low, high = np.log(SIZE_BOUNDS[0]), np.log(SIZE_BOUNDS[1])
    found = minimize_scalar(loss, bounds=(low, high), method="bounded",
                            options={"xatol": 0.01})
    return float(np.exp(found.x))


def fit_dispersion(groups: np.ndarray, units: np.ndarray, mean: np.ndarray
                   ) -> dict[str, dict[str, list[float]]]:
    """Per group (density class) with at least MIN_ROWS rows, and POOLED over all rows:
    `edges`, the upper edges of its MEAN_BINS bins of expected units but the last (equal
    counts of its rows), and `sizes`, the size of each bin (the group's own size for a bin
    with fewer than MIN_ROWS rows). A group without a fit takes POOLED's bins, so a few dense
    products among many sparse ones still get the spread of rows with means like theirs."""
    groups = np.asarray(groups).astype(str)
    units = np.asarray(units, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    out = {POOLED: _binned_sizes(units, mean)}
    for name in sorted(set(groups) - {POOLED}):
        rows = groups == name
        if rows.sum() >= MIN_ROWS:
            out[name] = _binned_sizes(units[rows], mean[rows])
    return out


def _binned_sizes(units: np.ndarray, mean: np.ndarray) -> dict[str, list[float]]:
    own = fit_size(*_thinned(units, mean))
    edges = np.quantile(mean, np.arange(1, MEAN_BINS) / MEAN_BINS)
    bins = np.searchsorted(edges, mean)
    sizes = [fit_size(*_thinned(units[bins == b], mean[bins == b]))
             if (bins == b).sum() >= MIN_ROWS else own for b in range(MEAN_BINS)]
    return {"edges": [float(e) for e in edges], "sizes": sizes}


def _thinned(units: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every n-th row, at most MAX_FIT_ROWS (the rows are in no order that matters): a
    size is one number, and more rows only cost time."""
    step = -(-len(units) // MAX_FIT_ROWS)
    return (units[::step], mean[::step]) if step > 1 else (units, mean)


def row_sizes(mean: np.ndarray, groups: np.ndarray,
              dispersion: dict[str, dict[str, list[float]]]) -> np.ndarray:
    """Each row's size: its group's bin of its expected units (POOLED for a group without
    a fit)."""
    mean = np.asarray(mean, dtype=np.float64)
    groups = np.asarray(groups).astype(str)
    out = np.empty(len(mean))
    for name in np.unique(groups):
        rows = groups == name
        fit = dispersion.get(name, dispersion[POOLED])
        out[rows] = np.asarray(fit["sizes"])[np.searchsorted(fit["edges"], mean[rows])]
    return out


def quantiles(mean: np.ndarray, groups: np.ndarray,
              dispersion: dict[str, dict[str, list[float]]], taus: dict[str, float]
              ) -> dict[str, np.ndarray]:
    """Per output column of `taus`: each row's NB quantile with its size (`row_sizes`)."""
    size = row_sizes(mean, groups, dispersion)
    return {column: nb_quantile(tau, mean, size) for column, tau in taus.items()}
