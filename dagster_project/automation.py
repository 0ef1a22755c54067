"""Jobs, schedules and sensors: a daily rebuild, a run for each new drop in the inbox, and
the models retrained after every successful rebuild."""


import os
import time
from pathlib import Path

from dagster import (
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRecord,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    run_status_sensor,
    schedule,
    sensor,
)

from contract import ENTITIES

from .ingest.files import DropError, entity_files
from .settings import Settings
from .state import inputs_digest
from .transform.assets import project_digest

ML = AssetSelection.groups("ml")
# The KPI report charts the ML tables too, so it renders at the end of `train_models`
# (which the retrain_after_build sensor starts after every successful build). With the
# models skipped, `make report` or materialising reports/kpi_report alone renders it; the
# report then notes the missing ml tables.
REPORTS = AssetSelection.groups("reports")
SERVING = AssetSelection.groups("serving")  # the BI copy, published last by both jobs

build_warehouse = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.all() - ML - REPORTS,
    description="Load the drop, build the dbt models with their tests, run the checks, "
                "publish the serving copy for BI tools. Incremental: only new files are "
                "read and only what they feed is rebuilt.",
)

train_models = define_asset_job(
    "train_models",
    selection=ML | REPORTS | SERVING,
    description="Backtest and retrain the demand forecast, the churn model and the "
                "recommender on the marts, write their tables and the campaign audiences to "
                "schema ml, publish the serving copy with them and render the KPI report.",
)

DROP_TAG, INPUTS_TAG = "shop/drop", "shop/inputs"
CLI_TAG = "shop/started_by"  # "cli" on runs of `python -m dagster_project.build`


def build_inputs(settings: Settings, drop_dir: str) -> str:
    """Digest of everything a build reads (drop files, settings, dbt project): a run tag, so
    an unchanged drop is not rebuilt and the UI shows what each run was built from."""
    dbt_vars = {"warehouse_path": settings.warehouse_path, "base_currency":
                settings.base_currency, "shop_timezone": settings.timezone}
    return inputs_digest(drop_dir, settings.results_settings(), project_digest(dbt_vars))


def latest_run(instance, job_name: str, *, succeeded: bool = False) -> RunRecord | None:
    """The newest run of a job in this warehouse's instance (optionally only successes)."""
    statuses = [DagsterRunStatus.SUCCESS] if succeeded else []
    records = instance.get_run_records(RunsFilter(job_name=job_name, statuses=statuses),
                                       limit=1)
    return records[0] if records else None


def up_to_date(instance, settings: Settings, inputs: str) -> RunRecord | None:
    """The successful build the warehouse is current with: the newest build_warehouse run
    (of any status) succeeded from the same inputs, and the file is there. None otherwise,
    so a later failed or half-finished build is never taken for current, and a deleted
    warehouse is rebuilt. (A file replaced by another, e.g. a restored backup, is not
    detected: build with --full-rebuild then.)"""
    newest = latest_run(instance, "build_warehouse")
    if (newest is None or newest.dagster_run.status != DagsterRunStatus.SUCCESS
            or not os.path.exists(settings.warehouse_path)):
        return None
    return newest if newest.dagster_run.tags.get(INPUTS_TAG) == inputs else None


def rebuild_request(instance, settings: Settings) -> RunRequest | SkipReason:
    """Rebuild the drop the warehouse holds: the drop of its latest build (a drop the inbox
    sensor loaded that day included), else the configured one; skip when nothing changed
    since the latest successful build."""
    last = latest_run(instance, "build_warehouse")
    drop = (last.dagster_run.tags.get(DROP_TAG) if last else None) or settings.drop_dir
    inputs = build_inputs(settings, drop)
    done = up_to_date(instance, settings, inputs)
    if done is not None:
        return SkipReason(f"drop {drop} unchanged since run {done.dagster_run.run_id[:8]}: "
                          f"nothing to rebuild")
    return RunRequest(run_key=None, tags={DROP_TAG: drop, INPUTS_TAG: inputs},
                      run_config={"ops": {"raw_exports": {"config": {"drop_dir": drop}}}})


def daily_rebuild(settings: Settings) -> ScheduleDefinition:
    @schedule(name="daily_rebuild", job=build_warehouse, cron_schedule="0 3 * * *",
              execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING,
              description="Every day at 03:00 UTC, rebuild the drop the warehouse holds (the "
                          "latest build's, which may be an inbox drop) if it changed.")
    def _daily_rebuild(context: ScheduleEvaluationContext):
        return rebuild_request(context.instance, settings)

    return _daily_rebuild


QUIET_SECONDS = 60


def drop_is_ready(folder: Path, now: float | None = None) -> bool:
    """A drop is ready when it has every required entity and either a `_READY` marker or no
    file changed for QUIET_SECONDS (so a drop still being copied is not loaded half-way)."""
    required = [e for e in ENTITIES.values() if e.is_required_entity]
    try:
        if not all(entity_files(folder, e.name) for e in required):
            return False
    except DropError:
        pass  # e.g. orders.xlsx: once the folder is settled, the run fails naming the file
    if (folder / "_READY").exists():
        return True
    newest = max(p.stat().st_mtime for p in folder.iterdir())
    return (now or time.time()) - newest >= QUIET_SECONDS


def inbox_sensor(settings: Settings):
    inbox_dir = settings.inbox_dir

    @sensor(name="new_drop_in_inbox", job=build_warehouse, minimum_interval_seconds=30,
            default_status=DefaultSensorStatus.RUNNING,
            description=f"Starts `build_warehouse` for each new drop folder in {inbox_dir}.")
    def new_drop_in_inbox(context: SensorEvaluationContext):
        inbox = Path(inbox_dir)
        if not inbox.is_dir():
            return SkipReason(f"inbox {inbox} does not exist")
        requests = []
        for folder in sorted(p for p in inbox.iterdir() if p.is_dir()):
            if folder.name.startswith((".", "_")) or not drop_is_ready(folder):
                continue
            stamp = int(max(p.stat().st_mtime for p in folder.iterdir()))
            requests.append(RunRequest(
                run_key=f"{folder.name}@{stamp}",
                run_config={"ops": {"raw_exports": {"config": {"drop_dir": str(folder)}}}},
                tags={DROP_TAG: str(folder), INPUTS_TAG: build_inputs(settings, str(folder))},
            ))
        return requests or SkipReason(f"no new ready drop in {inbox}")

    return new_drop_in_inbox


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[build_warehouse],
                   request_job=train_models, name="retrain_after_build",
                   default_status=DefaultSensorStatus.RUNNING,
                   description="Retrains the models after every successful `build_warehouse`, "
                               "so forecasts and churn scores follow the newest data.")
def retrain_after_build(context: RunStatusSensorContext):
    if context.dagster_run.tags.get(CLI_TAG) == "cli":
        return SkipReason("the build command line trains the models itself")
    return RunRequest(run_key=context.dagster_run.run_id)
