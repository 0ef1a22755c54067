"""Demand forecast: global LightGBM models over all products, direct multi-horizon.

The origin is the last day whose demand is known; the forecast covers the 28 days after it.
Rows are (origin, product, horizon day) with features as of the origin (see
demand_features.py), so one model forecasts all 28 days at once and never feeds its own
forecasts back. Training origins step back from the forecast origin in whole weeks
(`origin_step_days`), and a row is used only when its target day is on or before the day
the model is trained at: a backtest origin never trains on the days it is scored on. The
rows are a fixed-seed sample, topped up with rows of the dense products
(`dense_rows_per_product`) so that on a long tail the few products that sell every day,
a large share of the revenue, are not left to a few rows each.

One booster per model: a Tweedie model of the expected units (the point forecast: what
the M5 winners used for demand that is zero on most days; its sums over days stay
unbiased, and inventory alerts add them up). The p10, p50 and p90 are the quantiles of a
negative binomial around those expected units, its dispersion fitted per density class and
level of expected units on the model's training rows (demand_quantiles.py; three LightGBM
quantile boosters per model until 2026-11-26). For intermittent demand the median is often
0: it is no point forecast, and the backtest scores the expected units (demand_eval.py).
The models of a run (the backtest origins' and the final one) are trained together,
`num_threads` boosters at once. The features include the product's Croston/SBA and TSB
state and its share of the category (intermittent.py, demand_features.py). The Tweedie
model starts from the category's recent level (`level_offset`, its initial score on the
log scale): the trees learn each product's ratio to it, so one model fits dense and sparse
products and follows a level the training days never reached.

Blend with a smoother (`choose_blends`): where a global model learns little (a shop with
one or a few series, e.g. CDNOW's one dense series), a smoother can beat it. Per density
class, the expected units may become w x booster + (1 - w) x smoother (Croston-SBA, TSB or
the 28-day mean; w in 0, 0.1, ..., 0.9), chosen on the product-level WRMSSE of earlier
backtest origins only, and only when it beat the booster there by `blend_margin`. The first
backtest origin has no earlier one and keeps the booster; each later origin uses the blends
chosen on the origins before it; the final forecast uses those chosen on all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from . import boosting, demand_eval, demand_quantiles
from .demand_data import DemandHistory
from .demand_features import CATEGORICAL, FEATURES, Prefix, feature_frame, prefix_sums
from .errors import NotEnoughData
from .intermittent import density_classes
from .metrics import gain_shares, wrmsse
from .registry import ModelRecord, data_fingerprint
from .threads import side_by_side

QUANTILES = {"p10_units": 0.1, "p50_units": 0.5, "p90_units": 0.9}
MEAN = "mean_units"  # expected units (Tweedie objective): sums over days stay unbiased
SD = "sd_units"  # the final forecast's standard deviation of units (negative binomial)


def _quiet(_: str) -> None:
    """Default progress logger of the long steps: says nothing."""


@dataclass(frozen=True)
class DemandSettings:
    horizon_days: int = 28
    backtest_origins: int = 3
    origin_step_days: int = 7
    min_history_days: int = 28
    # Training rows per model: `train_rows_per_product` for each product available at the
    # training day, at least `min_train_rows` and at most `max_train_rows` (plus at most
    # `dense_extra_share` of it for dense products, below). At scale 0.05
    # (250 products) 100k rows scored as well as 300k; at scale 1 (5,000 products) fewer
    # than 300k lost on dense products (ml/README.md, "Speed").
    max_train_rows: int = 300_000
    min_train_rows: int = 50_000
    train_rows_per_product: int = 400
    num_boost_round: int = 60  # validation loss flat or rising after 60 (ml/README.md)
    learning_rate: float = 0.1
    num_leaves: int = 31
    min_data_in_leaf: int = 200
    max_bin: int = 63
    tweedie_variance_power: float = 1.2
    # The dense products (intermittent.density_classes at the training day) get this many
    # training rows each on average (one pool, drawn by key over all their rows, so a
    # product's share follows its number of candidate rows) on top of the sample: on a long
    # tail the sample is nearly all sparse products (the Complete Journey: 0.4% of rows, 4.5
    # per dense product) and the booster under-forecast dense ones by 17%. 0 turns it off
    # (ml/README.md, ninth round).
    dense_rows_per_product: int = 200
    dense_extra_share: float = 0.2  # at most this share of the row limit added so (time)
    blend_margin: float = 0.03  # relative WRMSSE a blend must gain; 1 turns blending off
    seed: int = 7
    num_threads: int = 2  # boosters trained at once, one thread each (boosting.py)

    def __post_init__(self) -> None:
        if self.dense_rows_per_product < 0:
            raise ValueError(f"DemandSettings.dense_rows_per_product must be 0 or more, got "
                             f"{self.dense_rows_per_product}")
        if not 0 <= self.dense_extra_share <= 1:
            raise ValueError(f"DemandSettings.dense_extra_share must be within 0..1, got "
                             f"{self.dense_extra_share}")

    def lightgbm_params(self) -> dict:
        """The expected units' booster: Tweedie objective."""
        return {
            "objective": "tweedie", "tweedie_variance_power": self.tweedie_variance_power,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "min_data_in_leaf": self.min_data_in_leaf,
            "max_bin": self.max_bin, "feature_fraction": 0.8, "bagging_fraction": 0.8,
            "bagging_freq": 1, "seed": self.seed, "deterministic": True,
            "force_row_wise": True, "num_threads": self.num_threads, "verbosity": -1,
        }

    def row_limit(self, products: int) -> int:
        """Training rows of a model over `products` products (see the fields above)."""
        return min(self.max_train_rows,
                   max(self.min_train_rows, self.train_rows_per_product * products))

    def as_dict(self) -> dict:
        return asdict(self)


