"""Settings from environment variables, read once when definitions are built.

| variable              | default                     | meaning                                   |
|-----------------------|-----------------------------|-------------------------------------------|
| SHOP_DROP_DIR         | data/drops/sample           | the export drop to load                   |
| SHOP_WAREHOUSE_PATH   | data/warehouse.duckdb       | the DuckDB warehouse file                 |
| SHOP_SERVING_DIR      | data/serving                | read-only copy for BI tools               |
| SHOP_INBOX_DIR        | data/inbox                  | new drop folders here trigger a run       |
| SHOP_BASE_CURRENCY    | USD                         | currency marts report money in            |
| SHOP_TIMEZONE         | UTC                         | zone of timestamps without an offset      |
| SHOP_QUARANTINE_LIMIT | 0.05                        | quarantined share that fails a raw check  |
| SHOP_FRESHNESS_DAYS   | 45                          | newest order/event older: a warning       |
| SHOP_DUCKDB_MEMORY_LIMIT | 3GB                      | DuckDB limit (dbt/profiles.yml)          |
| SHOP_MODELS_DIR       | data/models                 | saved ML models, one folder per version   |
| SHOP_REPORT_DIR       | `reports` beside warehouse  | KPI reports, in `<dir>/<warehouse stem>/` |

Relative paths are taken from the project root, so commands work from any directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _path(value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


@dataclass(frozen=True)
class Settings:
    drop_dir: str
    warehouse_path: str
    serving_dir: str
    inbox_dir: str
    base_currency: str
    timezone: str
    quarantine_limit: float
    freshness_days: int
    models_dir: str = str(PROJECT_ROOT / "data/models")
    report_root: str = ""  # empty: a `reports` folder beside the warehouse file

    @property
    def report_dir(self) -> str:
        """Where this warehouse's KPI reports go: `<root>/<warehouse stem>/`, so two
        warehouses never overwrite each other's report (data/warehouse.duckdb:
        data/reports/warehouse/)."""
        warehouse = Path(self.warehouse_path)
        root = Path(self.report_root) if self.report_root else warehouse.parent / "reports"
        return str(root / warehouse.stem)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            drop_dir=_path(env.get("SHOP_DROP_DIR", "data/drops/sample")),
            warehouse_path=_path(env.get("SHOP_WAREHOUSE_PATH", "data/warehouse.duckdb")),
            serving_dir=_path(env.get("SHOP_SERVING_DIR", "data/serving")),
            inbox_dir=_path(env.get("SHOP_INBOX_DIR", "data/inbox")),
            base_currency=env.get("SHOP_BASE_CURRENCY", "USD").upper(),
            timezone=env.get("SHOP_TIMEZONE", "UTC"),
            quarantine_limit=float(env.get("SHOP_QUARANTINE_LIMIT", "0.05")),
            freshness_days=int(env.get("SHOP_FRESHNESS_DAYS", "45")),
            models_dir=_path(env.get("SHOP_MODELS_DIR", "data/models")),
            report_root=_path(env["SHOP_REPORT_DIR"]) if env.get("SHOP_REPORT_DIR") else "",
        )
