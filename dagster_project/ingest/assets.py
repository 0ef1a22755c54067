"""The ingest assets: one per contract entity, keyed like the dbt source (`raw/<entity>`)."""


from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from contract import ENTITIES

from ..privacy.zone import after_load, apply_retention
from ..resources import ShopSettings, WarehouseResource
from .load import DropError, load_entity

RAW_SPECS = [
    AssetSpec(
        key=["raw", entity.name],
        group_name="ingest",
        kinds={"duckdb", "csv"},
        description=(
            f"The drop's `{entity.name}` files landed as text in `raw.{entity.name}`, one row "
            f"per record with `_source_file` and `_source_line`. "
            f"{'Required' if entity.is_required_entity else 'Optional (empty when absent)'}"
            f" entity; required columns: {', '.join(sorted(entity.required))}."
        ),
        metadata={"contract_columns": MetadataValue.text(", ".join(entity.columns))},
    )
    for entity in ENTITIES.values()
]


class IngestConfig(Config):
    """Run config: load another drop folder than the configured one (the inbox sensor uses it)."""

    drop_dir: str | None = None


@multi_asset(specs=RAW_SPECS, can_subset=True, name="raw_exports",
             description="Load the export drop into the raw schema, one table per entity.")
def raw_exports(context: AssetExecutionContext, config: IngestConfig,
                warehouse: WarehouseResource, shop: ShopSettings):
    with warehouse.lock(context):
        yield from _load(context, config, warehouse, shop)


def _load(context: AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource,
          shop: ShopSettings):
    drop = Path(config.drop_dir or shop.drop_dir)
    if not drop.is_dir():
        raise Failure(f"Drop folder {drop} does not exist. Generate one with "
                      f"`make sample` or point SHOP_DROP_DIR at a shop's export folder.")
    failures = []
    selected = [key.path[-1] for key in context.selected_asset_keys]
    with warehouse.connect() as con:
        for number, entity in enumerate([e for e in ENTITIES if e in selected], start=1):
            try:
                result = load_entity(con, drop, entity, context.run_id)
            except DropError as exc:
                context.log.error(str(exc))
                failures.append(str(exc))
                continue
            # Erased customers never come back; e-mails become keyed pseudonyms.
            privacy = after_load(con, entity, warehouse_path=warehouse.path,
                                 files_reloaded=result.read_files + result.removed_files,
                                 given_key=shop.pseudonym_key)
            what = (f"read {len(result.read_files)} of {len(result.files)} file(s)"
                    if result.changed else "unchanged since the last load")
            context.log.info(f"[{number}/{len(selected)}] raw.{entity}: {result.rows:,} rows, "
                             f"{what}, {result.seconds:.1f} s")
            yield MaterializeResult(
                asset_key=["raw", entity],
                metadata={
                    "dagster/row_count": result.rows,
                    "drop": MetadataValue.path(str(drop)),
                    "files": MetadataValue.json(result.files),
                    "files_read": MetadataValue.json(result.read_files),
                    "files_removed": MetadataValue.json(result.removed_files),
                    "unparsable_records": result.parse_errors,
                    "extra_columns": ", ".join(result.extra_columns) or "none",
                    "seconds": round(result.seconds, 3),
                    "rows_per_second": round(result.rows_per_second),
                    **privacy,
                },
            )
        cleared = apply_retention(con, shop.retention_days)  # inactive customers' data
        if cleared:
            context.log.info(f"retention: personal data of {cleared:,} customers inactive "
                             f"for over {shop.retention_days} days cleared")
    if failures:
        raise Failure(description="Some entities could not be loaded:\n" + "\n".join(failures))
