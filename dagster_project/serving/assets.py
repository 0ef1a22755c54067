"""The serving copy as an asset: the last step of `build_warehouse` and of `train_models`."""

from collections.abc import Sequence

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..resources import WarehouseResource
from .publish import SCHEMAS, publish

SERVING_COPY = AssetKey(["serving", "warehouse_copy"])
# Every raw entity feeds audit.load_reconciliation (tests/unit/test_definitions_and_automation.py
# proves it), so every build that changes anything rebuilds it. The copy does not list
# each mart as a dependency: an incremental build materialises only the marts it rebuilt,
# and Dagster skips a step when any upstream asset of the run was not materialised.
LOAD_RECONCILIATION = AssetKey(["audit", "load_reconciliation"])


def serving_copy(ml_assets: Sequence[AssetsDefinition] = ()) -> AssetsDefinition:
    """The serving copy's asset, published after `ml_assets` too (the code location lists
    the ML assets; the warehouse job's own definitions, which do not import the ML code,
    none: that job does not run them)."""
    ml_keys = sorted({key for definition in ml_assets for key in definition.keys},
                     key=lambda key: key.path)
    return asset(
        key=SERVING_COPY,
        group_name="serving",
        deps=[LOAD_RECONCILIATION, *ml_keys],
        # Among the steps ready at the same time (the marts' checks), this one goes last.
        op_tags={"dagster/priority": "-10"},
        kinds={"duckdb"},
    )(_warehouse_copy)


def _warehouse_copy(context: AssetExecutionContext,
                    warehouse: WarehouseResource) -> MaterializeResult:
    """The warehouse for BI tools: schemas `marts` and `ml`, `audit.load_reconciliation`,
    the newest result of every data-quality check (`audit.dq_results_latest`) and where the
    copy came from (`audit.serving_copy`), with every description as a DuckDB comment, in a
    storage format DuckDB 1.1+ clients read. Written beside the live file and renamed over
    the previous copy: readers never wait for a build, a build never waits for readers,
    and a run with any failed step or blocking check publishes nothing."""
    failures = run_failures(context)
    if failures:
        shown = "; ".join(failures[:3]) + (f"; {len(failures) - 3} more" if failures[3:] else "")
        raise Failure(f"serving copy not published: this run failed ({shown}); "
                      f"readers keep the last good copy {warehouse.serving_file()}")
    with warehouse.lock(context):  # read the live file while no step writes it
        publication = publish(warehouse.path, warehouse.serving_file(), run_id=context.run_id,
                              incremental=True)
    rows = sum(publication.tables.values())
    how = "updated the previous copy" if publication.updated else "copied everything"
    context.log.info(f"published {len(publication.tables)} tables ({rows:,} rows) to "
                     f"{publication.path} in {publication.seconds:.1f} s ({how}; "
                     + ", ".join(f"{name} {seconds} s"
                                 for name, seconds in publication.steps.items()) + ")")
    table = "\n".join(["| table | rows |", "|---|---:|"]
                      + [f"| {name} | {count:,} |" for name, count in publication.tables.items()])
    return MaterializeResult(metadata={
        "path": MetadataValue.path(publication.path),
        "tables": len(publication.tables),
        "dagster/row_count": rows,
        "seconds": round(publication.seconds, 2),
        "storage_version": publication.storage_version,
        "file_size_mb": round(publication.file_bytes / 2**20, 1),
        "schemas": ", ".join([*SCHEMAS, "audit"]),
        "published_at_utc": publication.published_at,
        "table_rows": MetadataValue.md(table),
    })


def run_failures(context: AssetExecutionContext) -> list[str]:
    """Failed steps and failed blocking (ERROR) checks of this run so far."""
    failures = []
    for record in context.instance.all_logs(
            context.run_id, of_type={DagsterEventType.STEP_FAILURE,
                                     DagsterEventType.ASSET_CHECK_EVALUATION}):
        event = record.dagster_event
        if event.event_type == DagsterEventType.STEP_FAILURE:
            failures.append(f"step {event.step_key} failed")
            continue
        evaluation = event.event_specific_data
        if not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR:
            failures.append(f"check {evaluation.asset_check_key.to_user_string()} failed")
    return failures
