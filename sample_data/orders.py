"""Orders and order items of the simulated shop.

Customers buy as a Poisson process shaped by the demand calendar, between signup and a
hidden churn day; for half of them (`fades_before_churn`) frequency fades in the 60 days
before churning, the others stop without warning (as BG/NBD's drop-out assumes), so churn
is not too easy to foresee. CRM campaigns
assign members to treatment and control; treatment members get an extra purchase with
the campaign's true lift. Product choice follows popularity, category season and
per-product price promotions (a discount lifts that product's demand).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .world import CATEGORIES, TASTE_SHARE, World

DECLINE_DAYS = 60


def decay(days_to_churn: np.ndarray, fades: np.ndarray | bool = True) -> np.ndarray:
    """Purchase/engagement multiplier as churn approaches (1 far away, 0.25 at churn) for
    customers who fade; 1 until churn for those who do not."""
    return np.where(fades, np.clip(days_to_churn / DECLINE_DAYS, 0.25, 1.0), 1.0)


def natural_orders(world: World) -> pd.DataFrame:
    cfg, rng, cust = world.cfg, world.rng, world.customers
    w = world.day_weight
    cum = np.concatenate([[0.0], np.cumsum(w)])
    first_day = np.clip(cust["signup_day"].to_numpy() + rng.integers(0, 15, len(cust)), 0, None)
    end_day = np.clip(cust["churn_day"].to_numpy(), 0, cfg.days)
    active = (first_day < end_day) & cust["converts"].to_numpy()
    mass = np.where(active, cum[np.minimum(end_day, cfg.days)] - cum[np.minimum(first_day,
                                                                                cfg.days)], 0)
    rate = cust["rate"].to_numpy()
    # Scale purchase rates so the expected count meets the target (first orders included).
    scale = max(cfg.target_orders - active.sum(), 1) / max((rate * mass).sum() * 0.85, 1e-9)
    n_orders = rng.poisson(rate * mass * scale)
    owner = np.repeat(np.arange(len(cust)), n_orders)
    u = cum[first_day[owner]] + rng.random(len(owner)) * mass[owner]
    day = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, cfg.days - 1)
    keep = rng.random(len(owner)) < decay(cust["churn_day"].to_numpy()[owner] - day,
                                          cust["fades_before_churn"].to_numpy()[owner])
    owner, day = owner[keep], day[keep]
    # Every converting customer places a first order within two weeks of signing up.
    starters = np.flatnonzero(active)
    owner = np.concatenate([starters, owner])
    day = np.concatenate([first_day[starters], day])
    frame = pd.DataFrame({"cust_idx": owner, "day": day, "campaign_id": None,
                          "channel_id": None, "group_buy_id": None})
    return frame


def campaign_members_and_uplift(world: World, orders: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                            pd.DataFrame, dict]:
    """Assign members of control-group campaigns; add the treatment group's extra orders.

    Returns (members, extra_orders, truth) where truth holds each campaign's true
    conversion uplift: lift * (1 - the members' natural conversion rate in the window).
    """
    cfg, rng, cust = world.cfg, world.rng, world.customers
    opted = np.flatnonzero(cust["marketing_opt_in"].to_numpy())
    members = []
    for camp in world.campaigns[world.campaigns["has_control"]].itertuples():
        eligible = opted[cust["signup_day"].to_numpy()[opted] < camp.start_day]
        size = min(len(eligible), max(40, int(len(cust) * 0.03)))
        chosen = rng.choice(eligible, size, replace=False)
        end = int(camp.end_day) if pd.notna(camp.end_day) else camp.start_day + 14
        treat = rng.random(size) < 0.8
        members.append(pd.DataFrame({
            "campaign_id": camp.campaign_id, "cust_idx": chosen,
            "test_group": np.where(treat, "treatment", "control"),
            "assigned_day": camp.start_day, "end_day": min(end, cfg.days - 1),
            "channel_id": camp.channel_id,
            "lifted": treat & (rng.random(size) < camp.true_lift),
            "delivered": treat & (rng.random(size) < 0.96),
            "opened": treat & (rng.random(size) < 0.35),
            "clicked": treat & (rng.random(size) < 0.1),
        }))
    frame = pd.concat(members, ignore_index=True)
    frame["clicked"] |= frame["lifted"]
    hits = frame.reset_index().merge(orders[["cust_idx", "day"]], on="cust_idx")
    hits = hits[(hits["day"] >= hits["assigned_day"]) & (hits["day"] <= hits["end_day"])]
    frame["natural"] = frame.index.isin(hits["index"])
    lifted = frame[frame["lifted"]]
    extra = pd.DataFrame({
        "cust_idx": lifted["cust_idx"].to_numpy(),
        "day": rng.integers(lifted["assigned_day"], lifted["end_day"] + 1),
        "campaign_id": lifted["campaign_id"].to_numpy(),
        "channel_id": lifted["channel_id"].to_numpy(),
        "group_buy_id": None,
    })
    lift = world.campaigns.set_index("campaign_id")["true_lift"]
    truth = {
        cid: {"true_lift": float(lift[cid]),
              "true_uplift": float(lift[cid] * (1 - g["natural"].mean())),
              "members": len(g), "treatment": int((g["test_group"] == "treatment").sum())}
        for cid, g in frame.groupby("campaign_id")
    }
    return frame, extra, truth


def assign_channels_and_campaigns(world: World, orders: pd.DataFrame) -> pd.DataFrame:
    """Fill channel, campaign, device, group buys and order times for every order."""
    rng, cust, camps = world.rng, world.customers, world.campaigns
    n = len(orders)
    acq = cust["acquisition_channel_true"].to_numpy()[orders["cust_idx"].to_numpy()]
    other = rng.choice(["CH11", "CH09", "CH05", "CH07", "CH10", "CH01"], n,
                       p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.15])
    first = ~orders.duplicated("cust_idx").to_numpy()
    channel = np.where(first | (rng.random(n) < 0.45), acq, other)
    orders["channel_id"] = orders["channel_id"].where(orders["channel_id"].notna(), channel)
    # Orders in a running non-CRM campaign on the same channel are credited to it.
    open_camps = camps[~camps["has_control"]]
    day = orders["day"].to_numpy()
    for camp in open_camps.itertuples():
        hit = ((orders["channel_id"].to_numpy() == camp.channel_id) & (day >= camp.start_day)
               & (day <= camp.end_day) & orders["campaign_id"].isna().to_numpy()
               & (rng.random(n) < 0.6))
        orders.loc[hit, "campaign_id"] = camp.campaign_id
        if camp.campaign_type == "group_buy":
            _group_buys(world, orders, camp, day)
    device = cust["device_pref"].to_numpy()[orders["cust_idx"].to_numpy()]
    offline = orders["channel_id"].to_numpy() == "CH12"
    orders["device"] = np.where(offline, "offline", device)
    hour = rng.choice(24, n, p=_hour_profile())
    orders["ts"] = (world.cfg.start_ts + orders["day"].to_numpy() * 86400 + hour * 3600
                    + rng.integers(0, 3600, n))
    return orders.sort_values("ts", kind="stable").reset_index(drop=True)


def _group_buys(world: World, orders: pd.DataFrame, camp, day: np.ndarray) -> None:
    """Leaders start a group; 1-4 other shoppers ordering that day join it."""
    rng = world.rng
    campaign = orders["campaign_id"].to_numpy()
    in_window = campaign == camp.campaign_id
    leader = in_window & (rng.random(len(orders)) < 0.35)
    free = (~in_window) & pd.isna(campaign) & orders["group_buy_id"].isna().to_numpy()
    group = orders["group_buy_id"].to_numpy().copy()
    new_campaign = campaign.copy()
    serial = 0
    for d in np.unique(day[leader]):
        leaders = np.flatnonzero(leader & (day == d))
        pool = rng.permutation(np.flatnonzero(free & (day == d)))
        sizes = rng.integers(1, 5, len(leaders))
        sizes = np.minimum(sizes, np.maximum(0, len(pool) - np.concatenate([[0],
                                                                            np.cumsum(sizes)[:-1]])))
        ids = np.array([f"GB-{camp.campaign_id}-{serial + k + 1:04d}" for k in range(len(leaders))])
        serial += len(leaders)
        joiners = pool[: sizes.sum()]
        group[leaders] = ids
        group[joiners] = np.repeat(ids, sizes)
        new_campaign[joiners] = camp.campaign_id
    orders["group_buy_id"] = group
    orders["campaign_id"] = new_campaign


def _hour_profile() -> np.ndarray:
    p = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.4, 2, 2.4, 2.6, 2.8,
                  3, 2.8, 2.6, 2.6, 2.8, 3, 3.4, 4, 4.4, 4.2, 3.2, 2])
    return p / p.sum()


def promotions(world: World) -> np.ndarray:
    """Matrix (days x products) of promotional discount shares (0 when not on promotion)."""
    cfg, rng = world.cfg, world.rng
    n = len(world.products)
    disc = np.zeros((cfg.days, n), dtype=np.float32)
    windows = rng.poisson(cfg.days / 75, n)
    for p in range(n):
        for _ in range(windows[p]):
            s = int(rng.integers(0, cfg.days - 3))
            disc[s : s + int(rng.integers(3, 11)), p] = rng.choice([0.1, 0.2, 0.3, 0.4])
    return disc


def order_items(world: World, orders: pd.DataFrame, promo: np.ndarray) -> pd.DataFrame:
    """Draw items per order; product choice shaped by the customer's taste, popularity,
    season and promotions."""
    rng, prods = world.rng, world.products
    n_items = 1 + rng.poisson(1.5, len(orders))
    order_idx = np.repeat(np.arange(len(orders)), n_items)
    line = np.concatenate([np.arange(1, k + 1) for k in n_items]) if len(n_items) else []
    day = orders["day"].to_numpy()[order_idx]
    cats = pd.Categorical(prods["category"], categories=list(CATEGORIES))
    base = prods["popularity"].to_numpy()
    launched = prods["launch_day"].to_numpy()
    product = np.empty(len(order_idx), dtype=np.int64)
    customer = orders["cust_idx"].to_numpy()[order_idx]
    n_cat = len(cats.categories)
    # A line's category follows the customer's taste (TASTE_SHARE) and the season; the
    # product within it, popularity and promotions.
    preference = TASTE_SHARE * world.taste + (1 - TASTE_SHARE) / n_cat
    for d in np.unique(day):
        rows = np.flatnonzero(day == d)
        weight = np.where(launched <= d, base * (1 + 5 * promo[d]), 0)
        in_category = np.bincount(cats.codes, weights=weight, minlength=n_cat)
        probs = preference[customer[rows]] * world.category_day_weight[d] * (in_category > 0)
        cdf = np.cumsum(probs, axis=1)
        chosen = (cdf < rng.random(len(rows))[:, None] * cdf[:, -1:]).sum(axis=1)
        for k in np.unique(chosen):
            lines = rows[chosen == k]
            members = np.flatnonzero(cats.codes == k)
            within = np.cumsum(weight[members])
            pick = np.searchsorted(within, rng.random(len(lines)) * within[-1], side="right")
            product[lines] = members[np.minimum(pick, len(members) - 1)]
    # Frequently bought together: each product has a companion that a quarter of the
    # later lines of an order take instead (once launched), so affinity rules have a truth.
    companion = rng.permutation(len(prods))
    first = product[np.repeat(np.cumsum(n_items) - n_items, n_items)]
    swap = ((line > 1) & (rng.random(len(order_idx)) < 0.25)
            & (launched[companion[first]] <= day) & (companion[first] != first))
    product = np.where(swap, companion[first], product)
    prods["companion_idx"] = companion
    qty = 1 + (rng.random(len(order_idx)) < 0.18) + (rng.random(len(order_idx)) < 0.05)
    return pd.DataFrame({
        "order_idx": order_idx, "line_number": line, "prod_idx": product, "quantity": qty,
        "promo_share": promo[day, product],
    })


def round_money(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """Round each amount to its currency's minor unit (JPY has none)."""
    factor = 10.0 ** decimals
    return np.round(values * factor) / factor


def price_orders(world: World, orders: pd.DataFrame, items: pd.DataFrame) -> None:
    """Money in each order's currency: list prices, line discounts, coupons, shipping, tax."""
    rng, cust, prods = world.rng, world.customers, world.products
    currency = cust["currency"].to_numpy()[orders["cust_idx"].to_numpy()]
    orders["currency"] = currency
    codes = {c: i for i, c in enumerate(world.fx_daily)}
    matrix = np.stack(list(world.fx_daily.values()))
    rate = matrix[pd.Series(currency).map(codes).to_numpy(), orders["day"].to_numpy()]
    orders["rate"] = rate
    decimals = np.where(currency == "JPY", 0, 2)
    item_rate = rate[items["order_idx"].to_numpy()]
    item_dec = decimals[items["order_idx"].to_numpy()]
    list_usd = prods["list_price_usd"].to_numpy()[items["prod_idx"].to_numpy()]
    unit = round_money(list_usd / item_rate, item_dec)
    line_disc = round_money(
        unit * items["quantity"].to_numpy() * items["promo_share"].to_numpy(), item_dec)
    items["unit_price"], items["discount_amount"] = unit, line_disc
    gross = np.bincount(items["order_idx"], unit * items["quantity"], minlength=len(orders))
    disc = np.bincount(items["order_idx"], line_disc, minlength=len(orders))
    lover = cust["coupon_lover"].to_numpy()[orders["cust_idx"].to_numpy()]
    uses_coupon = rng.random(len(orders)) < np.where(lover, 0.6, 0.05)
    coupon_share = rng.choice([0.05, 0.1, 0.15], len(orders))
    coupon = np.where(uses_coupon, (gross - disc) * coupon_share, 0.0)
    orders["coupon_code"] = np.where(uses_coupon,
                                     np.char.add("SAVE", (coupon_share * 100).astype(int)
                                                 .astype(str)), None)
    orders["subtotal_amount"] = round_money(gross, decimals)
    orders["discount_amount"] = round_money(disc + coupon, decimals)
    net = (orders["subtotal_amount"] - orders["discount_amount"]).to_numpy()
    orders["shipping_amount"] = np.where(net * rate >= 49, 0.0, round_money(5.99 / rate, decimals))
    orders["tax_amount"] = round_money(net * 0.07, decimals)
    orders["total_amount"] = round_money(
        net + orders["shipping_amount"].to_numpy() + orders["tax_amount"].to_numpy(), decimals)
    last_days = orders["day"].to_numpy() >= world.cfg.days - 4
    status = rng.choice(["delivered", "cancelled", "returned"], len(orders), p=[0.91, 0.05, 0.04])
    recent = rng.choice(["placed", "paid", "shipped"], len(orders))
    orders["status"] = np.where(last_days, recent, status)
