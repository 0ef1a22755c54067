"""render_report: the KPI report of one warehouse as a self-contained HTML file.

Pure: reads the DuckDB file through a read-only connection, writes files, imports no
Dagster. Each render writes `kpi_report-<UTC time>.html` in the output folder and copies
it to `latest.html` (replaced atomically), keeping the newest `keep` timestamped files.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..settings import DEFAULTS
from .blocks import Note
from .page import render_page
from .queries import Warehouse
from .sections import SECTIONS
from .sections.figures import Context

LATEST = "latest.html"
PREFIX = "kpi_report-"
PARAMETERS = {  # the report's knobs, bound into the queries as $name
    "period_days": 28,    # headline and movers: the last 28 days against the 28 before
    "mover_count": 8,     # biggest gains and falls among products
    "cohort_count": 18,   # newest monthly cohorts in the retention heatmap
    "product_count": 6,   # top products in the forecast chart
    "history_days": 56,   # days of actuals before the forecast origin
    "row_limit": 12,      # rows in the report's tables
}


@dataclass
class Rendered:
    """What a render produced, for the asset's metadata and the CLI."""

    path: Path
    latest: Path
    sections: list[str]
    charts: int
    notes: list[str]
    seconds: float
    size_bytes: int
    counts: dict[str, int] = field(default_factory=dict)


BASE_CURRENCY = DEFAULTS["SHOP_BASE_CURRENCY"]


def render_report(db_path: str | Path, out_dir: str | Path, *, currency: str = BASE_CURRENCY,
                  keep: int = 30, now: dt.datetime | None = None,
                  parameters: dict[str, int] | None = None) -> Path:
    """Render the report of the warehouse at `db_path` into `out_dir`; return its path."""
    return render(db_path, out_dir, currency=currency, keep=keep, now=now,
                  parameters=parameters).path


def render(db_path: str | Path, out_dir: str | Path, *, currency: str = BASE_CURRENCY,
           keep: int = 30, now: dt.datetime | None = None, parameters: dict[str, int] | None = None
           ) -> Rendered:
    """render_report with what was rendered: sections, chart count, notes, seconds."""
    started = time.perf_counter()
    db_path, out_dir = Path(db_path), Path(out_dir)
    if not db_path.is_file():
        raise FileNotFoundError(f"no warehouse at {db_path}")
    now = now or dt.datetime.now(dt.UTC)
    with duckdb.connect(str(db_path), read_only=True) as con:
        context = Context(Warehouse(con, {**PARAMETERS, **(parameters or {})}), currency)
        sections = [build(context) for build in SECTIONS]
    html = render_page(sections, title="Shop KPI report",
                       subtitle=f"Warehouse {db_path.name} · rendered {now:%Y-%m-%d %H:%M} UTC "
                                f"· money in {currency}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{PREFIX}{now:%Y%m%dT%H%M%S}Z.html"
    path.write_text(html, encoding="utf-8")
    latest = out_dir / LATEST
    staging = out_dir / f".{LATEST}.tmp"
    shutil.copyfile(path, staging)
    os.replace(staging, latest)
    for old in sorted(out_dir.glob(f"{PREFIX}*.html"))[:-keep] if keep > 0 else []:
        old.unlink()
    blocks = [b for s in sections for b in s.blocks]
    return Rendered(
        path=path, latest=latest, sections=[s.title for s in sections],
        charts=sum(s.chart_count for s in sections),
        notes=[f"{b.question}: {b.text}" for b in blocks if isinstance(b, Note)],
        seconds=time.perf_counter() - started, size_bytes=path.stat().st_size,
        counts={s.key: s.chart_count for s in sections})


def latest_report(out_dir: str | Path) -> Path | None:
    """The newest report in the folder, if any."""
    latest = Path(out_dir) / LATEST
    return latest if latest.is_file() else None

