"""`make dbt-parse`: dbt's manifest, parsed with the vars the Dagster dbt step passes.

    python -m dagster_project.transform.parse [--warehouse data/warehouse.duckdb]

dbt reuses a parse (`target/partial_parse.msgpack`) only when the vars and the profile are
the ones it was made with; the step's vars name the warehouse file (the profile's path).
dagster-dbt copies the project's `partial_parse.msgpack` into a warehouse's new dbt target
folder, so a warehouse's first build parses nothing when this parse was made for it (the
default warehouse: `make demo`), and parses the project in full otherwise, as before. The
manifest Dagster's definitions read is the same either way (asset keys, lineage, tests).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ..settings import PROJECT_ROOT, Settings, SettingsError

DBT_DIR = PROJECT_ROOT / "dbt"
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def shop_vars(base_currency: str, timezone: str) -> dict[str, str]:
    """The vars of the shop's settings (`ShopSettings.dbt_vars`)."""
    return {"base_currency": base_currency, "shop_timezone": timezone}


def step_vars(warehouse_path: str, shop: Mapping[str, str]) -> dict:
    """The vars of every dbt build of the Dagster step. `shop_incremental`: the step knows
    what changed, so `--full-refresh` decides (macro shop_full_refresh, DECISIONS 32); it
    is left out of the project digest. The same on every build, so dbt's parse stays valid."""
    return {"warehouse_path": warehouse_path, **shop, "shop_incremental": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.transform.parse",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", help="DuckDB file whose builds the parse is made for "
                                            "(default: SHOP_WAREHOUSE_PATH)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env().for_warehouse(args.warehouse)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dbt_vars = step_vars(settings.warehouse_path,
                         shop_vars(settings.base_currency, settings.timezone))
    return subprocess.call([DBT_EXECUTABLE, "parse", "--profiles-dir", ".", "--quiet",
                            "--vars", json.dumps(dbt_vars)], cwd=DBT_DIR)


if __name__ == "__main__":
    sys.exit(main())
