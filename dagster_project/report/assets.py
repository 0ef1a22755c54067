"""The KPI report as a Dagster asset: a thin wrapper around `render` (pure, in this
package). It runs at the end of `train_models`, after the ML tables it charts."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from ..resources import ReportStore, ShopSettings, WarehouseResource
from .render import render

ML_TABLES = ["fct_demand_forecast", "inventory_reorder_alerts", "customer_churn_scores"]
MARTS = ["fct_orders", "fct_order_items", "dim_products", "channels", "funnel_daily",
         "campaign_evaluation", "group_buy_performance", "customer_segments",
         "customer_cohorts", "acquisition_channel_value", "inventory_health"]
AUDIT = ["load_reconciliation"]


@asset(
    key=["reports", "kpi_report"],
    group_name="reports",
    deps=[*(AssetKey(["marts", m]) for m in MARTS), *(AssetKey(["ml", t]) for t in ML_TABLES),
          *(AssetKey(["audit", a]) for a in AUDIT)],
)
def kpi_report(context: AssetExecutionContext, warehouse: WarehouseResource,
               shop: ShopSettings, reports: ReportStore) -> MaterializeResult:
    """The KPI report: one self-contained HTML file of charts (overview, channels and
    attribution, campaigns, customers, demand and stock, data quality) from the marts and
    ML tables, rendered after every model run; opens from the file system, no network."""
    source = warehouse.path  # the warehouse the report reads (one place to switch)
    with warehouse.lock(context):  # a reader of the live file needs no writer holding it
        rendered = render(source, reports.report_dir, currency=shop.base_currency)
    context.log.info(f"KPI report: {rendered.charts} charts in {rendered.seconds:.1f} s, "
                     f"{rendered.path}")
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(rendered.path)),
        "latest": MetadataValue.path(str(rendered.latest)),
        "source": MetadataValue.path(str(source)),
        "sections": ", ".join(rendered.sections),
        "charts": rendered.charts,
        "charts_per_section": MetadataValue.json(rendered.counts),
        "notes": MetadataValue.md("\n".join(f"- {n}" for n in rendered.notes)
                                  or "every chart has data"),
        "seconds": round(rendered.seconds, 2),
        "size_mb": round(rendered.size_bytes / 1e6, 2),
    })
