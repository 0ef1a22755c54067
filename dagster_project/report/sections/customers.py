"""Customers, for CRM: RFM segments with their size and value, lifecycle stages, cohort
retention, lifetime value per acquisition channel, churn-risk tiers and the win-back list."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..blocks import Section, Tile, Tiles, chart_or_note, missing_note, table_or_note
from .figures import Context, styled


def customers(ctx: Context) -> Section:
    wh = ctx.warehouse
    section = Section("customers", "Customers",
                      "For CRM: who the customers are, who stays, what they are worth, and "
                      "whom to win back.")
    section.blocks += [
        chart_or_note("Which RFM segments hold the customers and the revenue?",
                      wh.run("customers", "rfm_segments"), wh, lambda f: _segments(f, ctx),
                      values=["customer_count"],
                      caption="Bars: customers; line: their net revenue (counted orders)."),
        chart_or_note("Where are customers in their lifecycle?",
                      wh.run("customers", "lifecycle"), wh, _lifecycle,
                      values=["customer_count"]),
        chart_or_note("How many customers of each monthly cohort keep buying?",
                      wh.run("customers", "cohorts"), wh, _cohorts, values=["cohort_size"],
                      caption="Share of a cohort (customers acquired that month) with a "
                              "counted order N months later."),
        chart_or_note("Which acquisition channels bring the most valuable customers?",
                      wh.run("customers", "clv_by_channel"), wh, lambda f: _clv(f, ctx),
                      values=["average_historical_clv_amount"],
                      caption="Average net revenue per customer in the first 365 days and to "
                              "date, against the channel's CAC (paid channels)."),
    ]
    tiers = wh.run("customers", "churn_tiers")
    question = "Who is about to churn, and how big is the win-back list?"
    section.blocks.append(missing_note(question, tiers, wh) or _churn_tiles(tiers.frame, ctx))
    section.blocks.append(chart_or_note(question, tiers, wh, lambda f: _tiers(f, ctx),
                                        values=["customer_count"]))
    section.blocks.append(table_or_note(
        "What should we do for the customers at risk?", wh.run("customers", "win_back_actions"),
        wh, empty="No customer is at medium or high churn risk.",
        caption="Customers who did not opt in to marketing get no message."))
    return section


def _churn_tiles(frame: pd.DataFrame, ctx: Context) -> Tiles:
    by_tier = frame.set_index("risk_tier")
    count = {t: int(by_tier["customer_count"].get(t, 0)) for t in ("high", "medium", "low")}
    cutoff = frame["scored_at_cutoff_date"].max()
    at_risk = by_tier["revenue_365d_amount"].reindex(["high", "medium"]).fillna(0).sum()
    return Tiles([
        Tile("High churn risk", f"{count['high']:,}", detail="customers"),
        Tile("Medium churn risk", f"{count['medium']:,}", detail="customers"),
        Tile("Win-back list", f"{int(frame['win_back_count'].sum()):,}",
             detail="medium or high risk, opted in"),
        Tile("Revenue at risk (365 days)", f"{at_risk:,.0f} {ctx.currency}",
             detail="last-year revenue of medium and high risk"),
    ], caption=f"Churn scores at the cutoff {pd.Timestamp(cutoff):%Y-%m-%d}.")


def _segments(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_bar(x=frame["rfm_segment"], y=frame["customer_count"], name="customers")
    figure.add_scatter(x=frame["rfm_segment"], y=frame["net_revenue_amount"],
                       name="net revenue", mode="lines+markers", secondary_y=True)
    figure.update_yaxes(title_text="customers", secondary_y=False)
    figure.update_yaxes(title_text=ctx.money("net revenue"), secondary_y=True, showgrid=False)
    return styled(figure)


def _lifecycle(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure(go.Bar(x=frame["lifecycle_stage"], y=frame["customer_count"],
                              marker_color="#0099c6"))
    figure.update_yaxes(title_text="customers")
    return styled(figure, legend=False)


def _cohorts(frame: pd.DataFrame) -> go.Figure:
    grid = frame.pivot(index="cohort_month", columns="months_since_acquisition",
                       values="retention_rate").sort_index()
    labels = [f"{pd.Timestamp(m):%Y-%m}" for m in grid.index]
    figure = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=list(grid.columns), y=labels, colorscale="Blues",
        zmin=0, zmax=1, colorbar={"title": "retained", "tickformat": ".0%"},
        hovertemplate="cohort %{y}<br>month %{x}<br>retained %{z:.1%}<extra></extra>"))
    figure.update_xaxes(title_text="months since acquisition")
    figure.update_yaxes(title_text="cohort", autorange="reversed", type="category")
    return styled(figure, height=max(360, 20 * len(grid) + 100), legend=False)


def _clv(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    figure = go.Figure()
    figure.add_bar(x=frame["channel_name"], y=frame["average_clv_first_365_days_amount"],
                   name="CLV first 365 days")
    figure.add_bar(x=frame["channel_name"], y=frame["average_historical_clv_amount"],
                   name="CLV to date")
    figure.add_bar(x=frame["channel_name"], y=frame["customer_acquisition_cost_amount"],
                   name="CAC")
    figure.update_layout(barmode="group")
    figure.update_yaxes(title_text=ctx.money("per customer"))
    return styled(figure)


def _tiers(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    colors = {"high": "#c62828", "medium": "#ff9900", "low": "#1a7f37"}
    figure = go.Figure(go.Bar(
        x=frame["risk_tier"], y=frame["customer_count"],
        marker_color=[colors.get(t, "#9aa5b1") for t in frame["risk_tier"]],
        customdata=frame[["revenue_365d_amount", "win_back_count"]],
        hovertemplate="%{x} risk: %{y:,} customers<br>revenue 365 days %{customdata[0]:,.0f} "
                      + ctx.currency + "<br>on the win-back list %{customdata[1]:,}"
                      "<extra></extra>"))
    figure.update_yaxes(title_text="scored customers")
    return styled(figure, legend=False)
