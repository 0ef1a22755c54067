"""The warehouse instance's event log (dagster_project/run_history.py): Dagster's files and
schema, readable by the plain storage, and a running run still shows live in the UI."""

import sqlite3
import threading

from dagster import AssetKey, DagsterInstance, asset, materialize

from dagster_project.run_history import WarehouseEventLogStorage
from dagster_project.state import instance_home


@asset
def tiny() -> int:
    return 1


def test_the_instance_uses_it_in_dagsters_own_files_and_the_plain_storage_reads_them(tmp_path):
    home = instance_home(tmp_path / "shop.duckdb")
    instance = DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.event_log_storage, WarehouseEventLogStorage)
        result = materialize([tiny], instance=instance)
        assert result.success
    finally:
        instance.dispose()
    runs = home / "history" / "runs"
    assert (runs / f"{result.run_id}.db").exists() and (runs / "index.db").exists()
    # The same files through Dagster's default storage (an instance config without the
    # event_log_storage section, as this project wrote it before).
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    plain = DagsterInstance.from_config(str(home))
    try:
        assert type(plain.event_log_storage).__name__ == "SqliteEventLogStorage"
        kinds = [e.dagster_event.event_type_value for e in plain.all_logs(result.run_id)
                 if e.dagster_event]
        assert kinds.count("ASSET_MATERIALIZATION") == 1 and "PIPELINE_SUCCESS" in kinds
        assert plain.get_latest_materialization_event(AssetKey("tiny")).run_id == result.run_id
    finally:
        plain.dispose()
    # instance_home writes its config again over the older one.
    instance_home(tmp_path / "shop.duckdb")
    assert "WarehouseEventLogStorage" in (home / "dagster.yaml").read_text()


def test_commits_do_not_wait_for_the_disk(tmp_path):
    storage = WarehouseEventLogStorage(str(tmp_path / "runs"))
    try:
        with storage.index_connection() as conn:
            mode = conn.exec_driver_sql("pragma synchronous").scalar()
            journal = conn.exec_driver_sql("pragma journal_mode").scalar()
        assert (mode, journal) == (1, "wal")  # 1 = NORMAL (SQLite's FULL is 2)
    finally:
        storage.dispose()


def test_a_watcher_sees_events_written_while_the_connection_stays_open(tmp_path):
    home = instance_home(tmp_path / "shop.duckdb")
    writer = DagsterInstance.from_config(str(home))
    reader = DagsterInstance.from_config(str(home))  # the UI's own process, in effect
    try:
        first = materialize([tiny], instance=writer)
        seen = threading.Event()
        reader.watch_event_logs(first.run_id, None, lambda *_: seen.set())
        # A later write to the run's file while the writer keeps its connection open:
        # only the WAL file changes, and the watcher must still wake up.
        writer.report_engine_event("still running", writer.get_run_by_id(first.run_id))
        assert seen.wait(timeout=10)
        db = home / "history" / "runs" / f"{first.run_id}.db"
        with sqlite3.connect(db) as conn:  # the rows are in the file's log, readable
            count = conn.execute("select count(*) from event_logs").fetchone()[0]
        assert count == len(writer.all_logs(first.run_id))
    finally:
        writer.dispose()
        reader.dispose()
