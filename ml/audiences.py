"""Campaign audiences: who to contact next, with which product and why.

One audience per planned campaign type, built from the segments, the churn scores (when
the churn model ran) and the recommendations:
- win_back: customers at risk or lapsed (lifecycle stage, or a high or medium churn tier);
- new_customer: one counted order, placed in the last `new_customer_days` days;
- cross_sell: active customers with a "bought with" recommendation;
- group_buy: customers who joined a group buy before.
The offer is the customer's best recommendation (for cross_sell, the best "bought with").

Rules every audience keeps:
- consent: only customers whose latest `marketing_opt_in` is true, never anyone else;
- fatigue: at most `frequency_cap` messages per customer in `cap_days` days across all
  campaigns, counting the campaign memberships already assigned in the `cap_days` before
  the as-of date; campaign types claim customers in the priority order above;
- measurement: a holdout share of each audience (`holdout_share`) is the control group,
  chosen by a stable hash of campaign type and customer, so the same customer stays in the
  same group build after build and the existing campaign evaluation measures the uplift.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .warehouse import table_exists

PRIORITY = ("win_back", "new_customer", "cross_sell", "group_buy")


@dataclass(frozen=True)
class AudienceSettings:
    frequency_cap: int = 2
    cap_days: int = 7
    holdout_share: float = 0.1
    new_customer_days: int = 30


def in_holdout(campaign_type: str, customer_id: str, share: float) -> bool:
    """Stable assignment: the first 8 bytes of SHA-256 of "type:customer" as a fraction."""
    digest = hashlib.sha256(f"{campaign_type}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def candidates(customers: pd.DataFrame, recommendations: pd.DataFrame, as_of: date,
               settings: AudienceSettings) -> pd.DataFrame:
    """Eligible (campaign_type, customer_id, offer_product_id, reason) before consent, cap
    and holdout. `customers`: customer_id, lifecycle_stage, churn_risk_tier (may be null),
    counted_order_count, first_order_date, group_buy_order_count."""
    best = recommendations.sort_values(["customer_id", "recommendation_rank"]) \
        .drop_duplicates("customer_id")
    with_partner = recommendations[recommendations["reason"].str.startswith("bought with")] \
        .sort_values(["customer_id", "recommendation_rank"]).drop_duplicates("customer_id")
    tier = customers["churn_risk_tier"].fillna("")
    recent = pd.to_datetime(customers["first_order_date"]) >= pd.Timestamp(
        as_of - timedelta(days=settings.new_customer_days))
    rules = {
        "win_back": (customers["lifecycle_stage"].isin(["at_risk", "churned"])
                     | tier.isin(["high", "medium"]),
                     lambda c: "churn risk " + c["churn_risk_tier"].fillna("not scored")
                     + ", lifecycle " + c["lifecycle_stage"].fillna("unknown")),
        "new_customer": ((customers["counted_order_count"] == 1) & recent,
                         lambda c: "first order on " + c["first_order_date"].astype(str)),
        "cross_sell": (customers["lifecycle_stage"].isin(["active", "new", "reactivated"]),
                       None),
        "group_buy": (customers["group_buy_order_count"] > 0,
                      lambda c: "joined " + c["group_buy_order_count"].astype(str)
                      + " group buy order(s)"),
    }
    frames = []
    for campaign_type in PRIORITY:
        eligible, why = rules[campaign_type]
        chosen = customers[eligible]
        offers = with_partner if campaign_type == "cross_sell" else best
        merged = chosen.merge(offers[["customer_id", "product_id", "reason"]],
                              on="customer_id", how="inner")
        if merged.empty:
            continue
        reason = merged["reason"] if why is None else why(merged) + "; offer: " + merged["reason"]
        frames.append(pd.DataFrame({
            "campaign_type": campaign_type, "customer_id": merged["customer_id"],
            "offer_product_id": merged["product_id"], "reason": reason,
            "priority": PRIORITY.index(campaign_type) + 1}))
    columns = ["campaign_type", "customer_id", "offer_product_id", "reason", "priority"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def build(candidate_rows: pd.DataFrame, opted_in: set[str], recent_contacts: pd.Series,
          as_of: date, settings: AudienceSettings) -> pd.DataFrame:
    """Apply consent, the frequency cap (recent_contacts: messages per customer in the
    `cap_days` before as_of) and the holdout to the candidates."""
    rows = candidate_rows[candidate_rows["customer_id"].isin(opted_in)].sort_values(
        ["priority", "customer_id"], kind="stable").copy()
    used = rows["customer_id"].map(recent_contacts).fillna(0).astype(int)
    claim = rows.groupby("customer_id").cumcount() + 1  # this campaign's message number
    rows = rows[(used + claim) <= settings.frequency_cap]
    rows["test_group"] = [
        "control" if in_holdout(t, c, settings.holdout_share) else "treatment"
        for t, c in zip(rows["campaign_type"], rows["customer_id"], strict=True)]
    rows["as_of_date"] = as_of
    return rows.reset_index(drop=True)


def load_inputs(con, settings: AudienceSettings, as_of: date
                ) -> tuple[pd.DataFrame, set[str], pd.Series]:
    """Customers with their stage, churn tier (when scored), orders and group buys; the
    opted-in customers; and each customer's campaign memberships in the cap window."""
    scored = table_exists(con, "customer_churn_scores")
    tier = ("(select risk_tier from ml.customer_churn_scores as scores "
            "where scores.customer_id = customers.customer_id)" if scored
            else "cast(null as varchar)")
    customers = con.execute(f"""
        with orders as (
            select customer_id,
                   count(*) filter (where is_counted) as counted_order_count,
                   min(order_date) filter (where is_counted) as first_order_date,
                   count(*) filter (where is_counted and is_group_buy) as group_buy_order_count
            from marts.fct_orders group by customer_id)
        select customers.customer_id, segments.lifecycle_stage, {tier} as churn_risk_tier,
               coalesce(orders.counted_order_count, 0) as counted_order_count,
               orders.first_order_date,
               coalesce(orders.group_buy_order_count, 0) as group_buy_order_count
        from marts.dim_customers as customers
        left join marts.customer_segments as segments using (customer_id)
        left join orders using (customer_id)
        where not customers.is_unknown_member""").df()
    opted_in = {r[0] for r in con.execute(
        "select customer_id from marts.dim_customers where is_marketing_opt_in "
        "and not is_unknown_member").fetchall()}
    recent = con.execute("""
        select customer_id, count(*) as messages from marts.fct_campaign_members
        where assigned_at >= ? and assigned_at < ? group by customer_id""",
        [as_of - timedelta(days=settings.cap_days), as_of]).df()
    return customers, opted_in, recent.set_index("customer_id")["messages"]
