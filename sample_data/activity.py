"""Behaviour around the orders: events, reviews, ad spend and inventory snapshots."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .orders import decay
from .world import UTM_SOURCE, World

REVIEW_TEXT = {
    1: ["质量太差了，不推荐", "Broke after a week.", "非常失望"],
    2: ["一般般，有点失望", "Not as described.", "Disappointing quality."],
    3: ["还可以", "It's okay for the price.", "中规中矩"],
    4: ["不错，物流很快", "Good value, would buy again.", "挺好的"],
    5: ["非常满意！五星好评", "Excellent, love it!", "质量很好，推荐购买"],
}


def sessions(world: World, orders: pd.DataFrame) -> pd.DataFrame:
    """One row per session: purchase sessions for orders, browsing and anonymous sessions."""
    cfg, rng, cust = world.cfg, world.rng, world.customers
    purchase = pd.DataFrame({
        "cust_idx": orders["cust_idx"].to_numpy(), "end_ts": orders["ts"].to_numpy(),
        "order_idx": np.arange(len(orders)), "channel_id": orders["channel_id"].to_numpy(),
        "campaign_id": orders["campaign_id"].to_numpy(), "device": orders["device"].to_numpy(),
    })
    purchase = purchase[purchase["device"] != "offline"]
    # Browsing sessions: ~1 per order while active, fading before churn (engagement signal).
    n_cust = len(cust)
    start = np.clip(cust["signup_day"].to_numpy(), 0, None)
    stop = np.clip(cust["churn_day"].to_numpy() + 30, 0, cfg.days)
    span = np.maximum(stop - start, 0)
    per_day = cust["rate"].to_numpy() * world.cfg.target_orders / max(
        (cust["rate"].to_numpy() * span).sum(), 1)
    n_browse = rng.poisson(per_day * span * 1.1)
    owner = np.repeat(np.arange(n_cust), n_browse)
    day = start[owner] + (rng.random(len(owner)) * span[owner]).astype(int)
    keep = rng.random(len(owner)) < decay(cust["churn_day"].to_numpy()[owner] - day,
                                          cust["fades_before_churn"].to_numpy()[owner]) ** 1.5
    owner, day = owner[keep], day[keep]
    browse = pd.DataFrame({
        "cust_idx": owner,
        "end_ts": cfg.start_ts + day * 86400 + rng.integers(7 * 3600, 23 * 3600, len(owner)),
        "order_idx": -1,
        "channel_id": rng.choice(["CH11", "CH09", "CH01", "CH02", "CH03", "CH10", "CH05"],
                                 len(owner), p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05]),
        "campaign_id": None,
        "device": cust["device_pref"].to_numpy()[owner],
    })
    n_anon = int(len(purchase) * 0.15)
    anon = pd.DataFrame({
        "cust_idx": -1,
        "end_ts": cfg.start_ts + rng.integers(0, cfg.days * 86400, n_anon),
        "order_idx": -1,
        "channel_id": rng.choice(["CH01", "CH02", "CH04", "CH09"], n_anon),
        "campaign_id": None,
        "device": rng.choice(["web", "ios", "android"], n_anon),
    })
    out = pd.concat([purchase, browse, anon], ignore_index=True)
    return out.sort_values("end_ts", kind="stable").reset_index(drop=True)


def events(world: World, sess: pd.DataFrame, items: pd.DataFrame, orders: pd.DataFrame,
           chunk_rows: int = 400_000) -> Iterator[pd.DataFrame]:
    """Expand sessions into events, chunk by chunk (bounded memory at scale 1)."""
    rng, cust = world.rng, world.customers
    first_item = items.drop_duplicates("order_idx").set_index("order_idx")["prod_idx"]
    n_prod = len(world.products)
    counter = 0
    for lo in range(0, len(sess), chunk_rows // 6):
        s = sess.iloc[lo : lo + chunk_rows // 6]
        is_buy = s["order_idx"].to_numpy() >= 0
        views = rng.integers(1, 4, len(s)) + (~is_buy) * rng.integers(0, 3, len(s))
        cart = is_buy | (rng.random(len(s)) < 0.25)
        length = 1 + views + cart + 2 * is_buy  # page_view, views, cart, checkout, purchase
        sid = np.repeat(np.arange(lo, lo + len(s)), length)
        pos = np.concatenate([np.arange(k) for k in length])

        def rep(col: str, s=s, length=length) -> np.ndarray:
            return np.repeat(s[col].to_numpy(), length)

        n_views = np.repeat(views, length)
        buy = np.repeat(is_buy, length)
        etype = np.select(
            [pos == 0, pos <= n_views, pos == n_views + 1, buy & (pos == n_views + 2)],
            ["page_view", "product_view", "add_to_cart", "checkout_start"], "purchase")
        from_end = np.repeat(length, length) - 1 - pos
        gap = np.repeat(rng.integers(20, 240, len(s)), length)  # seconds between clicks
        ts = rep("end_ts") - from_end * gap
        order_idx = rep("order_idx")
        cust_idx = rep("cust_idx")
        prod = rng.integers(0, n_prod, len(pos))
        bought = first_item.reindex(order_idx).to_numpy()
        prod = np.where((order_idx >= 0) & (etype != "page_view"), np.nan_to_num(bought), prod)
        cust_ids = np.where(cust_idx >= 0, cust["customer_id"].to_numpy()[cust_idx], None)
        first = pos == 0
        channel = rep("channel_id")
        utm = pd.Series(channel).map(UTM_SOURCE).to_numpy()
        has_channel_id = rng.random(len(pos)) < 0.6
        frame = pd.DataFrame({
            "event_id": np.char.add("E", (np.arange(len(pos)) + counter).astype(str)),
            "ts": ts,
            "event_type": etype,
            "customer_id": cust_ids,
            "anonymous_id": np.where(cust_idx < 0, np.char.add("anon-", sid.astype(str)), None),
            "session_id": np.char.add("S", sid.astype(str)),
            "product_id": np.where(etype == "page_view", None,
                                   world.products["product_id"].to_numpy()[prod.astype(int)]),
            "order_id": np.where(etype == "purchase",
                                 orders["order_id"].to_numpy()[np.maximum(order_idx, 0)], None),
            "channel_id": np.where(first & has_channel_id, channel, None),
            "campaign_id": np.where(first, rep("campaign_id"), None),
            "utm_source": np.where(first & ~has_channel_id, utm, None),
            "utm_medium": np.where(first & ~has_channel_id & pd.notna(utm), "cpc", None),
            "device": rep("device"),
            "page_url": np.where(etype == "product_view", "/p/" + pd.Series(prod).astype(int)
                                 .astype(str).to_numpy(), "/"),
        })
        counter += len(pos)
        yield frame


def reviews(world: World, orders: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """About 15% of delivered orders get a review; ratings worsen as churn approaches."""
    rng, cust, prods = world.rng, world.customers, world.products
    delivered = np.flatnonzero((orders["status"] == "delivered").to_numpy()
                               & (rng.random(len(orders)) < 0.15))
    first_item = items.drop_duplicates("order_idx").set_index("order_idx")["prod_idx"]
    prod = first_item.reindex(delivered).to_numpy()
    c = orders["cust_idx"].to_numpy()[delivered]
    days_left = cust["churn_day"].to_numpy()[c] - orders["day"].to_numpy()[delivered]
    mean = prods["quality"].to_numpy()[prod] - 1.6 * (1 - decay(
        days_left, cust["fades_before_churn"].to_numpy()[c]))
    rating = np.clip(np.round(rng.normal(mean, 0.8)), 1, 5).astype(int)
    created = orders["ts"].to_numpy()[delivered] + rng.integers(2, 10, len(delivered)) * 86400
    text = [REVIEW_TEXT[r][rng.integers(3)] for r in rating]
    frame = pd.DataFrame({
        "review_id": [f"R{i:07d}" for i in range(1, len(delivered) + 1)],
        "order_id": orders["order_id"].to_numpy()[delivered],
        "product_id": prods["product_id"].to_numpy()[prod],
        "customer_id": cust["customer_id"].to_numpy()[c],
        "rating": rating,
        "review_text": text,
        "ts": created,
    })
    return frame[frame["ts"] < world.cfg.start_ts + world.cfg.days * 86400]


def ad_spend(world: World) -> pd.DataFrame:
    """Daily spend per paid channel, plus campaign-level rows for paid campaigns."""
    cfg, rng = world.cfg, world.rng
    paid = world.channels[world.channels["is_paid"]]
    budget = max(cfg.scale, 0.002) * 9000  # daily spend of the whole shop at scale 1 ~ 9k USD
    rows = []
    for ch in paid.itertuples():
        daily = budget * ch.share * world.day_weight * rng.lognormal(0, 0.15, cfg.days)
        cpm = {"paid_search": 9.0, "paid_social": 6.0, "display": 2.5, "affiliate": 4.0}[
            ch.channel_type]
        ctr = {"paid_search": 0.04, "paid_social": 0.012, "display": 0.004, "affiliate": 0.01}[
            ch.channel_type]
        impressions = (daily / cpm * 1000).astype(int)
        clicks = rng.binomial(impressions, ctr)
        cur = "CNY" if ch.channel_id == "CH03" and cfg.base_currency == "USD" else "USD"
        spend = daily / (world.fx_daily[cur][: cfg.days])
        rows.append(pd.DataFrame({
            "day": np.arange(cfg.days), "channel_id": ch.channel_id, "campaign_id": None,
            "impressions": impressions, "clicks": clicks, "spend": np.round(spend, 2),
            "currency": cur}))
    for camp in world.campaigns[~world.campaigns["has_control"]].itertuples():
        if camp.channel_id not in set(paid["channel_id"]):
            continue
        days = np.arange(camp.start_day, min(camp.end_day, cfg.days - 1) + 1)
        per_day = camp.budget_usd / len(days)
        impressions = (per_day / 6.0 * 1000 * rng.lognormal(0, 0.1, len(days))).astype(int)
        rows.append(pd.DataFrame({
            "day": days, "channel_id": camp.channel_id, "campaign_id": camp.campaign_id,
            "impressions": impressions, "clicks": rng.binomial(impressions, 0.015),
            "spend": np.round(np.full(len(days), per_day), 2), "currency": "USD"}))
    return pd.concat(rows, ignore_index=True)


def inventory(world: World, items: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Weekly stock per product: on hand drifts against demand, with occasional stock-outs."""
    cfg, rng, prods = world.cfg, world.rng, world.products
    weeks = np.arange(0, cfg.days, 7)
    n = len(prods)
    day = orders["day"].to_numpy()[items["order_idx"].to_numpy()]
    weekly = np.zeros((len(weeks), n))
    np.add.at(weekly, (np.minimum(day // 7, len(weeks) - 1), items["prod_idx"].to_numpy()),
              items["quantity"].to_numpy())
    mean_week = weekly.mean(axis=0) + 0.5
    cover = rng.uniform(0.5, 6.0, (len(weeks), n))
    on_hand = np.floor(mean_week * cover).astype(int)
    on_hand[rng.random((len(weeks), n)) < 0.04] = 0
    on_order = np.where(cover < 1.5, np.ceil(mean_week * 3), 0).astype(int)
    return pd.DataFrame({
        "day": np.repeat(weeks, n),
        "prod_idx": np.tile(np.arange(n), len(weeks)),
        "warehouse_id": np.where(np.tile(np.arange(n), len(weeks)) % 3 == 0, "WH-SZ", "WH-LA"),
        "on_hand_qty": on_hand.ravel(),
        "on_order_qty": on_order.ravel(),
        "unit_cost": np.tile(prods["unit_cost_usd"].to_numpy(), len(weeks)),
    })