LEVEL_FLOOR = 0.01  # units a day: the least level an offset starts from (log of it)


def level_offset(features: pd.DataFrame) -> np.ndarray:
    """Log of the level the expected units start from (the Tweedie model's initial score):
    the category's mean units per available product and day over the 28 days up to the
    origin, the shop's where the category has no product available then, at least
    LEVEL_FLOOR. The trees learn the product's ratio to its category, so a level the
    training days never saw (a growing shop) moves the forecast with it instead of
    capping it at the highest leaf. At scale 1 the category offset lowered the WRMSSE of
    every density class; the product's own 28- or 91-day mean as the level raised it (noisy
    for a single product), the shop's helped dense products and hurt sparse ones
    (ml/README.md)."""
    level = features["category_mean_28d"].to_numpy(dtype=np.float64)
    shop = features["shop_mean_28d"].to_numpy(dtype=np.float64)
    level = np.where(np.isnan(level), shop, level)
    return np.log(np.maximum(np.nan_to_num(level, nan=LEVEL_FLOOR), LEVEL_FLOOR))


@dataclass
class TrainingSet:
    features: pd.DataFrame
    target: np.ndarray
    origin: np.ndarray  # each row's origin (day index)
    product: np.ndarray  # each row's product (index into history.products)


@dataclass
class DemandModel:
    boosters: dict[str, lgb.Booster]  # MEAN: the expected units' booster
    trained_through: int  # last day index whose demand the model saw
    training: TrainingSet
    seconds: float  # training time of the models trained with it (`fit_all`)
    workers: int = 1  # row blocks scored at once (boosting.py)
    # Negative binomial sizes per density class at `trained_through` and bin of expected
    # units (demand_quantiles.fit_dispersion)
    dispersion: dict[str, dict] = field(default_factory=dict)

    def expected_units(self, features: pd.DataFrame) -> np.ndarray:
        """The expected units of the rows: the booster's log ratio plus the level offset."""
        raw = boosting.predict_rows(self.boosters[MEAN], features[FEATURES], self.workers,
                                    raw_score=True)
        return np.exp(raw + level_offset(features))

    def predict(self, features: pd.DataFrame, classes: np.ndarray | None = None
                ) -> pd.DataFrame:
        """p10/p50/p90 units (the negative binomial's quantiles around the expected units,
        with the sizes of each row's density class in `classes`; the pooled size without
        them) and the expected units."""
        mean = self.expected_units(features)
        frame = pd.DataFrame(self.quantiles(mean, classes), index=features.index)
        frame[MEAN] = mean
        return frame

    def sd(self, mean: np.ndarray, classes: np.ndarray | None = None) -> np.ndarray:
        """Standard deviation of the daily units around expected units `mean`: the negative
        binomial's, sqrt(mean + mean² / k) (what inventory's safety stock adds up)."""
        mean = np.asarray(mean, dtype=np.float64)
        groups = (np.full(len(mean), demand_quantiles.POOLED) if classes is None
                  else np.asarray(classes))
        size = demand_quantiles.row_sizes(mean, groups, self.dispersion)
        return np.sqrt(mean + mean ** 2 / size)

    def quantiles(self, mean: np.ndarray, classes: np.ndarray | None = None
                  ) -> dict[str, np.ndarray]:
        """p10/p50/p90 units of rows with expected units `mean` (see `predict`)."""
        groups = (np.full(len(mean), demand_quantiles.POOLED) if classes is None
                  else np.asarray(classes))
        return demand_quantiles.quantiles(np.asarray(mean, dtype=np.float64), groups,
                                          self.dispersion, QUANTILES)

    def feature_importance(self) -> pd.DataFrame:
        """Total gain per feature of the expected units' booster, as a share of the whole."""
        return gain_shares(self.boosters[MEAN])


