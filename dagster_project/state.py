"""State that belongs to one warehouse: its Dagster instance, its locks, and what it was
last built from.

Everything lives beside the warehouse file, in `<warehouse>.state/` (for
`data/warehouse.duckdb`: `data/warehouse.state/`):
- `dagster/`: the Dagster instance (DAGSTER_HOME) of this warehouse, so two warehouses
  never share run history, check results or sensor state;
- `models/`: the saved ML models (the default of SHOP_MODELS_DIR);
- `dbt_target/`: dbt's target folder for the Dagster dbt step's builds (one per warehouse,
  so dbt parses only what changed since the last build);
- `build.lock`: held by a whole `python -m dagster_project.build`; a second build of the
  same warehouse fails at once naming the holder;
- `write.lock`: held by every step that writes the warehouse file (DuckDB allows one
  writer); a step that finds it held waits and says for whom.
Both locks are OS file locks (flock): they die with their process, so a `kill -9` of a
build never leaves a claim behind that blocks the next one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from contract import ENTITIES

from .ingest.files import DropError, entity_files

INSTANCE_CONFIG = """\
# Dagster instance of one warehouse (written by dagster_project/state.py).
telemetry:
  enabled: false
"""
# The event log in the files of Dagster's default layout (history/runs), through a storage
# that does not flush the disk for every event (dagster_project/run_history.py).
EVENT_LOG_STORAGE = """\
event_log_storage:
  module: dagster_project.run_history
  class: WarehouseEventLogStorage
  config:
    base_dir: {base_dir}
"""
WAIT_LOG_SECONDS = 30


class WarehouseBusy(RuntimeError):
    """Another process holds a lock of this warehouse."""


def state_dir(warehouse_path: str | Path) -> Path:
    """`data/warehouse.duckdb` -> `data/warehouse.state`."""
    path = Path(warehouse_path)
    return path.with_name(f"{path.stem}.state")


def dbt_target_path(warehouse_path: str | Path) -> Path:
    """dbt's target folder for builds of this warehouse: `<warehouse>.state/dbt_target`."""
    return state_dir(warehouse_path) / "dbt_target"


def instance_home(warehouse_path: str | Path) -> Path:
    """The warehouse's own Dagster home, with its dagster.yaml: written on first use, and
    rewritten when this version writes it differently (an older one, a moved folder)."""
    home = state_dir(warehouse_path) / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    runs = str(home.resolve() / "history" / "runs")
    text = INSTANCE_CONFIG + EVENT_LOG_STORAGE.format(base_dir=json.dumps(runs))
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    return home


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    return (f"pid {info.get('pid')} ({info.get('what', 'a build')}, since "
            f"{info.get('since', '?')})")


@contextmanager
def file_lock(path: Path, what: str, *, wait: bool,
              log: Callable[[str], None] = print) -> Iterator[None]:
    """Hold an exclusive flock on `path` for the block. Without `wait`, a held lock raises
    WarehouseBusy at once; with it, wait and log for whom every WAIT_LOG_SECONDS."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        waited_since = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    raise WarehouseBusy(f"{path} is held by {_holder(path)}") from None
                now = time.monotonic()
                if waited_since is None or now - waited_since >= WAIT_LOG_SECONDS:
                    log(f"waiting for {path.name} of {path.parent}, held by {_holder(path)}")
                    waited_since = now
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": datetime.now(
            UTC).isoformat(timespec="seconds")}).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; a killed process releases it the same way


def build_lock(warehouse_path: str | Path) -> contextmanager:
    """The whole-build lock: a second build of the same warehouse fails at once."""
    return file_lock(state_dir(warehouse_path) / "build.lock",
                     f"building {Path(warehouse_path).name}", wait=False)


def write_lock(warehouse_path: str | Path, what: str,
               log: Callable[[str], None] = print) -> contextmanager:
    """The writer lock of one step: waits for the step that holds it."""
    return file_lock(state_dir(warehouse_path) / "write.lock", what, wait=True, log=log)


def inputs_digest(drop_dir: str | Path, settings: dict, dbt_project_digest: str) -> str:
    """Fingerprint of what a build reads: the drop's entity files (name, size, mtime),
    the settings that change results, and the dbt project. Equal digests mean a rebuild
    would change nothing."""
    drop = Path(drop_dir)
    files = []
    for entity in ENTITIES:
        try:
            files += [(f.path.name, f.path.stat().st_size, f.path.stat().st_mtime_ns)
                      for f in entity_files(drop, entity)]
        except DropError as exc:  # the build itself will fail naming the file
            files.append((entity, str(exc)))
    payload = json.dumps({"drop": str(drop.resolve()), "files": files, "settings": settings,
                          "dbt": dbt_project_digest}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
