"""Dimensions of the simulated shop: channels, customers, products, FX rates, campaigns.

Everything is drawn from one numpy Generator, so a (seed, scale) pair always gives the
same shop. Frames hold typed values; formatting into contract text happens in write.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from .calendar import category_weights, daily_weights


@dataclass(frozen=True)
class Config:
    scale: float = 0.01
    seed: int = 7
    start: date = date(2024, 11, 1)
    days: int = 730
    dirty_share: float = 0.01
    products: int | None = None  # catalogue size; default 5,000 x scale (at least 40)
    required_only: bool = False  # see shapes.py for these four
    base_currency: str = "USD"
    timezone: str = "UTC"
    guest_share: float = 0.0

    @property
    def start_ts(self) -> int:
        return int(datetime(*self.start.timetuple()[:3], tzinfo=UTC).timestamp())

    @property
    def n_customers(self) -> int:
        return max(60, round(100_000 * self.scale))

    @property
    def n_products(self) -> int:
        return self.products or max(40, round(5_000 * self.scale))

    @property
    def n_campaigns(self) -> int:
        return max(12, round(200 * self.scale))

    @property
    def target_orders(self) -> int:
        return self.n_customers * 10


# channel_id, name, type, is_paid, share of acquisitions, customer quality (lifetime factor)
CHANNELS = [
    ("CH01", "Google Ads", "paid_search", True, 0.14, 1.0),
    ("CH02", "Meta Ads", "paid_social", True, 0.12, 0.7),
    ("CH03", "Douyin Ads", "paid_social", True, 0.10, 0.6),
    ("CH04", "Display Network", "display", True, 0.05, 0.5),
    ("CH05", "Newsletter", "email", False, 0.04, 1.4),
    ("CH06", "SMS", "sms", False, 0.02, 1.0),
    ("CH07", "App Push", "push", False, 0.02, 1.2),
    ("CH08", "Affiliates", "affiliate", True, 0.07, 0.8),
    ("CH09", "Organic Search", "organic_search", False, 0.16, 1.3),
    ("CH10", "WeChat Social", "social", False, 0.10, 1.1),
    ("CH11", "Direct", "direct", False, 0.13, 1.5),
    ("CH12", "Flagship Store", "offline", False, 0.05, 1.6),
]
UTM_SOURCE = {
    "CH01": "google", "CH02": "facebook", "CH03": "douyin", "CH04": "gdn", "CH05": "newsletter",
    "CH06": "sms", "CH07": "push", "CH08": "affiliate", "CH09": "organic", "CH10": "wechat",
}
COUNTRIES = [  # country, currency, share, provinces/cities
    ("US", "USD", 0.55, [("CA", "Los Angeles"), ("NY", "New York"), ("TX", "Austin")]),
    ("CN", "CNY", 0.20, [("Guangdong", "深圳"), ("Shanghai", "上海"), ("Zhejiang", "杭州")]),
    ("GB", "GBP", 0.08, [("England", "London"), ("Scotland", "Edinburgh")]),
    ("DE", "EUR", 0.10, [("Berlin", "Berlin"), ("Bavaria", "München")]),
    ("JP", "JPY", 0.07, [("Tokyo", "東京"), ("Osaka", "大阪")]),
]
FX_START = {"CNY": 0.139, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}
CATEGORIES = {
    "Apparel": ("服装", ["T-Shirts", "Dresses", "Jackets"], 35.0),
    "Electronics": ("电子产品", ["Headphones", "Chargers", "Smart Home"], 120.0),
    "Beauty": ("美妆", ["Skincare", "Makeup"], 28.0),
    "Home": ("家居", ["Kitchen", "Bedding", "Decor"], 45.0),
    "Food": ("食品", ["Snacks", "Tea", "Coffee"], 15.0),
    "Sports": ("运动", ["Running", "Yoga", "Outdoor"], 55.0),
    "Toys": ("玩具", ["Building", "Plush"], 30.0),
    "Books": ("图书", ["Fiction", "Business"], 18.0),
}
FIRST_NAMES = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Mia", "Lucas", "Sophia"]
LAST_NAMES = ["Smith", "Johnson", "Brown", "Müller", "Tanaka", "Garcia", "Wilson"]
CN_FIRST = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "婷"]
CN_LAST = ["王", "李", "张", "刘", "陈", "杨", "黄"]


@dataclass
class World:
    cfg: Config
    rng: np.random.Generator
    day_weight: np.ndarray
    channels: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    fx: pd.DataFrame  # rate_day, currency, rate_to_base (only days a rate is published)
    fx_daily: dict[str, np.ndarray] = field(default_factory=dict)  # forward-filled per day
    campaigns: pd.DataFrame | None = None
    category_day_weight: np.ndarray | None = None
    # customers x categories: each customer's taste (a few favourite categories), the
    # truth a recommender can learn from what they bought before.
    taste: np.ndarray | None = None


TASTE_CONCENTRATION = 0.3  # Dirichlet: most of a customer's taste on one to three categories
TASTE_SHARE = 0.7  # share of a line's category choice that follows the customer's taste


def build_world(cfg: Config) -> World:
    rng = np.random.default_rng(cfg.seed)
    channels = pd.DataFrame(
        CHANNELS, columns=["channel_id", "channel_name", "channel_type", "is_paid", "share",
                           "quality"]
    )
    world = World(
        cfg=cfg,
        rng=rng,
        day_weight=daily_weights(cfg.start, cfg.days),
        channels=channels,
        customers=_customers(cfg, rng, channels),
        products=_products(cfg, rng),
        fx=pd.DataFrame(),
    )
    world.fx, world.fx_daily = _fx_rates(cfg, rng)
    if cfg.base_currency != "USD":
        # A single-currency shop (shapes.py relabels the one currency as the base one):
        # every customer pays and every product is priced in it, nothing to convert.
        world.customers["currency"] = "USD"
        world.products["currency"] = "USD"
    world.category_day_weight = category_weights(cfg.start, cfg.days, list(CATEGORIES))
    world.campaigns = _campaigns(cfg, rng)
    world.taste = rng.dirichlet(np.full(len(CATEGORIES), TASTE_CONCENTRATION),
                                len(world.customers))
    return world


def _customers(cfg: Config, rng: np.random.Generator, channels: pd.DataFrame) -> pd.DataFrame:
    n = cfg.n_customers
    # 20% signed up in the year before the window; the rest arrive with growth over time.
    pre = rng.random(n) < 0.2
    growth = rng.power(1.4, n) * cfg.days  # density rising towards the end of the window
    signup_day = np.where(pre, -rng.integers(1, 365, n), (cfg.days - 1) - growth).astype(int)
    signup_day = np.clip(signup_day, -365, cfg.days - 1)
    ch_idx = rng.choice(len(channels), n, p=channels["share"] / channels["share"].sum())
    country_idx = rng.choice(len(COUNTRIES), n, p=[c[2] for c in COUNTRIES])
    quality = channels["quality"].to_numpy()[ch_idx]
    lifetime = rng.exponential(260.0 * quality)
    churn_day = signup_day + 20 + lifetime.astype(int)
    rate = rng.gamma(0.9, 1.0, n)  # relative purchase frequency, normalised in orders.py
    ids = np.array([f"C{i:06d}" for i in range(1, n + 1)])
    is_cn = np.array([COUNTRIES[i][0] in ("CN",) for i in country_idx])
    first = np.where(is_cn, rng.choice(CN_FIRST, n), rng.choice(FIRST_NAMES, n))
    last = np.where(is_cn, rng.choice(CN_LAST, n), rng.choice(LAST_NAMES, n))
    region = [COUNTRIES[c][3][rng.integers(len(COUNTRIES[c][3]))] for c in country_idx]
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "email": [f"user{i}@example.{COUNTRIES[c][0].lower()}" for i, c in
                      zip(range(1, n + 1), country_idx, strict=True)],
            "phone": [f"+{rng.integers(10**9, 10**10)}" for _ in range(n)],
            "first_name": first,
            "last_name": last,
            "gender": rng.choice(["female", "male", "unknown"], n, p=[0.52, 0.44, 0.04]),
            "birth_year": rng.integers(1955, 2006, n),
            "country": [COUNTRIES[c][0] for c in country_idx],
            "province": [r[0] for r in region],
            "city": [r[1] for r in region],
            "signup_day": signup_day,
            "acquisition_channel_id": channels["channel_id"].to_numpy()[ch_idx],
            "marketing_opt_in": rng.random(n) < 0.72,
            "membership_level": rng.choice(["bronze", "silver", "gold", "platinum"], n,
                                           p=[0.55, 0.28, 0.13, 0.04]),
            "currency": [COUNTRIES[c][1] for c in country_idx],
            "churn_day": churn_day,
            "rate": rate,
            "coupon_lover": rng.random(n) < 0.18,
            "converts": rng.random(n) < 0.88,
            "device_pref": np.where(
                is_cn, rng.choice(["mini_program", "ios", "android"], n, p=[0.5, 0.25, 0.25]),
                rng.choice(["web", "ios", "android"], n, p=[0.5, 0.3, 0.2])),
        }
    )
    # 10% of customers do not carry an acquisition channel in the export.
    frame.loc[rng.random(n) < 0.1, "acquisition_channel_id"] = None
    frame["acquisition_channel_true"] = channels["channel_id"].to_numpy()[ch_idx]
    # Half the customers' orders and visits fade before they churn; the rest stop abruptly.
    frame["fades_before_churn"] = rng.random(n) < 0.5
    return frame


def _products(cfg: Config, rng: np.random.Generator) -> pd.DataFrame:
    n = cfg.n_products
    cats = list(CATEGORIES)
    cat_idx = rng.integers(0, len(cats), n)
    rows = []
    for i in range(n):
        cat = cats[cat_idx[i]]
        cn_name, subs, price_level = CATEGORIES[cat]
        sub = subs[rng.integers(len(subs))]
        price = round(float(price_level * rng.lognormal(0, 0.5)), 2)
        chinese = rng.random() < 0.35
        rows.append(
            {
                "product_id": f"{i + 1:05d}",
                "sku": f"SKU-{cat[:3].upper()}-{i + 1:05d}",
                "product_name": f"{cn_name} {sub} {i + 1}号" if chinese else f"{sub} Model {i + 1}",
                "category": cat,
                "subcategory": sub,
                "brand": f"Brand {chr(65 + rng.integers(0, 20))}",
                "list_price_usd": price,
                "unit_cost_usd": round(price * float(rng.uniform(0.35, 0.65)), 2),
                "currency": "CNY" if chinese else "USD",
                "launch_day": int(rng.integers(-400, cfg.days - 30)),
                "is_active": bool(rng.random() < 0.95),
                # A heavy tail: a few best sellers, many products selling less than once
                # a day (intermittent demand, as in real catalogues).
                "popularity": float(rng.lognormal(0, 1.4)),
                "quality": float(rng.uniform(3.4, 4.8)),
            }
        )
    return pd.DataFrame(rows)


def _fx_rates(cfg: Config, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Daily rates as a random walk; EUR and GBP publish on weekdays only (as-of lookups)."""
    days = np.arange(-7, cfg.days + 30)
    frames, daily = [], {}
    for cur, start in FX_START.items():
        walk = start * np.exp(np.cumsum(rng.normal(0, 0.003, len(days))))
        weekday = np.array([(cfg.start + timedelta(days=int(d))).weekday() for d in days])
        published = np.ones(len(days), bool) if cur in ("CNY", "JPY") else weekday < 5
        frames.append(pd.DataFrame({"rate_day": days[published], "currency": cur,
                                    "rate_to_base": np.round(walk[published], 6)}))
        series = pd.Series(np.where(published, np.round(walk, 6), np.nan)).ffill().to_numpy()
        daily[cur] = series[7:]  # index 0 == cfg.start
    daily["USD"] = np.ones(cfg.days + 30)
    return pd.concat(frames, ignore_index=True), daily


