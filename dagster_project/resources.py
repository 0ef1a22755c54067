"""Dagster resources: the DuckDB warehouse, the shop's settings and the model store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from .settings import Settings


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file. DuckDB allows one writer: connections are short-lived."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


class ShopSettings(ConfigurableResource):
    """Which drop to load and how to read it (time zone, base currency)."""

    drop_dir: str
    base_currency: str = "USD"
    timezone: str = "UTC"
    quarantine_limit: float = 0.05
    freshness_days: int = 45

    def dbt_vars(self) -> dict[str, str]:
        return {"base_currency": self.base_currency, "shop_timezone": self.timezone}


class ModelStore(ConfigurableResource):
    """Where trained models are saved: `<models_dir>/<model name>/<version>/`."""

    models_dir: str


class ReportStore(ConfigurableResource):
    """Where this warehouse's KPI reports are written (`Settings.report_dir`)."""

    report_dir: str


def resources_from_settings(settings: Settings) -> dict:
    return {
        "warehouse": WarehouseResource(path=settings.warehouse_path),
        "shop": ShopSettings(drop_dir=settings.drop_dir, base_currency=settings.base_currency,
                             timezone=settings.timezone,
                             quarantine_limit=settings.quarantine_limit,
                             freshness_days=settings.freshness_days),
        "models": ModelStore(models_dir=settings.models_dir),
        "reports": ReportStore(report_dir=settings.report_dir),
    }
