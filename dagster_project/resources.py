"""Dagster resources: the DuckDB warehouse, the shop's settings and the model store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, EnvVar

from .privacy.keys import owner_only_dir, owner_only_file
from .serving.publish import lock_message
from .settings import Settings, default_serving_path
from .state import state_dir, write_lock
from .transform.parse import shop_vars


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse file; the message names it and what to do."""


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file. DuckDB allows one writer: connections are short-lived.
    BI tools read the serving copy (`serving_path`, default beside the warehouse)."""

    path: str
    serving_path: str = ""
    # DuckDB's memory cap for every connection of a step (SHOP_DUCKDB_MEMORY_LIMIT, the same
    # one dbt's profile uses); without it DuckDB takes 80% of RAM and the JSON reader's
    # buffers made the load the build's peak.
    memory_limit: str = Settings.memory_limit

    def serving_file(self) -> str:
        return self.serving_path or default_serving_path(self.path)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if not read_only:  # the state folder holds the keys: owner-only, like the file
            owner_only_dir(state_dir(self.path))
        try:
            con = duckdb.connect(self.path, read_only=read_only,
                                 config={"memory_limit": self.memory_limit})
        except duckdb.IOException as error:
            message = lock_message(self.path, self.serving_file(), error)
            if message is None:
                raise
            raise WarehouseLockedError(message) from None
        if not read_only:  # DuckDB creates the files with the umask's mode (often 0644)
            owner_only_file(self.path)
            owner_only_file(f"{self.path}.wal")
        try:
            yield con
        finally:
            con.close()

    def lock(self, context) -> AbstractContextManager:
        """Hold the warehouse's writer lock for a step (waits, saying for whom, while
        another step of any run holds it; released even when the process is killed)."""
        what = f"{context.run.job_name}/{context.op_def.name} run {context.run.run_id[:8]}"
        return write_lock(self.path, what, log=context.log.info)


class ShopSettings(ConfigurableResource):
    """Which drop to load and how to read it (time zone, base currency)."""

    drop_dir: str
    base_currency: str = Settings.base_currency
    timezone: str = Settings.timezone
    quarantine_limit: float = Settings.quarantine_limit
    quarantine_min_rows: int = Settings.quarantine_min_rows
    freshness_days: int = Settings.freshness_days
    retention_days: int = Settings.retention_days
    # The secret of the published pseudonyms: only ever EnvVar("SHOP_PSEUDONYM_KEY") (the
    # UI shows the variable's name, not its value); empty: the warehouse's key file.
    pseudonym_key: str = ""

    def dbt_vars(self) -> dict[str, str]:
        return shop_vars(self.base_currency, self.timezone)


class ModelStore(ConfigurableResource):
    """Where trained models are saved: `<models_dir>/<model name>/<version>/`."""

    models_dir: str


class ReportStore(ConfigurableResource):
    """Where this warehouse's KPI reports are written (`Settings.report_dir`)."""

    report_dir: str


def resources_from_settings(settings: Settings) -> dict:
    return {
        "warehouse": WarehouseResource(path=settings.warehouse_path,
                                       serving_path=settings.serving_path,
                                       memory_limit=settings.memory_limit),
        "shop": ShopSettings(drop_dir=settings.drop_dir, base_currency=settings.base_currency,
                             timezone=settings.timezone,
                             quarantine_limit=settings.quarantine_limit,
                             quarantine_min_rows=settings.quarantine_min_rows,
                             freshness_days=settings.freshness_days,
                             retention_days=settings.retention_days,
                             pseudonym_key=EnvVar("SHOP_PSEUDONYM_KEY")
                             if settings.pseudonym_key else ""),
        "models": ModelStore(models_dir=settings.models_dir),
        "reports": ReportStore(report_dir=settings.report_dir),
    }
