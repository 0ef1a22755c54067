"""The event log of a warehouse's Dagster instance: Dagster's SQLite storage, without a disk
flush per event.

Dagster's own SQLite event log opens a new connection for every write and closes it
afterwards; a run of `build_warehouse` writes about 800 events (one per planned asset and
check, output, materialisation, check result) in about 2,500 transactions. With the
connection closed each time, every transaction is flushed to disk three times (the commit,
then the checkpoint SQLite runs when the last connection of a WAL database closes: the log
and the database file). That cost nothing noticeable on an idle disk and up to 25 ms per
transaction while DuckDB writes the warehouse file: 30 s of a build's start-up went to
recording the planned events, 20 s after dbt ended to recording its results (issue 18).

This storage keeps one connection per database file open for the life of the process and
commits with `synchronous=NORMAL`, SQLite's documented setting for WAL databases: the log
stays consistent after a crash; a power loss may drop the last transactions (a run's
newest events), never corrupt the file. Everything else is Dagster's: the same files and
schema (an instance written by the plain storage is read as it is, and back), the same
queries. One difference follows from the open connection: SQLite no longer copies the
log into the database file after every write, so the UI's live view of a running run (a
file watcher) also watches the log file (`<run>.db-wal`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer


def _commit_without_flush(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("pragma synchronous = normal")
    cursor.close()


class WarehouseEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log (the same files under `base_dir`), with one
    open connection per shard and commits that do not wait for the disk."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, Engine] = {}
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> WarehouseEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is None:
                # SQLAlchemy's default pool for a SQLite file keeps the connection open
                # (and lets the watcher's thread use it; every use holds `_db_lock`).
                engine = create_engine(self.conn_string_for_shard(shard),
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                                     "check_same_thread": False})
                event.listen(engine, "connect", _commit_without_flush)
                self._engines[shard] = engine
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As Dagster's own _connect, less the engine created and disposed on every call.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()

    def wipe(self) -> None:
        self._dispose_engines()  # the files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._dispose_engines()

    def watch(self, run_id: str, cursor, callback) -> None:
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunLogWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (
            watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))


class _RunLogWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of one run's events, woken by its database file or its log."""

    def __init__(self, event_log_storage, run_id, callback, cursor, **kwargs):
        super().__init__(event_log_storage, run_id, callback, cursor, **kwargs)
        self._patterns = [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        if os.fsdecode(event.src_path) in self._patterns:
            self._process_log()

