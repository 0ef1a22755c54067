"""Typed simulation frames -> contract text columns (the way real exports look)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .world import World


def iso(ts: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Epoch seconds -> ISO 8601 text; with rng, a mix of `Z`, `+08:00` and naive (shop time).

    The shop's time zone is UTC by default, so naive text is UTC wall time.
    """
    stamp = pd.to_datetime(pd.Series(ts), unit="s", utc=True)
    text = stamp.dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    if rng is None:
        return text
    style = rng.random(len(ts))
    east8 = (stamp + pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%S+08:00").to_numpy()
    naive = stamp.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    return np.where(style < 0.7, text, np.where(style < 0.9, east8, naive))


def day_text(world: World, day: np.ndarray) -> np.ndarray:
    return pd.to_datetime(world.cfg.start_ts + np.asarray(day) * 86400, unit="s").strftime(
        "%Y-%m-%d").to_numpy()


def money(values: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Amounts as text; with rng, some large amounts carry a thousands separator (quoted)."""
    text = np.array([f"{v:.2f}" for v in values], dtype=object)
    if rng is not None:
        big = (np.asarray(values) >= 1000) & (rng.random(len(values)) < 0.3)
        text[big] = [f"{v:,.2f}" for v in np.asarray(values)[big]]
    return text


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text; missing values as empty strings, as CSV exports show them."""
    out = frame.astype(object).where(frame.notna(), "")
    return out.map(str) if len(out) else out.astype(str)


def customers(world: World) -> pd.DataFrame:
    c, rng = world.customers, world.rng
    signup = world.cfg.start_ts + c["signup_day"].to_numpy() * 86400 + rng.integers(
        0, 86400, len(c))
    return as_text(pd.DataFrame({
        "customer_id": c["customer_id"], "email": c["email"], "phone": c["phone"],
        "first_name": c["first_name"], "last_name": c["last_name"], "gender": c["gender"],
        "birth_year": c["birth_year"], "country": c["country"], "province": c["province"],
        "city": c["city"], "signup_at": iso(signup, rng),
        "acquisition_channel_id": c["acquisition_channel_id"],
        "marketing_opt_in": np.where(c["marketing_opt_in"], "true", "false"),
        "membership_level": c["membership_level"], "updated_at": iso(signup + 3600),
    }))


def products(world: World) -> pd.DataFrame:
    p = world.products
    rate = np.where(p["currency"] == "CNY", world.fx_daily["CNY"][world.cfg.days - 1], 1.0)
    launched = world.cfg.start_ts + p["launch_day"].to_numpy() * 86400
    return as_text(pd.DataFrame({
        "product_id": p["product_id"], "sku": p["sku"], "product_name": p["product_name"],
        "category": p["category"], "subcategory": p["subcategory"], "brand": p["brand"],
        "list_price": money(np.round(p["list_price_usd"] / rate, 2)),
        "unit_cost": money(np.round(p["unit_cost_usd"] / rate, 2)),
        "currency": p["currency"], "launched_at": iso(launched),
        "is_active": np.where(p["is_active"], "true", "false"),
        "updated_at": iso(launched + 86400),
    }))


def orders(world: World, o: pd.DataFrame) -> pd.DataFrame:
    rng = world.rng
    settle = np.select([o["status"] == "delivered", o["status"].isin(["cancelled", "returned"])],
                       [5, 8], 0) * 86400 + 600
    jpy = o["currency"].to_numpy() == "JPY"

    def amount(col: str) -> np.ndarray:
        text = money(o[col].to_numpy(), rng)
        text[jpy] = [f"{v:.0f}" for v in o.loc[jpy, col]]
        return text

    return as_text(pd.DataFrame({
        "order_id": o["order_id"], "customer_id": world.customers["customer_id"].to_numpy()[
            o["cust_idx"].to_numpy()],
        "ordered_at": iso(o["ts"].to_numpy(), rng), "status": o["status"],
        "currency": o["currency"], "subtotal_amount": amount("subtotal_amount"),
        "discount_amount": amount("discount_amount"), "shipping_amount": amount("shipping_amount"),
        "tax_amount": amount("tax_amount"), "total_amount": amount("total_amount"),
        "coupon_code": o["coupon_code"], "channel_id": o["channel_id"],
        "campaign_id": o["campaign_id"], "device": o["device"], "group_buy_id": o["group_buy_id"],
        "updated_at": iso(o["ts"].to_numpy() + settle),
    }))


def order_items(world: World, items: pd.DataFrame, o: pd.DataFrame) -> pd.DataFrame:
    return as_text(pd.DataFrame({
        "order_id": o["order_id"].to_numpy()[items["order_idx"].to_numpy()],
        "line_number": items["line_number"],
        "product_id": world.products["product_id"].to_numpy()[items["prod_idx"].to_numpy()],
        "quantity": items["quantity"],
        "unit_price": money(items["unit_price"].to_numpy()),
        "discount_amount": money(items["discount_amount"].to_numpy()),
    }))


def events(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.rename(columns={"ts": "occurred_at"})
    out["occurred_at"] = iso(frame["ts"].to_numpy())
    out.insert(8, "search_query", np.where(rng.random(len(out)) < 0.03, "蓝牙耳机", None))
    out.insert(13, "utm_campaign", None)
    return out.astype(object).where(out.notna(), None)


def campaigns(world: World) -> pd.DataFrame:
    c = world.campaigns
    starts = world.cfg.start_ts + c["start_day"].to_numpy() * 86400
    ends = pd.Series(c["end_day"]).astype("float").to_numpy()
    end_text = np.where(np.isnan(ends), "",
                        iso(world.cfg.start_ts + np.nan_to_num(ends).astype(int) * 86400 + 86399))
    return as_text(pd.DataFrame({
        "campaign_id": c["campaign_id"], "campaign_name": c["campaign_name"],
        "channel_id": c["channel_id"], "campaign_type": c["campaign_type"],
        "starts_at": iso(starts), "ends_at": end_text, "budget": money(c["budget_usd"]),
        "currency": "USD", "target_segment": c["target_segment"],
    }))


def campaign_members(world: World, m: pd.DataFrame) -> pd.DataFrame:
    assigned = world.cfg.start_ts + m["assigned_day"].to_numpy() * 86400 + 3600 * 9
    return as_text(pd.DataFrame({
        "campaign_id": m["campaign_id"],
        "customer_id": world.customers["customer_id"].to_numpy()[m["cust_idx"].to_numpy()],
        "assigned_at": iso(assigned), "test_group": m["test_group"],
        "delivered_at": np.where(m["delivered"], iso(assigned + 60), ""),
        "opened_at": np.where(m["opened"], iso(assigned + 7200), ""),
        "clicked_at": np.where(m["clicked"], iso(assigned + 7500), ""),
    }))


def ad_spend(world: World, spend: pd.DataFrame) -> pd.DataFrame:
    return as_text(pd.DataFrame({
        "spend_date": day_text(world, spend["day"].to_numpy()), "channel_id": spend["channel_id"],
        "campaign_id": spend["campaign_id"], "impressions": spend["impressions"],
        "clicks": spend["clicks"], "spend": money(spend["spend"].to_numpy()),
        "currency": spend["currency"],
    }))


def reviews(world: World, r: pd.DataFrame) -> pd.DataFrame:
    out = r.rename(columns={"ts": "created_at"})
    out["created_at"] = iso(r["ts"].to_numpy())
    return as_text(out)


def inventory(world: World, inv: pd.DataFrame) -> pd.DataFrame:
    return as_text(pd.DataFrame({
        "snapshot_date": day_text(world, inv["day"].to_numpy()),
        "product_id": world.products["product_id"].to_numpy()[inv["prod_idx"].to_numpy()],
        "warehouse_id": inv["warehouse_id"], "on_hand_qty": inv["on_hand_qty"],
        "on_order_qty": inv["on_order_qty"], "unit_cost": money(inv["unit_cost"].to_numpy()),
    }))


def fx_rates(world: World) -> pd.DataFrame:
    fx = world.fx
    return as_text(pd.DataFrame({
        "rate_date": day_text(world, fx["rate_day"].to_numpy()), "currency": fx["currency"],
        "rate_to_base": [f"{v:.6f}" for v in fx["rate_to_base"]],
    }))


def channels(world: World) -> pd.DataFrame:
    ch = world.channels
    return as_text(pd.DataFrame({
        "channel_id": ch["channel_id"], "channel_name": ch["channel_name"],
        "channel_type": ch["channel_type"], "is_paid": np.where(ch["is_paid"], "true", "false"),
    }))
