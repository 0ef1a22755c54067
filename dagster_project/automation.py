"""Schedules and sensors: a daily rebuild, and a run for each new drop in the inbox."""


import time
from pathlib import Path

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from .contract import ENTITIES
from .ingest.files import entity_files

build_warehouse = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.all(),
    description="Load the drop, build every dbt model with its tests, run the checks and models.",
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
    if not all(entity_files(folder, e.name) for e in required):
        return False
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
