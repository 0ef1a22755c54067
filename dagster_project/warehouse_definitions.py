"""The pieces of the Definitions that the `build_warehouse` job runs, and Definitions of
them alone.

`python -m dagster_project.build --only warehouse` (one more day, `make bench`) loads only
these: the ML assets' modules import LightGBM, scikit-learn, SciPy and matplotlib, which
the warehouse job never uses (a second or more of every build's start-up). definitions.py
assembles the whole code location from the same pieces plus the models, the report and
the automation, so the job is the same either way (tests/unit/test_definitions_and_automation.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetsDefinition, Definitions

from .automation import build_warehouse
from .ingest.assets import raw_exports
from .privacy.assets import PRIVACY_SPECS
from .quality.checks import published_table_checks, raw_contract_checks
from .resources import resources_from_settings
from .serving.assets import serving_copy
from .settings import Settings
from .transform.assets import BUILD_STATE_SPECS, dbt_resource, shop_dbt_models

WAREHOUSE_CHECKS = [raw_contract_checks, published_table_checks]


def warehouse_assets(ml_assets: Sequence[AssetsDefinition] = ()) -> list:
    """The assets of the warehouse: files, dbt, privacy and build-state tables, and the
    serving copy (which also lists `ml_assets` as its parents)."""
    return [raw_exports, shop_dbt_models, serving_copy(ml_assets), *PRIVACY_SPECS,
            *BUILD_STATE_SPECS]


def warehouse_resources(settings: Settings) -> dict:
    return {**resources_from_settings(settings), "dbt": dbt_resource()}


def warehouse_definitions(settings: Settings) -> Definitions:
    """Only the `build_warehouse` job and what it runs."""
    return Definitions(assets=warehouse_assets(), asset_checks=WAREHOUSE_CHECKS,
                       jobs=[build_warehouse], resources=warehouse_resources(settings))
