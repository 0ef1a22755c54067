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
from .ingest.assets import raw_exports
from .ml.assets import churn_model, demand_forecast, inventory_reorder_alerts
from .ml.recommend_assets import campaign_audiences, recommendations
from .privacy.assets import PRIVACY_SPECS
from .privacy.jobs import erase_customer_job
from .quality.checks import published_table_checks, raw_contract_checks
from .report.assets import kpi_report
from .resources import resources_from_settings
from .serving.assets import warehouse_copy
from .settings import Settings
from .transform.assets import BUILD_STATE_SPECS, dbt_resource, shop_dbt_models


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or Settings.from_env()
    return Definitions(
        assets=[raw_exports, shop_dbt_models, demand_forecast, inventory_reorder_alerts,
                churn_model, recommendations, campaign_audiences, kpi_report,
                warehouse_copy, *PRIVACY_SPECS, *BUILD_STATE_SPECS],
        asset_checks=[raw_contract_checks, published_table_checks],
        jobs=[build_warehouse, train_models, erase_customer_job],
        schedules=[daily_rebuild(settings)],
        sensors=[inbox_sensor(settings), retrain_after_build],
        resources={**resources_from_settings(settings), "dbt": dbt_resource()},
    )


defs = build_definitions()
