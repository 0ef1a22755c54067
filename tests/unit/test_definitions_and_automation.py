"""The code location loads, and the schedule and inbox sensor do what they say."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from dagster import (
    AssetKey,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    build_sensor_context,
    instance_for_test,
)

from contract import ENTITIES
from dagster_project.automation import (
    DROP_TAG,
    INPUTS_TAG,
    build_inputs,
    drop_is_ready,
    inbox_sensor,
    rebuild_request,
)
from dagster_project.definitions import build_definitions
from dagster_project.serving.assets import LOAD_RECONCILIATION, SERVING_COPY
from dagster_project.settings import PROJECT_ROOT, Settings, SettingsError
from dagster_project.warehouse_definitions import warehouse_definitions
from tests.conftest import write_required_entities


def test_definitions_load_with_lineage_from_raw_files_to_marts(tmp_path):
    defs = build_definitions(Settings.from_env({"SHOP_INBOX_DIR": str(tmp_path)}))
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert AssetKey(["raw", "orders"]) in keys and AssetKey(["marts", "channels"]) in keys
    assert AssetKey(["raw", "orders"]) in graph.get(
        AssetKey(["staging", "base_shop__orders"])).parent_keys
    assert len(graph.asset_check_keys) > 100  # dbt tests become asset checks
    checks = {key.to_user_string() for key in graph.asset_check_keys}
    assert "marts/channels:assert_channel_revenue_matches_orders" in checks  # meta ref
    assert "raw/orders:great_expectations" in checks
    for key in keys:
        assert graph.get(key).description, f"{key} has no description"
    assert defs.resolve_job_def("build_warehouse")
    assert {s.name for s in defs.schedules} == {"daily_rebuild"}


def test_the_serving_copy_is_published_last_by_both_jobs():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    copy = graph.get(SERVING_COPY)
    assert copy.group_name == "serving" and copy.description
    for job in ("build_warehouse", "train_models"):
        assert SERVING_COPY in defs.resolve_job_def(job).asset_layer.executable_asset_keys
    parents = copy.parent_keys
    assert AssetKey(["ml", "customer_churn_scores"]) in parents
    assert AssetKey(["ml", "fct_demand_forecast"]) in parents
    # The copy waits for audit.load_reconciliation; every raw entity must feed it, so that
    # every build that changes anything rebuilds it (and then publishes).
    assert LOAD_RECONCILIATION in parents
    feeding = graph.get(LOAD_RECONCILIATION).parent_keys
    ancestors = set(feeding)
    while feeding:
        feeding = {p for key in feeding for p in graph.get(key).parent_keys} - ancestors
        ancestors |= feeding
    assert {AssetKey(["raw", entity]) for entity in ENTITIES} <= ancestors


def test_serving_path_defaults_beside_each_warehouse():
    a = Settings.from_env({"SHOP_WAREHOUSE_PATH": "shops/a/wh.duckdb"})
    b = Settings.from_env({"SHOP_WAREHOUSE_PATH": "shops/b/wh.duckdb"})
    assert a.serving_path == str(PROJECT_ROOT / "shops/a/wh.serving.duckdb")
    assert b.serving_path == str(PROJECT_ROOT / "shops/b/wh.serving.duckdb")
    assert Settings.from_env({}).serving_path == str(PROJECT_ROOT
                                                     / "data/warehouse.serving.duckdb")
    chosen = Settings.from_env({"SHOP_SERVING_PATH": "bi/shop.duckdb"})
    assert chosen.serving_path == str(PROJECT_ROOT / "bi/shop.duckdb")
    # The build CLI's --warehouse moves the default copy with it.
    moved = replace(Settings.from_env({}), warehouse_path="/srv/x/shop.duckdb")
    assert moved.serving_path == "/srv/x/shop.serving.duckdb"


def test_settings_default_and_resolve_relative_paths():
    settings = Settings.from_env({"SHOP_WAREHOUSE_PATH": "x/wh.duckdb", "SHOP_TIMEZONE":
                                  "Asia/Shanghai", "SHOP_BASE_CURRENCY": "cny"})
    assert settings.warehouse_path == str(PROJECT_ROOT / "x/wh.duckdb")
    assert settings.timezone == "Asia/Shanghai" and settings.base_currency == "CNY"
    assert Settings.from_env({}).drop_dir == str(PROJECT_ROOT / "data/drops/sample")
    # Reports go beside their warehouse unless SHOP_REPORT_DIR names a root; either way
    # in a folder named after the warehouse, so two warehouses keep their own reports.
    assert Settings.from_env({}).report_dir == str(PROJECT_ROOT / "data/reports/warehouse")
    assert settings.report_dir == str(PROJECT_ROOT / "x/reports/wh")
    assert Settings.from_env({"SHOP_WAREHOUSE_PATH": "/a/shop.duckdb", "SHOP_REPORT_DIR":
                              "/r"}).report_dir == "/r/shop"


def test_drop_is_ready_needs_required_entities_and_quiet_or_marker(tmp_path):
    drop = tmp_path / "shop-2026-11-01"
    drop.mkdir()
    (drop / "customers.csv").write_text("customer_id,signup_at\n")
    assert not drop_is_ready(drop)  # orders, products, order_items missing
    write_required_entities(drop)
    newest = max(p.stat().st_mtime for p in drop.iterdir())
    assert not drop_is_ready(drop, now=newest + 5)  # still being copied
    assert drop_is_ready(drop, now=newest + 61)
    (drop / "_READY").touch()
    assert drop_is_ready(drop, now=newest + 5)


def test_inbox_sensor_requests_one_run_per_ready_drop(tmp_path):
    write_required_entities(tmp_path / "drop-a")
    (tmp_path / "drop-a" / "_READY").touch()
    write_required_entities(tmp_path / "drop-b")  # no marker and just written: not yet
    os.utime(tmp_path / "drop-b" / "orders-0001.csv")
    sensor = inbox_sensor(Settings.from_env({"SHOP_INBOX_DIR": str(tmp_path)}))
    requests = list(sensor(build_sensor_context()))
    assert len(requests) == 1
    request = requests[0]
    assert request.run_config == {
        "ops": {"raw_exports": {"config": {"drop_dir": str(tmp_path / "drop-a")}}}}
    assert request.run_key.startswith("drop-a@")


def test_models_retrain_in_their_own_job_after_each_successful_build():
    defs = build_definitions()
    build, train = defs.resolve_job_def("build_warehouse"), defs.resolve_job_def("train_models")
    built = set(build.asset_layer.executable_asset_keys)
    trained = set(train.asset_layer.executable_asset_keys)
    assert AssetKey(["ml", "customer_churn_scores"]) in trained
    assert AssetKey(["ml", "fct_demand_forecast"]) in trained
    # ...publishes the serving copy with them and ends with the KPI report.
    assert trained - {AssetKey(["reports", "kpi_report"]), SERVING_COPY} == {
        key for key in trained if key.path[0] == "ml"}
    report = train.asset_layer.asset_graph.get(AssetKey(["reports", "kpi_report"]))
    assert AssetKey(["ml", "customer_churn_scores"]) in report.parent_keys
    assert report.group_name == "reports"
    # An incremental build leaves unchanged marts alone, which would skip ML steps in the
    # same run; a separate job retrains on whatever the build left.
    assert not any(key.path[0] in ("ml", "reports") for key in built)
    assert AssetKey(["marts", "customers"]) in built
    sensor = defs.resolve_sensor_def("retrain_after_build")
    assert sensor.job_name == "train_models"


def test_the_warehouse_only_definitions_run_the_same_build_warehouse_job():
    """`build --only warehouse` loads dagster_project.warehouse_definitions, not the whole
    code location: its job must materialise and check exactly what the code location's
    does, through the same steps."""
    settings = Settings.from_env()
    full = build_definitions(settings).resolve_job_def("build_warehouse")
    alone = warehouse_definitions(settings).resolve_job_def("build_warehouse")
    assert (set(alone.asset_layer.executable_asset_keys)
            == set(full.asset_layer.executable_asset_keys))
    assert len(full.asset_layer.executable_asset_keys) > 80  # raw, dbt, serving
    full_checks = {key for node in full.asset_layer.asset_graph.asset_nodes
                   for key in node.check_keys if node.is_executable}
    assert {key for node in alone.asset_layer.asset_graph.asset_nodes
            for key in node.check_keys if node.is_executable} == full_checks
    assert {c.to_user_string() for c in full_checks} >= {
        "raw/orders:great_expectations", "marts/channels:assert_channel_revenue_matches_orders"}
    assert ({node.name for node in alone.graph.node_defs}
            == {node.name for node in full.graph.node_defs})
    copy = alone.asset_layer.asset_graph.get(SERVING_COPY)
    assert copy.description == full.asset_layer.asset_graph.get(SERVING_COPY).description


def test_the_warehouse_only_definitions_import_no_ml_code():
    code = ("import sys; from dagster_project.settings import Settings; "
            "from dagster_project.warehouse_definitions import warehouse_definitions; "
            "warehouse_definitions(Settings.from_env()).resolve_job_def('build_warehouse'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} "
            "& {'ml', 'lightgbm', 'sklearn', 'matplotlib'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PROJECT_ROOT).stdout
    assert out.strip() == "[]"


def test_an_unsupported_file_does_not_stop_the_sensor(tmp_path):
    drop = tmp_path / "drop"
    write_required_entities(drop)
    (drop / "orders.xlsx").write_bytes(b"PK")
    assert drop_is_ready(drop, now=time.time() + 3600)  # the run will name the file


def test_the_daily_rebuild_reloads_the_drop_the_warehouse_holds_and_skips_unchanged(tmp_path):
    settings = Settings.from_env({"SHOP_DROP_DIR": str(tmp_path / "configured"),
                                  "SHOP_WAREHOUSE_PATH": str(tmp_path / "wh.duckdb")})
    inbox_drop = tmp_path / "inbox" / "shop-2026-11-25"
    write_required_entities(inbox_drop)
    with instance_for_test() as instance:
        # No build yet: the configured drop.
        first = rebuild_request(instance, settings)
        assert isinstance(first, RunRequest)
        assert first.run_config["ops"]["raw_exports"]["config"]["drop_dir"] == settings.drop_dir
        # The inbox sensor loaded another drop today: the schedule rebuilds that one.
        instance.add_run(DagsterRun(job_name="build_warehouse", run_id="a" * 36,
                                    status=DagsterRunStatus.SUCCESS,
                                    tags={DROP_TAG: str(inbox_drop), INPUTS_TAG: "older"}))
        second = rebuild_request(instance, settings)
        assert second.run_config["ops"]["raw_exports"]["config"]["drop_dir"] == str(inbox_drop)
        assert second.tags[INPUTS_TAG] == build_inputs(settings, str(inbox_drop))
        # Built from exactly these inputs: nothing to do.
        (tmp_path / "wh.duckdb").touch()
        built = second.tags
        instance.add_run(DagsterRun(job_name="build_warehouse", run_id="b" * 36,
                                    status=DagsterRunStatus.SUCCESS, tags=built))
        assert isinstance(rebuild_request(instance, settings), SkipReason)
        # A newer build that failed: the warehouse may be half rebuilt, so rebuild.
        instance.add_run(DagsterRun(job_name="build_warehouse", run_id="c" * 36,
                                    status=DagsterRunStatus.FAILURE, tags=built))
        assert isinstance(rebuild_request(instance, settings), RunRequest)
        instance.add_run(DagsterRun(job_name="build_warehouse", run_id="d" * 36,
                                    status=DagsterRunStatus.SUCCESS, tags=built))
        assert isinstance(rebuild_request(instance, settings), SkipReason)
        # The warehouse file deleted: rebuild.
        (tmp_path / "wh.duckdb").unlink()
        assert isinstance(rebuild_request(instance, settings), RunRequest)
        # A changed file changes the inputs.
        (inbox_drop / "orders-0001.csv").write_text(
            (inbox_drop / "orders-0001.csv").read_text() + "o99,00001,2026-02-20T00:00:00Z,"
            "paid,USD,1,0,0,0,1,CH1,\n")
        assert isinstance(rebuild_request(instance, settings), RunRequest)


@pytest.mark.parametrize(("env", "named"), [
    ({"SHOP_TIMEZONE": "UTC'; drop table x; --"}, "SHOP_TIMEZONE"),
    ({"SHOP_TIMEZONE": "Mars/Olympus"}, "SHOP_TIMEZONE"),
    ({"SHOP_BASE_CURRENCY": "US'D"}, "SHOP_BASE_CURRENCY"),
    ({"SHOP_QUARANTINE_LIMIT": "1.5"}, "SHOP_QUARANTINE_LIMIT"),
    ({"SHOP_QUARANTINE_LIMIT": "five"}, "SHOP_QUARANTINE_LIMIT"),
    ({"SHOP_QUARANTINE_MIN_ROWS": "-1"}, "SHOP_QUARANTINE_MIN_ROWS"),
    ({"SHOP_FRESHNESS_DAYS": "0"}, "SHOP_FRESHNESS_DAYS"),
    ({"SHOP_DUCKDB_MEMORY_LIMIT": "3GB'; --"}, "SHOP_DUCKDB_MEMORY_LIMIT"),
])
def test_a_bad_setting_is_refused_naming_the_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_each_warehouse_keeps_its_models_beside_it(tmp_path):
    one = Settings.from_env({"SHOP_WAREHOUSE_PATH": str(tmp_path / "a.duckdb")})
    two = Settings.from_env({"SHOP_WAREHOUSE_PATH": str(tmp_path / "b.duckdb")})
    assert one.models_dir == str(tmp_path / "a.state" / "models")
    assert two.models_dir == str(tmp_path / "b.state" / "models")
