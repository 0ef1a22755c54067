"""Campaigns, for the campaign manager: did each campaign pay (ROI), did sales rise while it
ran (before/after), did it cause conversions (A/B uplift with its interval), and how the
group buys went."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..blocks import Section, chart_or_note
from .figures import Context, styled


def campaigns(ctx: Context) -> Section:
    wh = ctx.warehouse
    section = Section("campaigns", "Campaigns",
                      "For the campaign manager: which campaigns paid, which changed buying, "
                      "and which A/B tests showed a real effect.")
    section.blocks += [
        chart_or_note("Which campaigns paid back their spend (ROI)?",
                      wh.run("campaigns", "roi"), wh, lambda f: _roi(f),
                      needs=["campaigns", "ad_spend"], values=["spend_amount"],
                      caption="ROI = (credited net revenue - spend) / spend; 0 breaks even."),
        chart_or_note("Did the audience buy more while the campaign ran?",
                      wh.run("campaigns", "before_after"), wh,
                      lambda f: _before_after(f, ctx), needs=["campaigns"],
                      values=["net_revenue_before_amount", "net_revenue_during_amount"],
                      caption="Net revenue of the audience's counted orders in the campaign "
                              "window and in as many days just before it."),
        chart_or_note("Did the campaign cause conversions? A/B uplift with its 95% interval",
                      wh.run("campaigns", "uplift"), wh, _forest,
                      needs=["campaigns", "campaign_members"], values=["treatment_count"],
                      caption="Treatment minus control conversion rate (Newcombe interval). "
                              "An interval that crosses 0 is no proof of an effect."),
        chart_or_note("How did the group buys go?", wh.run("campaigns", "group_buys"), wh,
                      _group_buys, needs=["campaigns"], values=["groups_started_count"],
                      caption="Groups started and completed; text: new customers brought "
                              "in by sharing."),
    ]
    return section


def _roi(frame: pd.DataFrame) -> go.Figure:
    colors = ["#1a7f37" if (v or 0) >= 0 else "#c62828"
              for v in frame["return_on_investment"].fillna(0)]
    figure = go.Figure(go.Bar(
        x=frame["return_on_investment"], y=frame["campaign_name"], orientation="h",
        marker_color=colors, customdata=frame[["spend_amount", "net_revenue_amount"]],
        hovertemplate="%{y}<br>ROI %{x:.2f}<br>spend %{customdata[0]:,.0f}"
                      "<br>net revenue %{customdata[1]:,.0f}<extra></extra>"))
    figure.update_xaxes(title_text="ROI")
    figure.update_yaxes(automargin=True, autorange="reversed")
    return styled(figure, height=max(300, 26 * len(frame) + 80), legend=False)


def _before_after(frame: pd.DataFrame, ctx: Context) -> go.Figure:
    figure = go.Figure()
    figure.add_bar(y=frame["campaign_name"], x=frame["net_revenue_before_amount"],
                   name="before", orientation="h", marker_color="#9aa5b1")
    figure.add_bar(y=frame["campaign_name"], x=frame["net_revenue_during_amount"],
                   name="during", orientation="h", marker_color="#3366cc")
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text=ctx.money("net revenue"))
    figure.update_yaxes(automargin=True, autorange="reversed")
    return styled(figure, height=max(300, 34 * len(frame) + 80))


def _forest(frame: pd.DataFrame) -> go.Figure:
    uplift = frame["conversion_uplift"]
    figure = go.Figure(go.Scatter(
        x=uplift, y=frame["campaign_name"], mode="markers",
        marker={"size": 10, "color": "#3366cc"},
        error_x={"type": "data", "symmetric": False,
                 "array": frame["conversion_uplift_upper"] - uplift,
                 "arrayminus": uplift - frame["conversion_uplift_lower"]},
        customdata=frame[["treatment_count", "control_count", "p_value"]],
        hovertemplate="%{y}<br>uplift %{x:.1%}<br>treatment %{customdata[0]:,}, "
                      "control %{customdata[1]:,}<br>p = %{customdata[2]:.3f}<extra></extra>"))
    figure.add_vline(x=0, line={"color": "#52606d", "dash": "dash"})
    figure.update_xaxes(title_text="conversion uplift (treatment - control)", tickformat=".0%")
    figure.update_yaxes(automargin=True)
    return styled(figure, height=max(260, 34 * len(frame) + 80), legend=False)


def _group_buys(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    figure.add_bar(x=frame["campaign_name"], y=frame["groups_started_count"],
                   name="groups started", marker_color="#9aa5b1")
    figure.add_bar(x=frame["campaign_name"], y=frame["groups_completed_count"],
                   name="groups completed", marker_color="#109618",
                   text=[f"{int(n or 0)} new via sharing"
                         for n in frame["new_customers_from_sharing_count"].fillna(0)],
                   textposition="outside")
    figure.update_layout(barmode="group")
    figure.update_yaxes(title_text="groups")
    return styled(figure)
