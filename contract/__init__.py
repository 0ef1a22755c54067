"""The raw export contract (docs/raw_exports.md) as data.

Loader, generator and tests read the entity list from here, so there is one copy of
which columns exist and which are required.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    name: str
    columns: tuple[str, ...]
    required: frozenset[str]
    is_required_entity: bool = False


def _entity(name: str, spec: str, *, required_entity: bool = False) -> Entity:
    """Build an entity from the contract's notation: `col*` marks a required column."""
    cols = [c.strip() for c in spec.split(",") if c.strip()]
    return Entity(
        name=name,
        columns=tuple(c.rstrip("*") for c in cols),
        required=frozenset(c.rstrip("*") for c in cols if c.endswith("*")),
        is_required_entity=required_entity,
    )


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        _entity(
            "customers",
            "customer_id*, email, phone, first_name, last_name, gender, birth_year, country,"
            " province, city, signup_at*, acquisition_channel_id, marketing_opt_in,"
            " membership_level, updated_at",
            required_entity=True,
        ),
        _entity(
            "products",
            "product_id*, sku, product_name*, category*, subcategory, brand, list_price*,"
            " unit_cost, currency*, launched_at, is_active, updated_at",
            required_entity=True,
        ),
        _entity(
            "orders",
            "order_id*, customer_id*, ordered_at*, status*, currency*, subtotal_amount*,"
            " discount_amount, shipping_amount, tax_amount, total_amount*, coupon_code,"
            " channel_id, campaign_id, device, group_buy_id, updated_at",
            required_entity=True,
        ),
        _entity(
            "order_items",
            "order_id*, line_number*, product_id*, quantity*, unit_price*, discount_amount",
            required_entity=True,
        ),
        _entity(
            "events",
            "event_id*, occurred_at*, event_type*, customer_id, anonymous_id, session_id,"
            " product_id, order_id, search_query, channel_id, campaign_id, utm_source,"
            " utm_medium, utm_campaign, device, page_url",
        ),
        _entity("channels", "channel_id*, channel_name*, channel_type*, is_paid"),
        _entity(
            "campaigns",
            "campaign_id*, campaign_name*, channel_id, campaign_type*, starts_at*, ends_at,"
            " budget, currency, target_segment",
        ),
        _entity(
            "campaign_members",
            "campaign_id*, customer_id*, assigned_at*, test_group*, delivered_at, opened_at,"
            " clicked_at",
        ),
        _entity(
            "ad_spend",
            "spend_date*, channel_id*, campaign_id, impressions, clicks, spend*, currency*",
        ),
        _entity(
            "reviews",
            "review_id*, order_id, product_id*, customer_id*, rating*, review_text, created_at*",
        ),
        _entity(
            "inventory_snapshots",
            "snapshot_date*, product_id*, warehouse_id, on_hand_qty*, on_order_qty, unit_cost",
        ),
        _entity("fx_rates", "rate_date*, currency*, rate_to_base*"),
    ]
}

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
COUNTED_STATUSES = ("placed", "paid", "shipped", "delivered")
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
