"""Shapes real shops' drops come in, applied to the generated exports as they are written.

The simulation is the same; only what the export looks like changes:
- `required_only`: only customers, products, orders and order_items are written;
- `base_currency`: every money row is in that currency and no `fx_rates` file is written
  (a single-currency shop that reports in, say, EUR);
- `timezone`: every timestamp is written as wall time in that zone without an offset (a
  shop whose export job writes local time; with daylight saving, one hour a year repeats);
- `guest_share`: that share of orders is placed by guests, whose customer_id is in no
  customers row (checkout without an account).
History length (`days`) and catalogue size (`products`) are Config fields of their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contract import ENTITIES

TIMESTAMP_COLUMNS = {
    "customers": ["signup_at", "updated_at"], "products": ["launched_at", "updated_at"],
    "orders": ["ordered_at", "updated_at"], "events": ["occurred_at"],
    "campaigns": ["starts_at", "ends_at"],
    "campaign_members": ["assigned_at", "delivered_at", "opened_at", "clicked_at"],
    "reviews": ["created_at"],
}
CURRENCY_ENTITIES = ("products", "orders", "campaigns", "ad_spend")


def writes(cfg, entity: str) -> bool:
    """Whether the drop of this shape has a file for the entity."""
    if cfg.required_only and not ENTITIES[entity].is_required_entity:
        return False
    return not (entity == "fx_rates" and cfg.base_currency != "USD")


def reshape(cfg, entity: str, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The entity's formatted rows as a shop of this shape exports them."""
    frame = frame.copy()
    if cfg.base_currency != "USD" and entity in CURRENCY_ENTITIES:
        # The simulation priced everything in one currency (world.py); it is the base one.
        frame["currency"] = np.where(frame["currency"].astype(str) == "", "", cfg.base_currency)
    if cfg.timezone != "UTC":
        for column in TIMESTAMP_COLUMNS.get(entity, []):
            frame[column] = local_wall_time(frame[column], cfg.timezone)
    if cfg.guest_share and entity == "orders":
        guests = rng.random(len(frame)) < cfg.guest_share
        frame.loc[guests, "customer_id"] = "G-" + frame.loc[guests, "order_id"].astype(str)
    return frame


def local_wall_time(text: pd.Series, timezone: str) -> pd.Series:
    """ISO 8601 text (with `Z`, an offset, or naive UTC) as naive wall time in `timezone`."""
    present = text.notna() & (text.astype(str) != "")
    stamps = pd.to_datetime(text[present].astype(str), utc=True, format="ISO8601")
    out = text.astype(object).copy()
    out[present] = stamps.dt.tz_convert(timezone).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    return out
