"""The dbt project as assets: every model, seed and test (as asset checks) in the lineage."""


import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Output
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ..resources import ShopSettings, WarehouseResource
from ..settings import PROJECT_ROOT

DBT_PROJECT = DbtProject(project_dir=PROJECT_ROOT / "dbt", profiles_dir=PROJECT_ROOT / "dbt")
DBT_PROJECT.prepare_if_dev()
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class ShopDbtTranslator(DagsterDbtTranslator):
    """Assets are keyed by warehouse schema and table, e.g. `marts/customers`.

    Sources thus become `raw/<entity>`, the keys of the ingest assets, so the lineage runs
    from files to marts. Groups come from `meta.dagster.group` in dbt_project.yml.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT,
            dagster_dbt_translator=ShopDbtTranslator(), pool="duckdb_writer",
            name="shop_dbt_models")
def shop_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource,
                    warehouse: WarehouseResource, shop: ShopSettings):
    """`dbt build`: staging, quarantine, intermediate and marts, with dbt tests as checks."""
    dbt_vars = {"warehouse_path": warehouse.path, **shop.dbt_vars()}
    started = time.perf_counter()
    invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context,
                         raise_on_error=False)
    # dbt holds the DuckDB file while it runs, so row counts are read once it is done.
    events = list(invocation.stream())
    with warehouse.connect(read_only=True) as con:
        for event in events:
            if isinstance(event, Output):
                table = ".".join(context.asset_key_for_output(event.output_name).path)
                rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
                event = event.with_metadata({**event.metadata, "dagster/row_count": rows})
            yield event
    context.log.info(f"dbt build finished in {time.perf_counter() - started:.1f} s")
    if not invocation.is_successful():
        raise invocation.get_error() or RuntimeError("dbt build failed")
