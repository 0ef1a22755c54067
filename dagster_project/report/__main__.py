"""`make report`: render the KPI report from an existing warehouse.

    python -m dagster_project.report [--warehouse PATH] [--out DIR]

Defaults come from the settings (SHOP_WAREHOUSE_PATH, SHOP_REPORT_DIR, SHOP_BASE_CURRENCY).
"""

from __future__ import annotations

import argparse
import sys

from ..settings import Settings, SettingsError
from .render import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.report",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", help="DuckDB file (default: SHOP_WAREHOUSE_PATH)")
    parser.add_argument("--out", help="output folder (default: SHOP_REPORT_DIR/<warehouse>)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env().for_warehouse(args.warehouse)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        rendered = render(settings.warehouse_path, args.out or settings.report_dir,
                          currency=settings.base_currency)
    except FileNotFoundError as error:
        print(f"{error}: build it first (make build)", file=sys.stderr)
        return 1
    print(f"{len(rendered.sections)} sections, {rendered.charts} charts, "
          f"{len(rendered.notes)} notes, {rendered.size_bytes / 1e6:.1f} MB "
          f"in {rendered.seconds:.1f} s")
    print(f"KPI report: {rendered.latest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
