"""Shared look of the report's Plotly figures, and a week/month switch."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from ..queries import Warehouse

COLORS = ["#3366cc", "#ff9900", "#109618", "#990099", "#dc3912", "#0099c6", "#dd4477",
          "#66aa00", "#b82e2e", "#316395"]


@dataclass
class Context:
    """What every section needs: the warehouse and the currency money is reported in."""

    warehouse: Warehouse
    currency: str

    def money(self, label: str) -> str:
        return f"{label} ({self.currency})"


def styled(figure: go.Figure, *, height: int = 360, legend: bool = True) -> go.Figure:
    figure.update_layout(
        template="plotly_white", height=height, margin={"l": 60, "r": 70, "t": 40, "b": 50},
        modebar={"orientation": "v"},
        font={"size": 12}, showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        colorway=COLORS, hovermode="closest")
    return figure


def grain_switch(figure: go.Figure, traces_per_grain: dict[str, int]) -> go.Figure:
    """Buttons that show the traces of one grain (e.g. week, month) at a time. Traces must
    have been added grain by grain in the order of `traces_per_grain`; the first shows."""
    grains = list(traces_per_grain)
    total = sum(traces_per_grain.values())
    buttons, start = [], 0
    for grain in grains:
        count = traces_per_grain[grain]
        visible = [start <= i < start + count for i in range(total)]
        buttons.append({"label": f"by {grain}", "method": "update", "args": [{"visible": visible}]})
        start += count
    for index, trace in enumerate(figure.data):
        trace.visible = buttons[0]["args"][0]["visible"][index]
    figure.update_layout(updatemenus=[{
        "type": "buttons", "direction": "right", "buttons": buttons, "showactive": True,
        "x": 1, "xanchor": "right", "y": 1.12, "yanchor": "bottom"}],
        margin={"t": 70})
    return figure
