"""Dagster resources: the DuckDB warehouse, the shop's settings and the model store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from .serving.publish import lock_message
from .settings import Settings, default_serving_path


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse file; the message names it and what to do."""


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file. DuckDB allows one writer: connections are short-lived.
    BI tools read the serving copy (`serving_path`, default beside the warehouse)."""

    path: str
    serving_path: str = ""

    def serving_file(self) -> str:
        return self.serving_path or default_serving_path(self.path)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as error:
            message = lock_message(self.path, self.serving_file(), error)
            if message is None:
                raise
            raise WarehouseLockedError(message) from None
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


def resources_from_settings(settings: Settings) -> dict:
    return {
        "warehouse": WarehouseResource(path=settings.warehouse_path,
                                       serving_path=settings.serving_path),
        "shop": ShopSettings(drop_dir=settings.drop_dir, base_currency=settings.base_currency,
                             timezone=settings.timezone,
                             quarantine_limit=settings.quarantine_limit,
                             freshness_days=settings.freshness_days),
        "models": ModelStore(models_dir=settings.models_dir),
    }