def candidate_rows(history: DemandHistory, trained_through: int, settings: DemandSettings
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (origin, product, horizon day) a model trained at `trained_through` may learn
    from: origins every `origin_step_days` before it, products available on the origin, and
    target days on or before `trained_through`."""
    step, horizon = settings.origin_step_days, settings.horizon_days
    first = settings.min_history_days - 1
    origins = np.arange(trained_through - step, first - 1, -step)[::-1]
    if len(origins) == 0:
        raise NotEnoughData(f"{history.days} days of demand are too few to train on: need "
                         f"{settings.min_history_days + step} days before the forecast origin")
    available = history.products["available_from"].to_numpy()
    o, p = np.meshgrid(origins, np.arange(len(available)), indexing="ij")
    keep = available[p] <= o
    o, p = o[keep], p[keep]
    o = np.repeat(o, horizon)
    p = np.repeat(p, horizon)
    h = np.tile(np.arange(1, horizon + 1), len(o) // horizon)
    known = o + h <= trained_through
    return o[known], p[known], h[known]


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def row_keys(o: np.ndarray, p: np.ndarray, h: np.ndarray, seed: int) -> np.ndarray:
    """A pseudo-random 64-bit key per (origin, product, horizon day), fixed by the seed
    (splitmix64 of the row's code: a bijection, so distinct rows never tie). A fit keeps the
    rows with the smallest keys: a row is in the sample of every fit that can use it as long
    as its key ranks, so the fits of one run share most rows and their features are
    computed once (`training_sets`), and a refit draws the same rows whatever else ran."""
    code = ((o.astype(np.uint64) << np.uint64(32)) | (p.astype(np.uint64) << np.uint64(9))
            | h.astype(np.uint64))
    with np.errstate(over="ignore"):
        z = code + _GOLDEN * np.uint64(seed + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def training_sets(history: DemandHistory, prefix: Prefix, through: list[int],
                  settings: DemandSettings) -> dict[int, TrainingSet]:
    """The training set of a model trained at each day of `through`: its candidate rows
    (`candidate_rows`), sampled down to `DemandSettings.row_limit` of the products available
    then, by the smallest `row_keys`; and beside them the dense products' candidates with
    the smallest keys up to `dense_rows_per_product` x the products dense at the day, those
    not in the sample yet at most `dense_extra_share` of the limit (where dense products are
    common the sample holds their quota already, and nothing changes). The features of the
    rows the sets share are computed once. A day a whole number of weeks
    (`origin_step_days`) before a later one has as candidates the later day's whose target
    day is on or before it (the same origins, in the same order), so they and their keys
    are drawn and hashed once."""
    available = history.products["available_from"].to_numpy()
    step, first = settings.origin_step_days, settings.min_history_days - 1
    drawn: dict[int, list] = {}  # day -> [o, p, h, keys or None] of its candidates
    picks = {}
    for day in sorted(dict.fromkeys(through), reverse=True):
        later = next((d for d in drawn if (d - day) % step == 0), None)
        if later is None or day - step < first:  # (the latter raises NotEnoughData)
            drawn[day] = [*candidate_rows(history, day, settings), None]
            source, known = drawn[day], slice(None)
        else:
            source = drawn[later]
            known = source[0] + source[2] <= day
        o, p, h = (a[known] for a in source[:3])
        limit = settings.row_limit(int((available <= day).sum()))
        if len(o) > limit:
            if source[3] is None:
                source[3] = row_keys(*source[:3], settings.seed)
            keys = source[3][known]
            pick = _smallest(keys, limit)
            if settings.dense_rows_per_product > 0:
                is_dense = product_classes(history, day) == "dense"  # per product
                dense = np.flatnonzero(is_dense[p])
                wanted = settings.dense_rows_per_product * int(is_dense.sum())
                extra = np.setdiff1d(dense[_smallest(keys[dense], wanted)], pick,
                                     assume_unique=True)
                extra = extra[_smallest(keys[extra], int(settings.dense_extra_share * limit))]
                pick = np.sort(np.concatenate([pick, extra]))  # disjoint
            o, p, h = o[pick], p[pick], h[pick]
        picks[day] = (o, p, h)
    picks = {day: picks[day] for day in dict.fromkeys(through)}
    horizon_bits = 9  # horizon days below 512 (feature_frame allows at most 300)
    codes = {day: (o.astype(np.int64) * len(history.products) + p) << horizon_bits | h
             for day, (o, p, h) in picks.items()}
    unique, inverse = np.unique(np.concatenate(list(codes.values())), return_inverse=True)
    rows = unique >> horizon_bits
    o_all, p_all = rows // len(history.products), rows % len(history.products)
    h_all = unique & ((1 << horizon_bits) - 1)
    features = feature_frame(history, prefix, o_all, p_all, h_all)
    sets, offset = {}, 0
    for day, (o, p, h) in picks.items():
        index = inverse[offset:offset + len(o)]
        offset += len(o)
        sets[day] = TrainingSet(features=features.iloc[index].reset_index(drop=True),
                                target=history.units[p, o + h], origin=o, product=p)
    return sets


def _smallest(keys: np.ndarray, count: int) -> np.ndarray:
    """Indexes of the `count` smallest keys (all when fewer), in increasing index order."""
    if len(keys) <= count:
        return np.arange(len(keys))
    return np.sort(np.argpartition(keys, count - 1)[:count])


def training_set(history: DemandHistory, prefix: Prefix, trained_through: int,
                 settings: DemandSettings) -> TrainingSet:
    """Rows whose target day is on or before `trained_through`, from origins every
    `origin_step_days` before it; sampled down to the row limit with the seed."""
    return training_sets(history, prefix, [trained_through], settings)[trained_through]


def fit(history: DemandHistory, prefix: Prefix, trained_through: int,
        settings: DemandSettings, data: TrainingSet | None = None) -> DemandModel:
    """The model trained at `trained_through`, on `data` when given (its `training_set`,
    computed beforehand with others) or else its training set."""
    sets = None if data is None else {trained_through: data}
    return fit_all(history, prefix, [trained_through], settings, sets)[trained_through]


def fit_all(history: DemandHistory, prefix: Prefix, days: list[int], settings: DemandSettings,
            sets: dict[int, TrainingSet] | None = None) -> dict[int, DemandModel]:
    """The models trained at each of `days`, their boosters `num_threads` at a time (each
    model's booster is the one it would get alone), on `sets` when given (`training_sets`)."""
    started = time.perf_counter()
    if sets is None:
        sets = training_sets(history, prefix, list(days), settings)
    days = list(dict.fromkeys(days))
    # The expected units start from the category's level (`level_offset`, the init score).
    # The models' datasets are binned side by side, one thread each (the bins do not depend
    # on the threads).
    binning = {**settings.lightgbm_params(), "num_threads": 1}
    datasets = side_by_side(
        lambda day: lgb.Dataset(sets[day].features, label=sets[day].target,
                                init_score=level_offset(sets[day].features),
                                feature_name=FEATURES, categorical_feature=CATEGORICAL,
                                params=binning).construct(), days, settings.num_threads)
    trained = boosting.train_fitted(
        [(settings.lightgbm_params(), dataset, settings.num_boost_round)
         for dataset in datasets], settings.num_threads)
    dispersions = side_by_side(
        lambda job: fit_dispersion(history, job[0], sets[job[0]], job[1][1]),
        list(zip(days, trained, strict=True)), settings.num_threads)
    seconds = time.perf_counter() - started  # of all the models: trained together
    return {day: DemandModel({MEAN: booster}, day, sets[day], seconds, settings.num_threads,
                             dispersion)
            for day, (booster, _), dispersion in zip(days, trained, dispersions, strict=True)}


def product_classes(history: DemandHistory, day: int) -> np.ndarray:
    """Density class of every product at `day` (intermittent.density_classes; "no_sales"
    for one not yet available)."""
    return density_classes(history.units, history.products["available_from"].to_numpy(), day)


def fit_dispersion(history: DemandHistory, day: int, data: TrainingSet, fitted: np.ndarray
                   ) -> dict[str, dict]:
    """Negative binomial sizes per density class (of the product at `day`, the training
    day) and bin of expected units, from the expected units `fitted` to the training rows
    `data` and their actual units."""
    classes = product_classes(history, day)[data.product]
    return demand_quantiles.fit_dispersion(classes, data.target, fitted)


def origin_rows(history: DemandHistory, origin: int, horizon: int) -> tuple[np.ndarray, ...]:
    """(origin, product, horizon day) for every product available on the origin."""
    products = np.flatnonzero(history.products["available_from"].to_numpy() <= origin)
    p = np.repeat(products, horizon)
    return np.full(len(p), origin), p, np.tile(np.arange(1, horizon + 1), len(products))


def forecast(history: DemandHistory, prefix: Prefix, model: DemandModel,
             origin: int, horizon: int) -> pd.DataFrame:
    """Quantile and expected-units forecasts for the days after `origin`, one row per
    product and date, with the baselines known at the origin beside them."""
    o, p, h = origin_rows(history, origin, horizon)
    features = feature_frame(history, prefix, o, p, h)
    frame = pd.DataFrame({
        "product_id": history.products["product_id"].to_numpy()[p],
        "forecast_origin_date": history.date_of(o),
        "forecast_date": history.date_of(o + h),
        "horizon_day": h,
        # Seasonal naive: the same weekday in the last week known at the origin.
        "seasonal_naive_units": features["same_weekday_last"].to_numpy(),
        "moving_average_28d_units": features["units_mean_28d"].fillna(0).to_numpy(),
        "zero_units": 0.0,
        "croston_sba_units": features["sba_forecast"].to_numpy(),
        "tsb_units": features["tsb_forecast"].to_numpy(),
    })
    classes = product_classes(history, origin)[p]
    frame = pd.concat([frame, model.predict(features, classes).reset_index(drop=True)], axis=1)
    frame["booster_mean_units"] = frame[MEAN]
    return frame


SMOOTHERS = ("croston_sba_units", "tsb_units", "moving_average_28d_units")
MODEL_WEIGHTS = tuple(k / 10 for k in range(10))  # the booster's weight in a blend


@dataclass(frozen=True)
class Blend:
    smoother: str | None = None  # a column of SMOOTHERS; None: the booster alone
    model_weight: float = 1.0


def choose_blends(predictions: pd.DataFrame, series: pd.DataFrame, margin: float
                  ) -> dict[str, Blend]:
    """Per density class of the scored rows (`booster_mean_units`, the smoothers and
    `actual_units` per origin, product and day; `series` from demand_eval.series_table): the
    blend with the lowest product-level WRMSSE, if it is at least `margin` (relative) below
    the booster's own; else the booster alone. The squared errors of w x a + (1 - w) x b are
    w² a² + 2 w (1 - w) a b + (1 - w)² b², so each product's three means give every w."""
    keys = ["forecast_origin_date", "product_id"]
    rows = predictions.merge(series[[*keys, "density_class", "scale", "weight"]], on=keys,
                             how="left", validate="many_to_one")
    totals = series.groupby("forecast_origin_date")["weight"].sum()
    booster = rows["booster_mean_units"] - rows["actual_units"]
    choices = {}
    for name, group in rows.groupby("density_class", sort=True):
        by_series = group.groupby(keys, sort=False)
        meta = by_series[["scale", "weight"]].first()
        origin_total = totals.reindex(meta.index.get_level_values(0)).to_numpy()
        shares = meta["weight"].to_numpy() / np.where(origin_total > 0, origin_total, np.nan)
        shares = np.nan_to_num(shares)
        scale = meta["scale"].to_numpy()
        a = booster.loc[group.index]
        aa = (a ** 2).groupby([group[k] for k in keys], sort=False).mean().to_numpy()
        own = wrmsse(np.sqrt(aa / scale), shares)
        best, best_score = Blend(), own
        for smoother in SMOOTHERS:
            b = group[smoother] - group["actual_units"]
            grouped = [(x).groupby([group[k] for k in keys], sort=False).mean().to_numpy()
                       for x in (b ** 2, a * b)]
            bb, ab = grouped
            for w in MODEL_WEIGHTS:
                mse = w * w * aa + 2 * w * (1 - w) * ab + (1 - w) ** 2 * bb
                score = wrmsse(np.sqrt(np.maximum(mse, 0) / scale), shares)
                if score < best_score and score <= own * (1 - margin):
                    best, best_score = Blend(smoother, w), score
        choices[str(name)] = best
    return choices


def blended(frame: pd.DataFrame, classes: pd.Series, blends: dict[str, Blend]) -> np.ndarray:
    """The expected units of `frame` (one row per product and day, with
    `booster_mean_units` and the smoothers) after each row's class blend; `classes` maps
    product_id to its density class at the origin."""
    out = frame["booster_mean_units"].to_numpy(dtype=np.float64).copy()
    row_class = frame["product_id"].map(classes).to_numpy()
    for name, blend in blends.items():
        if blend.smoother is None:
            continue
        rows = row_class == name
        out[rows] = (blend.model_weight * out[rows]
                     + (1 - blend.model_weight) * frame.loc[rows, blend.smoother].to_numpy())
    return out


def _classes(series: pd.DataFrame) -> pd.Series:
    return series.set_index("product_id")["density_class"]


def _requantile(frame: pd.DataFrame, model: DemandModel, series: pd.DataFrame) -> None:
    """The quantiles of the rows whose expected units a blend changed, around the blended
    units (so p50 follows the point forecast the blend chose)."""
    changed = (frame[MEAN] != frame["booster_mean_units"]).to_numpy()
    if changed.any():
        rows = frame.loc[changed]
        classes = rows["product_id"].map(_classes(series)).to_numpy()
        for column, values in model.quantiles(rows[MEAN].to_numpy(), classes).items():
            frame.loc[changed, column] = values


@dataclass
class Backtest:
    predictions: pd.DataFrame  # per origin, product and date: actual, model and baselines
    metrics: pd.DataFrame  # per origin, density class and method (demand_eval.py)
    series: pd.DataFrame  # per origin and product: RMSSE scale, weight, density class
    seconds: float
    blends: dict[str, dict[str, Blend]] = field(default_factory=dict)  # per origin date


def required_days(settings: DemandSettings, origins: int = 1) -> int:
    """Days of demand history needed to train at a backtest origin and score the horizon
    after it: `min_history_days` before the first training origin, `origin_step_days` from
    there to the origin, and one horizon per backtest origin."""
    return settings.min_history_days + settings.origin_step_days + settings.horizon_days * origins


def backtest_origins(history: DemandHistory, settings: DemandSettings) -> int:
    """As many of the configured backtest origins as the history holds (at least one), or
    NotEnoughData naming what is needed."""
    fit_in = (history.days - settings.min_history_days - settings.origin_step_days) \
        // settings.horizon_days
    if fit_in < 1:
        raise NotEnoughData(
            f"needs {required_days(settings)} days of demand history ({settings.min_history_days}"
            f" to learn from, {settings.origin_step_days} to the first training origin, "
            f"{settings.horizon_days} to backtest), has {history.days}")
    return min(settings.backtest_origins, fit_in)


def backtest_days(history: DemandHistory, settings: DemandSettings) -> list[int]:
    """The backtest origins (day indexes), oldest first: 28, 56, 84... days before the last
    day, as many of the configured ones as the history holds."""
    last = history.days - 1
    return [last - settings.horizon_days * k
            for k in range(backtest_origins(history, settings), 0, -1)]


def backtest(history: DemandHistory, settings: DemandSettings,
             prefix: Prefix | None = None, log: Callable[[str], None] = _quiet,
             sets: dict[int, TrainingSet] | None = None,
             models: dict[int, DemandModel] | None = None) -> Backtest:
    """Rolling origins 28, 56, 84... days before the last day: each model is trained only on
    days up to its origin and scored on the 28 days after it. A history too short for the
    configured number of origins gets as many as fit. `sets`: the training sets per origin
    when computed beforehand (`training_sets`); `models`: the models per origin when
    trained beforehand (`fit_all`)."""
    started = time.perf_counter()
    prefix = prefix_sums(history) if prefix is None else prefix
    horizon = settings.horizon_days
    days = backtest_days(history, settings)
    origins = len(days)
    if models is None:
        log(f"demand backtest: training the models of {origins} origins")
        models = fit_all(history, prefix, days, settings, sets)
    frames, series, blends = [], [], {}
    for number, origin in enumerate(days, start=1):
        model = models[origin]
        log(f"demand backtest origin {number}/{origins} ({history.date_of(origin)}): "
            f"trained on {len(model.training.target):,} rows; forecasting")
        frame = forecast(history, prefix, model, origin, horizon)
        product = pd.Index(history.products["product_id"]).get_indexer(frame["product_id"])
        frame["actual_units"] = history.units[product, origin + frame["horizon_day"].to_numpy()]
        table = demand_eval.series_table(history, origin)
        if frames and settings.blend_margin < 1:
            # Chosen on the earlier origins only: this origin's actuals are not read.
            chosen = choose_blends(pd.concat(frames, ignore_index=True),
                                   pd.concat(series, ignore_index=True), settings.blend_margin)
            frame["mean_units"] = blended(frame, _classes(table), chosen)
            _requantile(frame, model, table)
            blends[str(history.date_of(origin))] = chosen
        frames.append(frame)
        series.append(table)
    predictions = pd.concat(frames, ignore_index=True)
    series_frame = pd.concat(series, ignore_index=True)
    return Backtest(predictions, demand_eval.backtest_metrics(predictions, series_frame, history),
                    series_frame, time.perf_counter() - started, blends)


@dataclass
class DemandRun:
    backtest: Backtest
    model: DemandModel
    forecast: pd.DataFrame  # fct_demand_forecast rows, with the baselines beside them
    record: ModelRecord


def run(history: DemandHistory, settings: DemandSettings,
        log: Callable[[str], None] = _quiet) -> DemandRun:
    """Backtest, then train on all the history and forecast the days after its last day.
    Raises NotEnoughData when the history cannot hold one backtest origin."""
    backtest_origins(history, settings)  # fail fast, before any work
    prefix = prefix_sums(history)
    last = history.days - 1
    started = time.perf_counter()
    days = [*backtest_days(history, settings), last]
    sets = training_sets(history, prefix, days, settings)
    log(f"demand: training rows of {len(sets)} models drawn and their features computed "
        f"once in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    models = fit_all(history, prefix, days, settings, sets)
    log(f"demand: {len(models)} models (the backtest origins' and the final one on all "
        f"history) trained in {time.perf_counter() - started:.1f} s")
    result = backtest(history, settings, prefix, log, sets, models)
    model = models[last]
    log(f"demand model: trained on {len(model.training.target):,} rows; forecasting "
        f"{settings.horizon_days} days")
    future = forecast(history, prefix, model, last, settings.horizon_days)
    blends = (choose_blends(result.predictions, result.series, settings.blend_margin)
              if settings.blend_margin < 1 else {})
    table = demand_eval.series_table(history, last)
    future[MEAN] = blended(future, _classes(table), blends)
    _requantile(future, model, table)
    future[SD] = model.sd(future[MEAN].to_numpy(),
                          future["product_id"].map(_classes(table)).to_numpy())
    future = future.drop(columns="booster_mean_units")
    overall = result.metrics[(result.metrics["forecast_origin"] == "all")
                             & (result.metrics["density_class"] == "all")]
    record = ModelRecord(
        model_name="demand_forecast", settings=settings.as_dict(),
        training_first_date=str(history.start),
        training_last_date=str(history.date_of(model.trained_through)),
        training_points=[str(d) for d in history.date_of(np.unique(model.training.origin))],
        features=FEATURES, data=data_fingerprint(model.training.features, model.training.target),
        metrics={**{row.method: {k: getattr(row, k) for k in (
                     "wrmsse", "rmsse_mean", "wape", "mae", "rmse", "bias", "pinball_p10",
                     "pinball_p50", "pinball_p90", "p10_p90_coverage",
                     "quantile_calibration_error")}
                    for row in overall.itertuples()},
                 "wrmsse_vs_best_baseline": demand_eval.summary(result.metrics)},
        extra={"negative_binomial_dispersion": model.dispersion,
               "blends": {name: asdict(blend) for name, blend in blends.items()},
               "backtest_blends": {origin: {name: asdict(blend) for name, blend in c.items()}
                                   for origin, c in result.blends.items()}},
    )
    future["model_version"] = record.version
    return DemandRun(result, model, future, record)


# Settings added after records were written, with the value that fits as those records did:
# before the dense top-up (2026-11-26, ninth round) no rows were added.
UNRECORDED_SETTINGS = {"dense_rows_per_product": 0}


def recorded_settings(record: ModelRecord) -> DemandSettings:
    """The settings a record was trained with; those it predates take their old behaviour."""
    return DemandSettings(**{**UNRECORDED_SETTINGS, **record.settings})


def refit(history: DemandHistory, record: ModelRecord) -> DemandModel:
    """Train again from a saved record; the warehouse must still hold the same data."""
    settings = recorded_settings(record)
    model = fit(history, prefix_sums(history), history.day_index(record.training_last_date),
                settings)
    found = data_fingerprint(model.training.features, model.training.target)
    if found != record.data:
        raise ValueError(f"model {record.model_name} {record.version} was trained on "
                         f"{record.data}, the warehouse now gives {found}")
    return model
