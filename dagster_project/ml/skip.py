"""What an ML asset does when the drop cannot train its model."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult

from ..resources import WarehouseResource


def skip_assets(context: AssetExecutionContext, warehouse: WarehouseResource, model: str,
          keys: list[AssetKey], reason: str):
    """A drop that cannot train the model is no failure: say why in one line and in every
    asset's metadata, and drop the tables so no stale prediction outlives its data."""
    context.log.warning(f"{model} skipped: {reason}")
    with warehouse.lock(context), warehouse.connect() as con:
        for key in keys:
            con.execute(f'drop table if exists ml."{key.path[-1]}"')
    for key in keys:
        yield MaterializeResult(asset_key=key, metadata={
            "status": "skipped", "skipped_reason": reason, "dagster/row_count": 0})
