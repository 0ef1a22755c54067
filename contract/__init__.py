"""The raw export contract (docs/raw_exports.md) as typed data: the one place it is written.

Each entity lists its columns in file order with their type, whether they are required, the
values they may take, whether they are money or a planned time, its key and whether its
rows carry versions. The loader, the generator and the raw Great Expectations suites read
it directly; dbt's staging reads it through the macros in `dbt/macros/contract.sql`, and the
sources YAML and the table in `docs/raw_exports.md` are written from it by `make contract`
(`python -m contract.generate`). `tests/unit/test_contract.py` fails when a copy drifts.
The types are in `contract/spec.py`.
"""

from __future__ import annotations

from .spec import Column, Entity, col, req

__all__ = ["ENTITIES", "Column", "Entity", "LINEAGE_COLUMNS", "PLAUSIBILITY"]

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
COUNTED_STATUSES = ("placed", "paid", "shipped", "delivered")  # metrics.md: a counted order
DEVICES = ("web", "ios", "android", "mini_program", "offline")
EVENT_TYPES = (
    "page_view", "product_view", "search", "add_to_cart", "remove_from_cart",
    "checkout_start", "purchase", "coupon_claim", "share", "review",
)
CHANNEL_TYPES = (
    "paid_search", "paid_social", "display", "email", "sms", "push", "affiliate",
    "organic_search", "social", "direct", "referral", "offline",
)
CAMPAIGN_TYPES = (
    "discount", "coupon", "flash_sale", "group_buy", "points", "new_customer",
    "retargeting", "win_back", "brand",
)
TEST_GROUPS = ("treatment", "control")