CAMPAIGN_PLAN = [  # campaign_type, channel choices, has control group, share
    ("coupon", ["CH05", "CH06", "CH07"], True, 0.2),
    ("win_back", ["CH05", "CH06"], True, 0.12),
    ("retargeting", ["CH07", "CH05"], True, 0.1),
    ("points", ["CH07"], True, 0.06),
    ("new_customer", ["CH05"], True, 0.06),
    ("discount", ["CH01", "CH02", "CH03"], False, 0.14),
    ("flash_sale", ["CH02", "CH03", "CH10"], False, 0.12),
    ("group_buy", ["CH10"], False, 0.1),
    ("brand", ["CH01", "CH02", "CH04"], False, 0.1),
]
SEGMENT_BY_TYPE = {"win_back": "at_risk", "new_customer": "new", "retargeting": "cart_abandoners",
                   "points": "members", "coupon": "opted_in"}


def _campaigns(cfg: Config, rng: np.random.Generator) -> pd.DataFrame:
    n = cfg.n_campaigns
    plan_idx = rng.choice(len(CAMPAIGN_PLAN), n, p=[p[3] for p in CAMPAIGN_PLAN])
    rows = []
    for i in range(n):
        ctype, chans, has_control, _ = CAMPAIGN_PLAN[plan_idx[i]]
        start_day = int(rng.integers(0, cfg.days - 30))
        length = int(rng.integers(3, 22))
        open_ended = has_control and rng.random() < 0.1
        rows.append(
            {
                "campaign_id": f"CMP{i + 1:04d}",
                "campaign_name": f"{ctype.replace('_', ' ').title()} #{i + 1}",
                "channel_id": chans[rng.integers(len(chans))],
                "campaign_type": ctype,
                "start_day": start_day,
                "end_day": None if open_ended else start_day + length,
                "budget_usd": round(float(rng.uniform(500, 20000)) * max(cfg.scale, 0.05) * 20, 2),
                "target_segment": SEGMENT_BY_TYPE.get(ctype, "all"),
                "has_control": has_control,
                "true_lift": float(rng.uniform(0.03, 0.12)) if has_control else 0.0,
            }
        )
    return pd.DataFrame(rows)
