"""Builds the Dagster Definitions from the pieces of this package; nothing else."""

from __future__ import annotations

from dagster import Definitions

from .automation import (
    build_warehouse,
    daily_rebuild,
    inbox_sensor,
    retrain_after_build,
    train_models,
)
from .ml.assets import churn_model, demand_forecast, inventory_reorder_alerts
from .ml.recommend_assets import campaign_audiences, recommendations
from .privacy.jobs import erase_customer_job
from .report.assets import kpi_report
from .settings import Settings
from .warehouse_definitions import WAREHOUSE_CHECKS, warehouse_assets, warehouse_resources

ML_ASSETS = [demand_forecast, inventory_reorder_alerts, churn_model, recommendations,
             campaign_audiences]


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or Settings.from_env()
    return Definitions(
        assets=[*warehouse_assets(ML_ASSETS), *ML_ASSETS, kpi_report],
        asset_checks=WAREHOUSE_CHECKS,
        jobs=[build_warehouse, train_models, erase_customer_job],
        schedules=[daily_rebuild(settings)],
        sensors=[inbox_sensor(settings), retrain_after_build],
        resources=warehouse_resources(settings),
    )


defs = build_definitions()
