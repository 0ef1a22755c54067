"""The KPI report: charts of the marts and ML tables in one self-contained HTML file.

`render_report(db_path, out_dir)` is pure (no Dagster); `assets.py` wraps it as the
`reports/kpi_report` asset and `python -m dagster_project.report` renders it by hand.
"""

from .render import Rendered, latest_report, render, render_report

__all__ = ["Rendered", "latest_report", "render", "render_report"]
