"""bench/run.py's phases of one more day, read from the warehouse's Dagster event log."""

import time

from dagster import DagsterInstance, Definitions, asset, define_asset_job

from bench.run import run_phases
from dagster_project.state import instance_home


@asset
def first() -> int:
    time.sleep(0.3)
    return 1


@asset(deps=[first])
def second() -> None:
    time.sleep(0.2)


def test_phases_cover_each_step_and_the_time_around_them(tmp_path):
    warehouse = str(tmp_path / "shop.duckdb")
    instance = DagsterInstance.from_config(str(instance_home(warehouse)))
    job = Definitions(assets=[first, second],
                      jobs=[define_asset_job("build_warehouse")]).resolve_job_def(
        "build_warehouse")
    started = time.time()
    time.sleep(0.1)  # the command's own start-up, before its run
    try:
        assert job.execute_in_process(instance=instance).success
    finally:
        instance.dispose()
    time.sleep(0.1)
    ended = time.time()
    phases = run_phases(warehouse, started, ended)
    assert list(phases) == ["start", "first", "second", "end"]
    assert phases["start"] >= 0.1 and phases["end"] >= 0.1
    assert phases["first"] >= 0.3 and phases["second"] >= 0.2
    assert sum(phases.values()) <= ended - started + 0.05  # the steps do not overlap


def test_no_build_yet_gives_no_phases(tmp_path):
    assert run_phases(str(tmp_path / "shop.duckdb"), 0.0, 1.0) == {}
