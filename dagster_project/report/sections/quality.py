"""Data quality, for the data team: how much of each entity is quarantined build after
build, how the expectations fared over time, and the latest load's reconciliation."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..blocks import Section, chart_or_note, table_or_note
from .figures import Context, styled


def quality(ctx: Context) -> Section:
    wh = ctx.warehouse
    section = Section("quality", "Data quality",
                      "For the data team: can these numbers be trusted, and is the export "
                      "getting better or worse?")
    section.blocks += [
        chart_or_note("How much of each entity is quarantined, build after build?",
                      wh.run("quality", "quarantine_history"), wh, _quarantine,
                      caption="Share of raw rows sent to quarantine, per entity and build. "
                              "Empty lines: no entity had a quarantined row."),
        chart_or_note("Do the data-quality expectations hold over time?",
                      wh.run("quality", "expectation_history"), wh, _expectations,
                      values=["expectation_count"],
                      caption="Great Expectations results per run: failed errors block the "
                              "build, failed warnings do not."),
        table_or_note("What failed in the latest run?", wh.run("quality", "latest_failures"),
                      wh, empty="Every expectation of the latest run held."),
        chart_or_note("Does the latest load reconcile (raw = loaded + quarantined + "
                      "duplicates)?", wh.run("quality", "reconciliation"), wh,
                      _reconciliation, values=["raw_row_count"],
                      caption="Share of each entity's raw rows; hover for the row counts."),
    ]
    return section


def _quarantine(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for entity, rows in frame.groupby("entity", sort=True):
        figure.add_scatter(x=rows["recorded_at"], y=rows["quarantined_share"],
                           mode="lines+markers", name=str(entity))
    figure.update_yaxes(title_text="quarantined share", tickformat=".1%", rangemode="tozero")
    figure.update_xaxes(title_text="build")
    return styled(figure)


def _expectations(frame: pd.DataFrame) -> go.Figure:
    passed = (frame["expectation_count"] - frame["failed_error_count"]
              - frame["failed_warning_count"])
    figure = go.Figure()
    figure.add_bar(x=frame["validated_at"], y=passed, name="held", marker_color="#1a7f37")
    figure.add_bar(x=frame["validated_at"], y=frame["failed_warning_count"],
                   name="failed (warning)", marker_color="#ff9900")
    figure.add_bar(x=frame["validated_at"], y=frame["failed_error_count"],
                   name="failed (error)", marker_color="#c62828")
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title_text="expectations")
    figure.update_xaxes(title_text="run")
    return styled(figure)


def _reconciliation(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    raw = frame["raw_row_count"].where(frame["raw_row_count"] > 0)
    for column, label, color in [("loaded_row_count", "loaded", "#3366cc"),
                                 ("quarantined_row_count", "quarantined", "#c62828"),
                                 ("exact_duplicate_count", "exact duplicates", "#9aa5b1")]:
        figure.add_bar(y=frame["entity"], x=frame[column] / raw, name=label, orientation="h",
                       marker_color=color, customdata=frame[[column, "raw_row_count"]],
                       hovertemplate="%{y}: %{customdata[0]:,} of %{customdata[1]:,} raw rows "
                                     "(%{x:.2%})<extra>" + label + "</extra>")
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title_text="share of raw rows", tickformat=".0%")
    figure.update_yaxes(automargin=True, autorange="reversed")
    return styled(figure, height=max(320, 26 * len(frame) + 100))