_ENTITIES = [
    Entity(
        "customers",
        (req("customer_id"), col("email"), col("phone"), col("first_name"), col("last_name"),
         col("gender"), col("birth_year", "integer"), col("country"), col("province"),
         col("city"), req("signup_at", "timestamp"), col("acquisition_channel_id"),
         col("marketing_opt_in", "boolean"), col("membership_level"),
         col("updated_at", "timestamp")),
        key=("customer_id",), versioned=True, is_required_entity=True,
        description="Customer master export.",
        # The times are checked before the birth year (a row with both unreadable is
        # reported as bad_timestamp:signup_at), as staging did before the spec existed.
        parse_order=("signup_at", "updated_at", "birth_year"),
    ),
    Entity(
        "products",
        (req("product_id"), col("sku"), req("product_name"), req("category"),
         col("subcategory"), col("brand"), req("list_price", "number", money=True),
         col("unit_cost", "number", money=True), req("currency"),
         col("launched_at", "timestamp", planned=True), col("is_active", "boolean"),
         col("updated_at", "timestamp")),
        key=("product_id",), versioned=True, is_required_entity=True,
        description="Product catalogue export, list prices in the row's currency.",
        rules=("negative_amount", "currency_without_rate"),
    ),
    Entity(
        "orders",
        (req("order_id"), req("customer_id"), req("ordered_at", "timestamp"),
         req("status", accepted=ORDER_STATUSES), req("currency"),
         req("subtotal_amount", "number", money=True, minimum=0),
         col("discount_amount", "number", money=True),
         col("shipping_amount", "number", money=True), col("tax_amount", "number", money=True),
         req("total_amount", "number", money=True, minimum=0), col("coupon_code"),
         col("channel_id"), col("campaign_id"), col("device", accepted=DEVICES),
         col("group_buy_id"), col("updated_at", "timestamp")),
        key=("order_id",), versioned=True, is_required_entity=True,
        description="Order headers with status and money in the order's currency.",
        rules=("negative_amount", "currency_without_rate"),
    ),
    Entity(
        "order_items",
        (req("order_id"), req("line_number", "integer"), req("product_id"),
         req("quantity", "integer", quantity=True, minimum=0),
         req("unit_price", "number", money=True), col("discount_amount", "number", money=True)),
        key=("order_id", "line_number"), is_required_entity=True,
        description="Order lines: product, quantity, unit price in the order's currency.",
        rules=("negative_quantity", "fractional_quantity", "implausible_quantity",
               "negative_amount"),
    ),
    Entity(
        "events",
        (req("event_id"), req("occurred_at", "timestamp"),
         req("event_type", accepted=EVENT_TYPES), col("customer_id"), col("anonymous_id"),
         col("session_id"), col("product_id"), col("order_id"), col("search_query"),
         col("channel_id"), col("campaign_id"), col("utm_source"), col("utm_medium"),
         col("utm_campaign"), col("device"), col("page_url")),
        key=("event_id",),
        description="Site and app behaviour events (CSV or JSON Lines).",
    ),
    Entity(
        "channels",
        (req("channel_id"), req("channel_name"), req("channel_type", accepted=CHANNEL_TYPES),
         col("is_paid", "boolean")),
        key=("channel_id",),
        description="Marketing channels and their type.",
    ),
    Entity(
        "campaigns",
        (req("campaign_id"), req("campaign_name"), col("channel_id"),
         req("campaign_type", accepted=CAMPAIGN_TYPES),
         req("starts_at", "timestamp", planned=True), col("ends_at", "timestamp", planned=True),
         col("budget", "number", money=True), col("currency"), col("target_segment")),
        key=("campaign_id",),
        description="Campaigns with type, channel, window and budget.",
        rules=("ends_before_start", "currency_without_rate"),
    ),
    Entity(
        "campaign_members",
        (req("campaign_id"), req("customer_id"), req("assigned_at", "timestamp"),
         req("test_group", accepted=TEST_GROUPS), col("delivered_at", "timestamp"),
         col("opened_at", "timestamp"), col("clicked_at", "timestamp")),
        key=("campaign_id", "customer_id"),
        description="Campaign audiences with their A/B test group (treatment or control).",
    ),
    Entity(
        "ad_spend",
        (req("spend_date", "date"), req("channel_id"), col("campaign_id"),
         col("impressions", "integer"), col("clicks", "integer"),
         req("spend", "number", money=True), req("currency")),
        key=("spend_date", "channel_id", "campaign_id"),
        description="Daily advertising spend, impressions and clicks per channel and campaign.",
        rules=("negative_amount", "currency_without_rate"),
    ),
    Entity(
        "reviews",
        (req("review_id"), col("order_id"), req("product_id"), req("customer_id"),
         req("rating", "integer", minimum=1, maximum=5), col("review_text"),
         req("created_at", "timestamp")),
        key=("review_id",),
        description="Product reviews with a 1..5 rating.",
        rules=("rating_out_of_range",),
    ),
    Entity(
        "inventory_snapshots",
        (req("snapshot_date", "date"), req("product_id"),
         col("warehouse_id", description="empty: default"),
         req("on_hand_qty", "integer", minimum=0), col("on_order_qty", "integer"),
         col("unit_cost", "number", money=True, description="base currency")),
        key=("snapshot_date", "product_id", "warehouse_id"),
        description="Stock on hand per product, warehouse and snapshot date.",
        rules=("negative_quantity",),
    ),
    Entity(
        "fx_rates",
        (req("rate_date", "date", planned=True), req("currency"),
         req("rate_to_base", "number", minimum=0)),
        key=("rate_date", "currency"),
        description="Exchange rates to the base currency, per currency and date.",
        rules=("non_positive_rate",),
    ),
]
ENTITIES: dict[str, Entity] = {e.name: e for e in _ENTITIES}

# Columns the loader adds to every raw table.
LINEAGE_COLUMNS = ("_source_file", "_source_line", "_parse_error", "_load_id", "_loaded_at")

# Plausibility bounds (the dbt vars of the same names in dbt/dbt_project.yml; a test keeps the
# two equal): rows outside them are quarantined by staging and counted by the raw GX suites.
PLAUSIBILITY = {
    "plausible_earliest_date": "1990-01-01",
    "plausible_future_days": 2,
    "plausible_planned_days": 1830,
    "plausible_max_amount": 1_000_000_000_000,
    "plausible_max_quantity": 1_000_000,
}
