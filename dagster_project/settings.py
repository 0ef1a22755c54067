"""Settings from environment variables, read once when definitions are built.

| variable              | default                     | meaning                                   |
|-----------------------|-----------------------------|-------------------------------------------|
| SHOP_DROP_DIR         | data/drops/sample           | the export drop to load                   |
| SHOP_WAREHOUSE_PATH   | data/warehouse.duckdb       | the DuckDB warehouse file                 |
| SHOP_SERVING_PATH     | <warehouse>.serving.duckdb  | copy for BI tools, swapped in by rename   |
| SHOP_INBOX_DIR        | data/inbox                  | new drop folders here trigger a run       |
| SHOP_BASE_CURRENCY    | USD                         | currency marts report money in            |
| SHOP_TIMEZONE         | UTC                         | zone of timestamps without an offset      |
| SHOP_QUARANTINE_LIMIT | 0.05                        | quarantined share that fails a raw check  |
| SHOP_FRESHNESS_DAYS   | 45                          | newest order/event older: a warning       |
| SHOP_DUCKDB_MEMORY_LIMIT | 3GB                      | DuckDB limit (dbt/profiles.yml)          |
| SHOP_MODELS_DIR       | data/models                 | saved ML models, one folder per version   |

Relative paths are taken from the project root, so commands work from any directory.
The serving copy defaults to a sibling of the warehouse file (`data/warehouse.duckdb` ->
`data/warehouse.serving.duckdb`): the same folder, so the rename that swaps it in is atomic
(one filesystem), and a name derived from the warehouse's own, so two warehouses never
share one copy (a shared `data/serving/` folder would mix `a/wh.duckdb` and `b/wh.duckdb`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _path(value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


def default_serving_path(warehouse_path: str) -> str:
    """`<folder>/<stem>.serving.duckdb` beside the warehouse file."""
    warehouse = Path(warehouse_path)
    return str(warehouse.with_name(f"{warehouse.stem}.serving.duckdb"))


@dataclass(frozen=True)
class Settings:
    drop_dir: str
    warehouse_path: str
    inbox_dir: str
    base_currency: str
    timezone: str
    quarantine_limit: float
    freshness_days: int
    models_dir: str = str(PROJECT_ROOT / "data/models")
    serving_path_override: str = ""  # SHOP_SERVING_PATH; empty: beside the warehouse

    @property
    def serving_path(self) -> str:
        """The BI copy of the warehouse (see the module docstring for the default)."""
        return self.serving_path_override or default_serving_path(self.warehouse_path)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            drop_dir=_path(env.get("SHOP_DROP_DIR", "data/drops/sample")),
            warehouse_path=_path(env.get("SHOP_WAREHOUSE_PATH", "data/warehouse.duckdb")),
            inbox_dir=_path(env.get("SHOP_INBOX_DIR", "data/inbox")),
            base_currency=env.get("SHOP_BASE_CURRENCY", "USD").upper(),
            timezone=env.get("SHOP_TIMEZONE", "UTC"),
            quarantine_limit=float(env.get("SHOP_QUARANTINE_LIMIT", "0.05")),
            freshness_days=int(env.get("SHOP_FRESHNESS_DAYS", "45")),
            models_dir=_path(env.get("SHOP_MODELS_DIR", "data/models")),
            serving_path_override=_path(env["SHOP_SERVING_PATH"])
            if env.get("SHOP_SERVING_PATH") else "",
        )
