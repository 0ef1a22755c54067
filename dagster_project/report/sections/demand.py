"""Demand and stock, for the buyer: the forecast with its p10-p90 band against recent
actuals for the top products, reorder alerts, stock health and slow movers."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..blocks import Section, chart_or_note, table_or_note
from .figures import Context, styled

ALERT_COLORS = {"stock_out_risk": "#c62828", "reorder": "#ff9900", "ok": "#1a7f37",
                "no_stock_data": "#9aa5b1"}
HEALTH_COLORS = {"stocked_out": "#c62828", "low_cover": "#ff9900", "overstocked": "#990099",
                 "healthy": "#1a7f37"}


def demand(ctx: Context) -> Section:
    wh = ctx.warehouse
    section = Section("demand", "Demand and stock",
                      "For the buyer: what will sell, what to reorder now, and what sits on "
                      "the shelf.")
    section.blocks += [
        chart_or_note("What will the top products sell in the coming weeks?",
                      wh.run("demand", "forecast_top_products"), wh, _forecast,
                      values=["recent_unit_count"],
                      caption="Daily units of counted orders (actual), the forecast's median "
                              "(p50) and its p10-p90 band, from the forecast origin on."),
        chart_or_note("How many products need a reorder?", wh.run("demand", "alert_levels"),
                      wh, lambda f: _levels(f, "alert_level", ALERT_COLORS),
                      needs=["inventory_snapshots"], values=["product_count"],
                      caption="From the forecast, the lead time and the stock position."),
        table_or_note("What to reorder first", wh.run("demand", "urgent_reorders"), wh,
                      needs=["inventory_snapshots"],
                      empty="No product needs a reorder at the forecast origin."),
        chart_or_note("Is the stock healthy?", wh.run("demand", "stock_health"), wh,
                      lambda f: _levels(f, "health_status", HEALTH_COLORS),
                      needs=["inventory_snapshots"], values=["product_count"],
                      caption="Products per status at the newest snapshot; hover for the "
                              "stock value."),
        table_or_note("Which products are slow movers?", wh.run("demand", "slow_movers"), wh,
                      needs=["inventory_snapshots"],
                      caption="Stocked products with the lowest annual turnover."),
    ]
    return section


def _forecast(frame: pd.DataFrame) -> go.Figure:
    products = list(dict.fromkeys(frame["product_id"]))
    names = frame.drop_duplicates("product_id").set_index("product_id")["product_name"]
    rows = (len(products) + 1) // 2
    figure = make_subplots(rows=rows, cols=2, subplot_titles=[str(names[p]) for p in products],
                           vertical_spacing=0.12 if rows > 1 else 0.2)
    for index, product in enumerate(products):
        data = frame[frame["product_id"] == product]
        actual = data[data["actual_units"].notna()]
        forecast = data[data["p50_units"].notna()]
        where = {"row": index // 2 + 1, "col": index % 2 + 1}
        first = index == 0
        figure.add_scatter(x=forecast["date_day"], y=forecast["p90_units"], mode="lines",
                           line={"width": 0}, showlegend=False, hoverinfo="skip", **where)
        figure.add_scatter(x=forecast["date_day"], y=forecast["p10_units"], mode="lines",
                           line={"width": 0}, fill="tonexty", fillcolor="rgba(51,102,204,.2)",
                           name="p10-p90", legendgroup="band", showlegend=first, **where)
        figure.add_scatter(x=forecast["date_day"], y=forecast["p50_units"], mode="lines",
                           line={"color": "#3366cc"}, name="forecast p50", legendgroup="p50",
                           showlegend=first, **where)
        figure.add_scatter(x=actual["date_day"], y=actual["actual_units"], mode="lines",
                           line={"color": "#52606d"}, name="actual", legendgroup="actual",
                           showlegend=first, **where)
    figure.update_yaxes(title_text="units", rangemode="tozero")
    return styled(figure, height=260 * rows + 60)


def _levels(frame: pd.DataFrame, column: str, colors: dict[str, str]) -> go.Figure:
    hover = "%{x}: %{y:,} products<extra></extra>"
    custom = None
    if "stock_value_amount" in frame:
        custom = frame[["stock_value_amount"]]
        hover = "%{x}: %{y:,} products<br>stock value %{customdata[0]:,.0f}<extra></extra>"
    figure = go.Figure(go.Bar(
        x=frame[column], y=frame["product_count"], customdata=custom, hovertemplate=hover,
        marker_color=[colors.get(v, "#9aa5b1") for v in frame[column]]))
    figure.update_yaxes(title_text="products")
    return styled(figure, legend=False)
