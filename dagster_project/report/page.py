"""The report as one self-contained HTML file: Plotly's JavaScript inlined once in the head,
then one `<section>` per reader with its tiles, charts, tables and notes. No network."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from html import escape

import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from .blocks import Chart, Note, Section, Table, Tiles

PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2933; background: #f5f7fa; }
header { background: #1f2933; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; color: #cbd2d9; font-size: 13px; }
nav { position: sticky; top: 0; z-index: 10; background: #323f4b; padding: 6px 24px; }
nav a { color: #fff; margin-right: 18px; text-decoration: none; font-size: 14px; }
section { padding: 8px 24px 24px; }
section h2 { margin: 16px 0 2px; font-size: 20px; }
section > p.reader { margin: 0 0 12px; color: #52606d; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr));
        gap: 14px; }
.block { background: #fff; border-radius: 6px; padding: 10px 12px;
         box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.block h3 { margin: 0 0 6px; font-size: 15px; }
.block .caption { color: #616e7c; font-size: 12px; margin: 4px 0 0; }
.tiles { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: 12px; }
.tile { flex: 1 1 160px; background: #fff; border-radius: 6px; padding: 10px 14px;
        box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.tile .label { color: #52606d; font-size: 12px; text-transform: uppercase; }
.tile .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.tile .change { font-size: 13px; } .up { color: #1a7f37; } .down { color: #c62828; }
.tile .detail { color: #7b8794; font-size: 12px; }
.tiles-caption { grid-column: 1 / -1; color: #616e7c; font-size: 12px; margin: -6px 0 0; }
.note p { color: #52606d; font-style: italic; margin: 4px 0; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { padding: 3px 6px; border-bottom: 1px solid #e4e7eb; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""


def render_page(sections: list[Section], *, title: str, subtitle: str) -> str:
    """The whole HTML document."""
    counter = iter(range(1, 10_000))
    nav = "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in sections)
    body = "\n".join(_section(s, counter) for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width\"><title>{escape(title)}</title>"
        f"<style>{STYLE}</style>\n<script>{get_plotlyjs()}</script></head><body>\n"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav>\n{body}\n</body></html>\n")


def _section(section: Section, counter) -> str:
    blocks = "\n".join(_block(b, counter) for b in section.blocks)
    return (f'<section id="{section.key}" data-section="{section.key}">'
            f"<h2>{escape(section.title)}</h2><p class=\"reader\">{escape(section.reader)}</p>"
            f'<div class="grid">{blocks}</div></section>')


def _block(block, counter) -> str:
    if isinstance(block, Tiles):
        tiles = "".join(_tile(t) for t in block.tiles)
        caption = (f'<p class="tiles-caption">{escape(block.caption)}</p>'
                   if block.caption else "")
        return f'<div class="tiles">{tiles}</div>{caption}'
    if isinstance(block, Chart):
        plot = pio.to_html(block.figure, full_html=False, include_plotlyjs=False,
                           div_id=f"chart-{next(counter)}", config=PLOT_CONFIG)
        return _card("chart", block.question, plot, block.caption)
    if isinstance(block, Table):
        return _card("table", block.question, _table(block.frame), block.caption)
    if isinstance(block, Note):
        return _card("note", block.question, f"<p>{escape(block.text)}</p>", "")
    raise TypeError(f"not a report block: {block!r}")


def _card(kind: str, question: str, inner: str, caption: str) -> str:
    caption_html = f'<p class="caption">{escape(caption)}</p>' if caption else ""
    return (f'<div class="block {kind}" data-kind="{kind}"><h3>{escape(question)}</h3>'
            f"{inner}{caption_html}</div>")


def _tile(tile) -> str:
    change = ""
    if tile.change is not None and math.isfinite(tile.change):
        direction = "up" if tile.change >= 0 else "down"
        arrow = "▲" if tile.change >= 0 else "▼"
        change = (f'<div class="change {direction}">{arrow} {tile.change:+.1%} '
                  f"vs previous period</div>")
    detail = f'<div class="detail">{escape(tile.detail)}</div>' if tile.detail else ""
    return (f'<div class="tile" data-tile="{escape(tile.label)}"><div class="label">'
            f'{escape(tile.label)}</div><div class="value">{escape(tile.value)}</div>'
            f"{change}{detail}</div>")


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text, numeric = format_value(value)
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def format_value(value) -> tuple[str, bool]:
    """A table cell's text (escaped) and whether it is a number."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return "", False
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), False
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}", True
    if isinstance(value, numbers.Real):
        return (f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"), True
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return escape(str(value)[:10]), False
    return escape(str(value)), False
