"""Overview, for the shop owner: net revenue, counted orders, AOV, new and returning
customers against the previous period, the trend by week or month, and the top movers."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..blocks import Note, Section, Tile, Tiles, chart_or_note, missing_note
from .figures import Context, grain_switch, styled

GRAINS = ("week", "month")


def overview(ctx: Context) -> Section:
    wh = ctx.warehouse
    section = Section("overview", "Overview", "For the shop owner: how much we sold, to whom, "
                      "and what changed since the previous period.")
    section.blocks.append(_headline(ctx))
    trend = wh.run("overview", "trend")
    section.blocks += [
        chart_or_note("Is net revenue growing, and how does it compare with a year ago?",
                      trend, wh, lambda f: _revenue(f, ctx), values=["net_revenue_amount"],
                      caption="Bars: net revenue of counted orders. Line: the same week "
                              "(52 weeks) or month a year earlier."),
        chart_or_note("How many orders, and how big is the average order?", trend, wh,
                      lambda f: _orders(f, ctx), values=["order_count"],
                      caption="AOV = net revenue / counted orders."),
        chart_or_note("Are we winning new customers or keeping the ones we have?", trend, wh,
                      _customers, values=["order_count"],
                      caption="Customers with a first counted order (new) and with a later "
                              "one (returning) in the period; one customer can be both."),
    ]
    movers = wh.run("overview", "top_movers")
    section.blocks.append(chart_or_note(
        "Which products moved most since the previous period?", movers, wh,
        lambda f: _movers(f, ctx), values=["change_amount"],
        caption="Change in net revenue between the previous and the current period."))
    return section


def _headline(ctx: Context) -> Tiles | Note:
    question = "Headline figures"
    result = ctx.warehouse.run("overview", "headline")
    note = missing_note(question, result, ctx.warehouse)
    if note:
        return note
    frame = result.frame.set_index("period")
    if frame.loc["current", "order_count"] == 0 and frame.loc["previous", "order_count"] == 0:
        return Note(question, "No data in this drop: no counted orders.")
    now, before = frame.loc["current"], frame.loc["previous"]

    def change(column: str) -> float | None:
        old = before[column]
        return None if pd.isna(old) or old == 0 else float(now[column] / old - 1)

    def money(value, digits: int = 0) -> str:
        return "–" if pd.isna(value) else f"{value:,.{digits}f} {ctx.currency}"

    tiles = [
        Tile("Net revenue", money(now["net_revenue_amount"]), change("net_revenue_amount"),
             f"previous {money(before['net_revenue_amount'])}"),
        Tile("Counted orders", f"{int(now['order_count']):,}", change("order_count"),
             f"previous {int(before['order_count']):,}"),
        Tile("Average order value", money(now["average_order_value_amount"], 2),
             change("average_order_value_amount"),
             f"previous {money(before['average_order_value_amount'], 2)}"),
        Tile("New customers", f"{int(now['new_customer_count']):,}",
             change("new_customer_count"), f"previous {int(before['new_customer_count']):,}"),
        Tile("Returning customers", f"{int(now['returning_customer_count']):,}",
             change("returning_customer_count"),
             f"previous {int(before['returning_customer_count']):,}"),
    ]
    caption = (f"Current period {now['start_date']:%Y-%m-%d} to {now['end_date']:%Y-%m-%d}, "
               f"previous {before['start_date']:%Y-%m-%d} to {before['end_date']:%Y-%m-%d} "
               "(periods end at the newest counted order).")
    return Tiles(tiles, caption)


def _by_grain(frame: pd.DataFrame):
    for grain in GRAINS:
        yield grain, frame[frame["grain"] == grain]


def _revenue(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    figure = go.Figure()
    for grain, rows in _by_grain(frame):
        figure.add_bar(x=rows["period_start"], y=rows["net_revenue_amount"],
                       name=f"net revenue by {grain}", marker_color="#3366cc")
        figure.add_scatter(x=rows["period_start"], y=rows["net_revenue_year_before_amount"],
                           name="a year earlier", mode="lines",
                           line={"color": "#ff9900", "dash": "dot"})
    figure.update_yaxes(title_text=ctx.money("net revenue"))
    return grain_switch(styled(figure), {g: 2 for g in GRAINS})


def _orders(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for grain, rows in _by_grain(frame):
        figure.add_bar(x=rows["period_start"], y=rows["order_count"],
                       name=f"counted orders by {grain}", marker_color="#109618")
        figure.add_scatter(x=rows["period_start"], y=rows["average_order_value_amount"],
                           name="AOV", mode="lines", line={"color": "#990099"},
                           secondary_y=True)
    figure.update_yaxes(title_text="counted orders", secondary_y=False)
    figure.update_yaxes(title_text=ctx.money("AOV"), secondary_y=True, showgrid=False)
    return grain_switch(styled(figure), {g: 2 for g in GRAINS})


def _customers(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for _grain, rows in _by_grain(frame):
        figure.add_bar(x=rows["period_start"], y=rows["new_customer_count"], name="new",
                       marker_color="#0099c6")
        figure.add_bar(x=rows["period_start"], y=rows["returning_customer_count"],
                       name="returning", marker_color="#dd4477")
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title_text="customers")
    return grain_switch(styled(figure), {g: 2 for g in GRAINS})


def _movers(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    colors = ["#1a7f37" if v > 0 else "#c62828" for v in frame["change_amount"]]
    figure = go.Figure(go.Bar(
        x=frame["change_amount"], y=frame["product_name"], orientation="h",
        marker_color=colors, customdata=frame[["net_revenue_previous_amount",
                                               "net_revenue_amount"]],
        hovertemplate="%{y}<br>change %{x:,.0f}<br>previous %{customdata[0]:,.0f}"
                      "<br>current %{customdata[1]:,.0f}<extra></extra>"))
    figure.update_xaxes(title_text=ctx.money("change in net revenue"))
    figure.update_yaxes(automargin=True)
    return styled(figure, height=max(300, 24 * len(frame) + 80), legend=False)
