"""Timing and peak memory (RSS summed over the whole process tree) of a block of work."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def _tree_rss_bytes(root: int, include_root: bool = True) -> int:
    """RSS of `root` and all its descendants (or the descendants only), from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pages = int((entry / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        pid, ppid = int(entry.name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root] if include_root else list(children.get(root, []))
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


@dataclass
class Measurement:
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    extra: dict = field(default_factory=dict)


@contextmanager
def measured(interval: float = 0.2, children_only: bool = False):
    """Yields a Measurement filled in when the block ends. `children_only` leaves this
    process out of the peak: for a stage run as a child process (a build, dbt), whose
    memory is the child's tree, not what the benchmark itself holds from earlier stages."""
    result = Measurement()
    stop = threading.Event()
    peak = [0]

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_bytes(os.getpid(), not children_only))
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    try:
        yield result
    finally:
        stop.set()
        sampler.join()
        result.seconds = time.perf_counter() - started
        result.peak_rss_mb = round(
            max(peak[0], _tree_rss_bytes(os.getpid(), not children_only)) / 2**20, 1)
