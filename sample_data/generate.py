"""Write a complete sample export drop (every contract entity) plus `_truth.json`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import activity, formatting
from .dirty import Tally, inject
from .orders import (
    assign_channels_and_campaigns,
    campaign_members_and_uplift,
    natural_orders,
    order_items,
    price_orders,
    promotions,
)
from .shapes import reshape, writes
from .world import Config, build_world

MALFORMED_CSV_LINE = "C9999999,broken-row-with-too-few-fields"
MALFORMED_JSON_LINE = '{"event_id": "E-broken", "occurred_at": '


def generate(cfg: Config, out: Path, log: Callable[[str], None] = print) -> dict:
    """Simulate the shop and write the drop to `out`. Returns the truth record."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file():
            old.unlink()
    world = build_world(cfg)
    rng = world.rng
    orders = natural_orders(world)
    members, extra, uplift = campaign_members_and_uplift(world, orders)
    orders = assign_channels_and_campaigns(world, pd.concat([orders, extra], ignore_index=True))
    orders["order_id"] = [f"O{i:08d}" for i in range(1, len(orders) + 1)]
    items = order_items(world, orders, promotions(world))
    price_orders(world, orders, items)
    log(f"simulated {len(world.customers):,} customers, {len(orders):,} orders, "
        f"{len(items):,} items")

    truth: dict = {"config": {"scale": cfg.scale, "seed": cfg.seed, "start": str(cfg.start),
                              "days": cfg.days, "base_currency": cfg.base_currency,
                              "timezone": cfg.timezone, "products": cfg.n_products,
                              "required_only": cfg.required_only,
                              "guest_share": cfg.guest_share},
                   "entities": {}, "campaign_uplift": uplift,
                   "companions": _companions(world.products)}
    writer = _Writer(out, truth, rng, cfg, log)
    writer.csv("customers", formatting.customers(world), bom_crlf=True,
               malformed_line=MALFORMED_CSV_LINE)
    writer.csv("products", formatting.products(world))
    writer.csv("orders", formatting.orders(world, orders), parts=2)
    writer.csv("order_items", formatting.order_items(world, items, orders))
    if writes(cfg, "channels"):
        writer.csv("channels", formatting.channels(world))
    if writes(cfg, "campaigns"):
        writer.csv("campaigns", formatting.campaigns(world))
    if writes(cfg, "campaign_members"):
        writer.csv("campaign_members", formatting.campaign_members(world, members))
    if writes(cfg, "ad_spend"):
        writer.csv("ad_spend", formatting.ad_spend(world, activity.ad_spend(world)))
    if writes(cfg, "reviews"):
        writer.csv("reviews", formatting.reviews(world, activity.reviews(world, orders, items)))
    if writes(cfg, "inventory_snapshots"):
        writer.parquet("inventory_snapshots",
                       formatting.inventory(world, activity.inventory(world, items, orders)))
    if writes(cfg, "fx_rates"):
        writer.csv("fx_rates", formatting.fx_rates(world))
    if writes(cfg, "events"):
        sessions = activity.sessions(world, orders)
        for part, chunk in enumerate(activity.events(world, sessions, items, orders), start=1):
            writer.jsonl("events", formatting.events(chunk, rng), part,
                         malformed_line=MALFORMED_JSON_LINE if part == 1 else None)
    truth["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    (out / "_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True))
    log(f"wrote {out} in {truth['elapsed_seconds']} s")
    return truth


def _companions(products: pd.DataFrame) -> dict[str, str]:
    """Each product's frequently-bought-together companion, by exported product id."""
    ids = products["product_id"].to_numpy()
    return dict(zip(ids, ids[products["companion_idx"].to_numpy()], strict=True))


class _Writer:
    """Writes one entity's files, injecting dirty rows and recording the truth."""

    def __init__(self, out: Path, truth: dict, rng: np.random.Generator, cfg: Config,
                 log: Callable[[str], None]):
        self.out, self.truth, self.rng, self.cfg, self.log = out, truth, rng, cfg, log

    def _dirty(self, entity: str, frame: pd.DataFrame) -> pd.DataFrame:
        frame = reshape(self.cfg, entity, frame, self.rng)
        frame, extra, tally = inject(entity, frame, self.rng, self.cfg.dirty_share)
        record = self.truth["entities"].setdefault(entity, {"rows": 0, **Tally().as_dict()})
        merged = Tally(record["exact_duplicates"], record["newer_versions"])
        merged.quarantine.update(record["quarantine"])
        merged.orphans.update(record["orphans"])
        merged.add(tally)
        record.update(merged.as_dict())
        return pd.concat([frame, extra], ignore_index=True)

    def _count(self, entity: str, rows: int, malformed: int = 0) -> None:
        record = self.truth["entities"][entity]
        record["rows"] += rows + malformed
        if malformed:
            record["quarantine"]["malformed_record"] = (
                record["quarantine"].get("malformed_record", 0) + malformed)

    def csv(self, entity: str, frame: pd.DataFrame, *, parts: int = 1, bom_crlf: bool = False,
            malformed_line: str | None = None) -> None:
        frame = self._dirty(entity, frame)
        bounds = np.linspace(0, len(frame), parts + 1).astype(int)
        for p in range(parts):
            name = f"{entity}.csv" if parts == 1 else f"{entity}-{p + 1:04d}.csv"
            chunk = frame.iloc[bounds[p] : bounds[p + 1]]
            path = self.out / name
            chunk.to_csv(path, index=False, encoding="utf-8-sig" if bom_crlf else "utf-8",
                         lineterminator="\r\n" if bom_crlf else "\n")
            if malformed_line:
                with path.open("a", encoding="utf-8", newline="") as fh:
                    fh.write(malformed_line + ("\r\n" if bom_crlf else "\n"))
        self._count(entity, len(frame), 1 if malformed_line else 0)
        self.log(f"  {entity:<20} {len(frame):>10,} rows -> {parts} csv file(s)")

    def parquet(self, entity: str, frame: pd.DataFrame) -> None:
        frame = self._dirty(entity, frame)
        frame.to_parquet(self.out / f"{entity}.parquet", index=False)
        self._count(entity, len(frame))
        self.log(f"  {entity:<20} {len(frame):>10,} rows -> parquet")

    def jsonl(self, entity: str, frame: pd.DataFrame, part: int,
              malformed_line: str | None = None) -> None:
        frame = self._dirty(entity, frame)
        # Mobile apps send an extra key the contract does not know; it must be tolerated.
        frame["app_version"] = np.where(frame["device"].isin(["ios", "android"]), "5.2.1", "")
        path = self.out / f"{entity}-{part:04d}.jsonl"
        with duckdb.connect() as con:
            con.register("records", frame.replace("", None))
            con.execute(f"copy records to '{path}' (format json)")
        if malformed_line:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(malformed_line + "\n")
        self._count(entity, len(frame), 1 if malformed_line else 0)
        self.log(f"  {entity:<20} {len(frame):>10,} rows -> {path.name}")
