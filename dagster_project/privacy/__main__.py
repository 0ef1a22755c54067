"""Erase one customer from a warehouse (`make erase CUSTOMER=<id> [WAREHOUSE=...]`), or
write an ad platform's customer-match file (`make audience-export CAMPAIGN=win_back
OUT=...`).

    python -m dagster_project.privacy erase --customer C000123 [--warehouse W] [--request-id R]
    python -m dagster_project.privacy audience-export --campaign-type win_back --out F.csv

audience-export: the normalised e-mails' SHA-256 of the planned campaign's treatment
group, opted-in customers only, to an owner-only file, logged (dagster_project/privacy/
audience_export.py).

Runs the `erase_customer` job in this process against the warehouse's own Dagster
instance: the customer's personal data leaves every schema, their orders stay under an
anonymous id, the suppression list keeps them out of later exports, dbt rebuilds what
their rows fed and the serving copy is republished. The finished run is then deleted from
the instance's run history, because its config names the customer; the erasure log
(raw._erasure_log) keeps the request id, time and scope. Exit status: 0 erased, 1 the job
failed, 2 a bad argument or setting, 3 a build of the warehouse is running.
"""

import argparse
import os
import sys
from pathlib import Path

from ..settings import Settings, SettingsError
from ..state import WarehouseBusy, build_lock, instance_home
from .erase import ErasureError, check_request, new_request_id

EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.privacy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["erase", "audience-export"])
    parser.add_argument("--customer", help="erase: customer_id as exported")
    parser.add_argument("--campaign-type", help="audience-export: e.g. win_back")
    parser.add_argument("--out", help="audience-export: the .csv file to write")
    parser.add_argument("--warehouse", help="DuckDB file (default: SHOP_WAREHOUSE_PATH)")
    parser.add_argument("--request-id", default="", help="id of the erasure request")
    args = parser.parse_args(argv)
    request_id = args.request_id or new_request_id()
    try:
        settings = Settings.from_env().for_warehouse(args.warehouse)
        if args.command == "erase":
            check_request(args.customer or "", request_id)
        elif not (args.campaign_type and args.out):
            raise SettingsError("audience-export needs --campaign-type and --out")
    except (SettingsError, ErasureError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not Path(settings.warehouse_path).is_file():
        print(f"error: warehouse {settings.warehouse_path} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        with build_lock(settings.warehouse_path):
            if args.command == "audience-export":
                return _export(settings, args.campaign_type, args.out)
            return _erase(settings, args.customer, request_id)
    except WarehouseBusy as exc:
        print(f"error: a build of {settings.warehouse_path} is running ({exc}); erase after "
              f"it finishes", file=sys.stderr)
        return EXIT_BUSY


def _erase(settings: Settings, customer_id: str, request_id: str) -> int:
    home = instance_home(settings.warehouse_path)
    os.environ["DAGSTER_HOME"] = str(home)
    from dagster import DagsterInstance

    from ..build import failure_lines
    from ..definitions import build_definitions

    instance = DagsterInstance.from_config(str(home))
    job = build_definitions(settings).resolve_job_def("erase_customer")
    result = job.execute_in_process(
        run_config={"ops": {"erase_customer_data": {"config": {
            "customer_id": customer_id, "request_id": request_id}}}},
        instance=instance, raise_on_error=False,
        tags={"shop/warehouse": settings.warehouse_path, "shop/erasure": request_id})
    if not result.success:
        for line in failure_lines(result, settings):
            print(line, file=sys.stderr)
        print(f"erasure {request_id} failed (run {result.run_id})", file=sys.stderr)
        return EXIT_FAILED
    instance.delete_run(result.run_id)  # its config names the customer
    print(f"Erased: request {request_id}; the serving copy {settings.serving_path} is "
          f"republished; the log is raw._erasure_log of {settings.warehouse_path}")
    return 0


def _export(settings: Settings, campaign_type: str, out: str) -> int:
    import duckdb

    from .audience_export import AudienceExportError, export_audience

    try:
        with duckdb.connect(settings.warehouse_path) as con:
            done = export_audience(con, campaign_type, out)
    except AudienceExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except duckdb.CatalogException as exc:
        print(f"error: {settings.warehouse_path} has no campaign audiences yet (train the "
              f"models first): {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Wrote {done.rows:,} hashed e-mails of opted-in {campaign_type} customers to "
          f"{done.path} (owner-only; logged in raw._audience_export_log)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
