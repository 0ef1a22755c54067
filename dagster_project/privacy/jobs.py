"""The `erase_customer` job: erase one customer, rebuild what their rows fed, republish
the serving copy. `make erase CUSTOMER=<id>` runs the same job with the same config."""


import json

from dagster import Config, Failure, In, Nothing, OpExecutionContext, job, op
from dagster_dbt import DbtCliResource
from pydantic import Field

from .. import ledger
from ..resources import ShopSettings, WarehouseResource
from ..serving.publish import publish
from ..transform.assets import DBT_PROJECT
from .erase import ErasureError, erase_customer, new_request_id


class ErasureConfig(Config):
    """Which customer to erase (the customers export's customer_id) and the request's id
    (default: erasure-<UTC time>-<random>) for the erasure log."""

    customer_id: str = Field(description="customer_id as in the customers export")
    request_id: str = Field(default="", description="id of the erasure request (log)")


@op(description="Withhold and anonymise the customer's raw rows, add them to the "
                "suppression list, delete their rows outside raw, log the request.")
def erase_customer_data(context: OpExecutionContext, config: ErasureConfig,
                        warehouse: WarehouseResource) -> list[str]:
    request_id = config.request_id or new_request_id()
    try:
        with warehouse.lock(context), warehouse.connect() as con:
            erasure = erase_customer(con, config.customer_id, request_id, warehouse.path)
    except ErasureError as exc:
        raise Failure(str(exc)) from None
    changed = {name: rows for name, rows in erasure.scope.items() if rows}
    # The log names the request and counts rows, never the customer.
    context.log.info(f"erasure {request_id}: {sum(changed.values()):,} rows in "
                     f"{len(changed)} tables ({', '.join(sorted(changed)) or 'none'})"
                     + ("; already on the suppression list" if erasure.already_suppressed
                        else ""))
    context.add_output_metadata({"request_id": request_id,
                                 "rows_changed": sum(changed.values()),
                                 "scope": json.dumps(changed, sort_keys=True)})
    return erasure.entities


@op(description="dbt build of everything the anonymised raw rows feed (with tests).")
def rebuild_after_erasure(context: OpExecutionContext, entities: list[str],
                          warehouse: WarehouseResource, shop: ShopSettings,
                          dbt: DbtCliResource) -> None:
    selection = [f"source:shop.{entity}+" for entity in entities] + ["source:privacy.suppression+"]
    dbt_vars = {"warehouse_path": warehouse.path, **shop.dbt_vars()}
    with warehouse.lock(context):
        # --full-refresh: the incremental models would only look at new files (DECISIONS 31).
        invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars), "--select",
                              " ".join(selection), "--full-refresh"],
                             manifest=DBT_PROJECT.manifest_path,
                             raise_on_error=False).wait()
        if not invocation.is_successful():
            raise Failure("dbt build after the erasure failed; the raw rows are erased and "
                          "the next build rebuilds the marts from them "
                          f"(dbt log: {invocation.target_path / 'dbt.log'})")
        with warehouse.connect() as con:  # what these entities feed is current again
            ledger.mark_built(con, entities)
    context.log.info(f"rebuilt from {', '.join(entities) or 'the suppression list'}")


@op(ins={"rebuilt": In(Nothing)},
    description="Publish the serving copy again, so BI users no longer see the customer.")
def republish_after_erasure(context: OpExecutionContext, warehouse: WarehouseResource) -> None:
    with warehouse.lock(context):
        publication = publish(warehouse.path, warehouse.serving_file(), run_id=context.run_id)
    context.log.info(f"serving copy {publication.path} republished "
                     f"({len(publication.tables)} tables)")


@job(name="erase_customer",
     description="Erase one customer (config: customer_id, request_id): their personal data "
                 "leaves every schema, their orders stay as an anonymous member, a suppression "
                 "list keeps them out of later exports; then dbt rebuilds and the serving copy "
                 "is republished. make erase CUSTOMER=<id> runs it.")
def erase_customer_job():
    republish_after_erasure(rebuilt=rebuild_after_erasure(erase_customer_data()))
