"""The ML assets sit in group `ml`, downstream of the dbt marts they read."""

from __future__ import annotations

from dagster import AssetKey

from dagster_project.definitions import build_definitions
from dagster_project.settings import PROJECT_ROOT, Settings

ML_ASSETS = ["fct_demand_forecast", "demand_backtest", "demand_backtest_metrics",
             "inventory_reorder_alerts", "customer_churn_scores", "churn_evaluation",
             "churn_evaluation_metrics"]


def test_ml_assets_read_marts_built_by_dbt(tmp_path):
    defs = build_definitions(Settings.from_env({"SHOP_INBOX_DIR": str(tmp_path)}))
    graph = defs.resolve_asset_graph()
    for name in ML_ASSETS:
        node = graph.get(AssetKey(["ml", name]))
        assert node.group_name == "ml" and node.description
        for parent in node.parent_keys:
            assert parent.path[0] in ("marts", "ml"), parent
            assert graph.get(parent).is_materializable, f"{parent} is not built by dbt"
    forecast_parents = graph.get(AssetKey(["ml", "fct_demand_forecast"])).parent_keys
    assert AssetKey(["marts", "fct_order_items"]) in forecast_parents
    churn_parents = graph.get(AssetKey(["ml", "customer_churn_scores"])).parent_keys
    assert AssetKey(["marts", "fct_events"]) in churn_parents


def test_models_directory_setting():
    assert Settings.from_env({}).models_dir == str(PROJECT_ROOT / "data/warehouse.state/models")
    assert Settings.from_env({"SHOP_MODELS_DIR": "/srv/models"}).models_dir == "/srv/models"
