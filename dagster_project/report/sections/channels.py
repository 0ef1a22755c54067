"""Channels and attribution, for the marketer who sets budgets: spend and return per
channel under the five attribution models side by side, and the funnel by channel and
device."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..blocks import Section, chart_or_note
from .figures import Context, styled

FUNNEL_STEPS = {
    "product_view_share": "viewed a product", "add_to_cart_share": "added to cart",
    "checkout_share": "checked out", "purchase_share": "purchased",
}


def channels(ctx: Context) -> Section:
    wh = ctx.warehouse
    section = Section("channels", "Channels and attribution",
                      "For the marketer who sets budgets: what each channel costs and "
                      "returns, whichever way credit for an order is shared.")
    spend = wh.run("channels", "spend_and_revenue")
    attribution = wh.run("channels", "attribution")
    section.blocks += [
        chart_or_note("Where does the money go, and what comes back?", spend, wh,
                      lambda f: _spend(f, ctx), values=["net_revenue_amount", "spend_amount"],
                      caption="Spend from the ad-spend export; net revenue of the counted "
                              "orders each channel took (whole history)."),
        chart_or_note("Which channels earn the revenue, under each attribution model?",
                      attribution, wh, lambda f: _by_model(f, "attributed_revenue_amount",
                                                           ctx.money("attributed net revenue")),
                      values=["attributed_revenue_amount"]),
        chart_or_note("Which paid channels pay back their spend (ROAS)?", attribution, wh,
                      lambda f: _by_model(_paid(f), "return_on_ad_spend",
                                          "ROAS (attributed net revenue / spend)"),
                      needs=["ad_spend"], values=["return_on_ad_spend"],
                      caption="Above 1: the channel brought more net revenue than it cost."),
        chart_or_note("What does a new customer cost per paid channel (CAC)?", attribution,
                      wh, lambda f: _by_model(_paid(f), "customer_acquisition_cost_amount",
                                              ctx.money("CAC")),
                      needs=["ad_spend"], values=["customer_acquisition_cost_amount"],
                      caption="Spend / new customers credited to the channel by the model."),
    ]
    by_channel = wh.run("channels", "funnel_by_channel")
    by_device = wh.run("channels", "funnel_by_device")
    section.blocks += [
        chart_or_note("Where do visitors drop out, per channel?", by_channel, wh,
                      lambda f: _funnel(f, "channel_name"),
                      needs=["events"], values=["session_count"],
                      caption="Share of the channel's sessions that reach each step "
                              "(a session's channel is its first event's)."),
        chart_or_note("Where do visitors drop out, per device?", by_device, wh,
                      lambda f: _funnel(f, "device"), needs=["events"],
                      values=["session_count"],
                      caption="Share of the device's sessions that reach each step."),
    ]
    return section


def _spend(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    figure = go.Figure()
    figure.add_bar(x=frame["channel_name"], y=frame["spend_amount"], name="spend")
    figure.add_bar(x=frame["channel_name"], y=frame["net_revenue_amount"], name="net revenue")
    figure.update_layout(barmode="group")
    figure.update_yaxes(title_text=ctx.money("amount"))
    return styled(figure)


def _paid(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["is_paid"].fillna(False).astype(bool)]


def _by_model(frame: pd.DataFrame, column: str, title: str) -> go.Figure:
    figure = go.Figure()
    for model, rows in frame.groupby("attribution_model", sort=False):
        figure.add_bar(x=rows["channel_name"], y=rows[column], name=model)
    figure.update_layout(barmode="group")
    figure.update_yaxes(title_text=title)
    return styled(figure)


def _funnel(frame: pd.DataFrame, label: str) -> go.Figure:
    figure = go.Figure()
    for _, row in frame.iterrows():
        figure.add_scatter(
            x=list(FUNNEL_STEPS.values()), y=[row[c] for c in FUNNEL_STEPS],
            mode="lines+markers", name=str(row[label]),
            customdata=[row["session_count"]] * len(FUNNEL_STEPS),
            hovertemplate=f"{row[label]}<br>%{{x}}: %{{y:.1%}} of %{{customdata:,}} "
                          "sessions<extra></extra>")
    figure.update_yaxes(title_text="share of sessions", tickformat=".0%", rangemode="tozero")
    return styled(figure, height=400)
