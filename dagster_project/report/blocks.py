"""What a report section is made of: headline tiles, charts, tables and notes, and the
rule that turns a query without rows into a short note instead of an empty chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from .queries import Result, Warehouse

NO_DATA = "No data in this drop"
ENTITY_LABELS = {
    "events": "behaviour events", "campaigns": "campaigns",
    "campaign_members": "campaign audiences (A/B members)", "ad_spend": "ad spend",
    "inventory_snapshots": "inventory snapshots", "reviews": "reviews", "channels": "channels",
    "orders": "orders",
}


@dataclass
class Tile:
    label: str
    value: str
    change: float | None = None  # relative change against the previous period
    detail: str = ""


@dataclass
class Tiles:
    tiles: list[Tile]
    caption: str = ""


@dataclass
class Chart:
    question: str
    figure: go.Figure
    caption: str = ""


@dataclass
class Table:
    question: str
    frame: pd.DataFrame
    caption: str = ""


@dataclass
class Note:
    question: str
    text: str


Block = Tiles | Chart | Table | Note


@dataclass
class Section:
    key: str
    title: str
    reader: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def chart_count(self) -> int:
        return sum(isinstance(b, Chart) for b in self.blocks)


def missing_note(question: str, result: Result, warehouse: Warehouse,
                 needs: Sequence[str] = ()) -> Note | None:
    """A note when the result has nothing to draw, saying why; None when it has rows.

    Why, in order: a table the warehouse lacks (schema `ml` before the models are trained),
    an optional entity the drop did not have, or simply no rows for this chart."""
    if result.missing:
        if all(name.startswith("ml.") for name in result.missing):
            return Note(question, "No model output in this warehouse: the ML models have not "
                                  "been trained yet (schema ml is missing "
                                  f"{', '.join(result.missing)}).")
        return Note(question, "Not in this warehouse yet: "
                              f"{', '.join(result.missing)} (build the warehouse again).")
    absent = [ENTITY_LABELS.get(e, e) for e in needs if not warehouse.has_rows(e)]
    if absent:
        return Note(question, f"{NO_DATA}: it has no {' and no '.join(absent)}.")
    if result.frame.empty:
        return Note(question, f"{NO_DATA}: no rows for this chart.")
    return None


def chart_or_note(question: str, result: Result, warehouse: Warehouse,
                  draw: Callable[[pd.DataFrame], go.Figure], *, needs: Sequence[str] = (),
                  values: Sequence[str] = (), caption: str = "") -> Block:
    """The chart `draw` makes from the result, or a note when there is nothing to draw
    (no rows, or every value column empty or zero)."""
    note = missing_note(question, result, warehouse, needs)
    if note:
        return note
    frame = result.frame
    if values and not frame[list(values)].fillna(0).astype(float).abs().to_numpy().any():
        return Note(question, f"{NO_DATA}: every value for this chart is empty or zero.")
    return Chart(question, draw(frame), caption)


def table_or_note(question: str, result: Result, warehouse: Warehouse, *,
                  needs: Sequence[str] = (), caption: str = "", empty: str = "") -> Block:
    """The rows as a table; a note when there are none (`empty` says why, if given)."""
    note = missing_note(question, result, warehouse, needs)
    if note and empty and not result.missing and note.text.endswith("no rows for this chart."):
        return Note(question, empty)
    return note or Table(question, result.frame, caption)
