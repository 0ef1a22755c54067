"""Nothing about a shop's project is reported to a third party (README "Personal data")."""

import json

from dagster import DagsterInstance

from dagster_project.state import instance_home
from dagster_project.transform.assets import DBT_PROJECT


def test_the_warehouse_dagster_instance_has_telemetry_off(tmp_path):
    home = instance_home(tmp_path / "shop.duckdb")
    instance = DagsterInstance.from_config(str(home))
    try:
        assert instance.telemetry_enabled is False
    finally:
        instance.dispose()


def test_dbt_parses_the_project_with_usage_statistics_off():
    # What dbt itself resolved from dbt_project.yml's flags, read from the manifest that
    # `make dbt-parse` writes before the tests run.
    metadata = json.loads(DBT_PROJECT.manifest_path.read_text())["metadata"]
    assert metadata["send_anonymous_usage_stats"] is False
