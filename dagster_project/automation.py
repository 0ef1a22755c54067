"""Jobs, schedules and sensors: a daily rebuild, a run for each new drop in the inbox, and
the models retrained after every successful rebuild."""


import time
from pathlib import Path

from dagster import (
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    run_status_sensor,
    sensor,
)

from .contract import ENTITIES
from .ingest.files import DropError, entity_files

ML = AssetSelection.groups("ml")
SERVING = AssetSelection.groups("serving")  # the BI copy, published last by both jobs

build_warehouse = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.all() - ML,
    description="Load the drop, build the dbt models with their tests, run the checks, "
                "publish the serving copy for BI tools. Incremental: only new files are "
                "read and only what they feed is rebuilt.",
)

train_models = define_asset_job(
    "train_models",
    selection=ML | SERVING,
    description="Backtest and retrain the demand forecast and the churn model on the marts, "
                "write forecasts, reorder alerts and churn scores to schema ml, and publish "
                "the serving copy with them.",
)

daily_rebuild = ScheduleDefinition(
    name="daily_rebuild",
    job=build_warehouse,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Rebuild the warehouse from the configured drop every day at 03:00 UTC.",
)

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


def inbox_sensor(inbox_dir: str):
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
                tags={"shop/drop": folder.name},
            ))
        return requests or SkipReason(f"no new ready drop in {inbox}")

    return new_drop_in_inbox


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[build_warehouse],
                   request_job=train_models, name="retrain_after_build",
                   default_status=DefaultSensorStatus.RUNNING,
                   description="Retrains the models after every successful `build_warehouse`, "
                               "so forecasts and churn scores follow the newest data.")
def retrain_after_build(context: RunStatusSensorContext):
    return RunRequest(run_key=context.dagster_run.run_id)
