"""Growth beyond scale 1: does a larger shop fit this machine, and how do time and memory grow?

    python -m bench.growth --scale 10 [--reference data/bench/scale-1.0] [--work DIR]

Before generating anything it estimates the disk the run needs from a built reference scale
(drop, warehouse and serving copy sizes per raw row, times the larger shop's rows) and stops
with the numbers when the work folder's disk cannot hold it: that is where the run would
break. Otherwise it generates the drop, runs the Dagster warehouse build (and the model job
unless --no-models), and records seconds, rows/s and the process tree's peak memory.
Writes bench/results/<date>-growth-<scale>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from dagster_project.settings import PROJECT_ROOT, default_serving_path
from sample_data import Config, generate

from .measure import measured
from .run import _build, _stage

GB = 2**30
# Headroom for DuckDB's spill files, the dbt target and the state folder.
HEADROOM = 0.15


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def footprint(reference: Path) -> dict:
    """Bytes per raw row of a built bench scale: its drop, warehouse and serving copy."""
    truth = json.loads((reference / "drop" / "_truth.json").read_text())
    rows = sum(e["rows"] for e in truth["entities"].values())
    warehouse = reference / "warehouse.duckdb"
    parts = {"drop": reference / "drop", "warehouse": warehouse,
             "serving": default_serving_path(str(warehouse))}
    missing = [str(p) for p in parts.values() if not Path(p).exists()]
    if missing:
        raise SystemExit(f"{reference}: not a built bench scale (missing {', '.join(missing)})")
    return {"scale": truth["config"]["scale"], "raw_rows": rows,
            **{name: folder_bytes(Path(p)) / rows for name, p in parts.items()}}


def disk_estimate(per_row: dict, scale: float) -> dict:
    """Bytes a run at `scale` needs, by linear extrapolation of the reference's rows."""
    rows = per_row["raw_rows"] * scale / per_row["scale"]
    parts = {name: round(per_row[name] * rows) for name in ("drop", "warehouse", "serving")}
    return {"raw_rows_estimate": round(rows), **parts,
            "total": round(sum(parts.values()) * (1 + HEADROOM))}


def _measured_build(result: dict, stage: str, env: dict, only: str, rows: int) -> bool:
    """Run one build job, recording its time and peak memory even when it fails (where a
    larger shop breaks is the finding). Returns whether it failed."""
    failed = None
    try:
        with measured(children_only=True) as m:
            _build(env, only)
    except subprocess.CalledProcessError as exc:
        failed = f"exit status {exc.returncode}"
    result[stage] = {**_stage(m, rows), **({"failed": failed} if failed else {})}
    print(f"  {stage} {m.seconds:.0f} s, peak {m.peak_rss_mb:.0f} MB"
          + (f", FAILED ({failed}; its log says why)" if failed else ""))
    return failed is not None


def markdown(result: dict) -> str:
    need = result["disk_needed"]
    lines = [f"Growth run {result['date']} at scale {result['scale']} on {result['machine']}", "",
             f"Disk needed (estimated from scale {result['reference_scale']}, "
             f"+{HEADROOM:.0%} headroom): {need['total'] / GB:.1f} GB (drop "
             f"{need['drop'] / GB:.1f}, warehouse {need['warehouse'] / GB:.1f}, serving copy "
             f"{need['serving'] / GB:.1f}); free: {result['disk_free'] / GB:.1f} GB.", ""]
    if not result["fits"]:
        lines.append("Not run: the disk cannot hold it. This is where the run breaks on this "
                     "machine.")
        return "\n".join(lines) + "\n"
    lines += ["| stage | seconds | rows/s | peak RSS MB |", "|---|---:|---:|---:|"]
    for stage in ("generate", "dagster_full_materialisation", "model_training"):
        if stage in result:
            s = result[stage]
            lines.append(f"| {stage}{' (failed)' if s.get('failed') else ''} | {s['seconds']} "
                         f"| {s['rows_per_second']:,} | {s['peak_rss_mb']} |")
    lines += ["", f"Raw rows: {result['raw_rows']:,}; on disk: "
              + ", ".join(f"{k} {v / GB:.1f} GB" for k, v in result["disk_used"].items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--reference", type=Path, default=PROJECT_ROOT / "data" / "bench"
                        / "scale-1.0", help="a scale `make bench` built (sizes per row)")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "data" / "growth")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results")
    parser.add_argument("--no-models", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the drop and warehouse")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    work = args.work.resolve() / f"scale-{args.scale}"
    work.mkdir(parents=True, exist_ok=True)
    per_row = footprint(args.reference.resolve())
    need = disk_estimate(per_row, args.scale)
    free = shutil.disk_usage(work).free
    result = {"date": date.today().isoformat(), "scale": args.scale,
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                         f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GB:.0f} GB",
              "reference_scale": per_row["scale"], "disk_needed": need, "disk_free": free,
              "fits": need["total"] <= free}
    print(f"scale {args.scale}: needs about {need['total'] / GB:.1f} GB of disk, "
          f"{free / GB:.1f} GB free")
    if result["fits"]:
        drop, warehouse = work / "drop", work / "warehouse.duckdb"
        try:
            with measured() as m:
                truth = generate(Config(scale=args.scale, seed=7), drop, log=print)
            result["raw_rows"] = rows = sum(e["rows"] for e in truth["entities"].values())
            result["generate"] = _stage(m, rows)
            warehouse.unlink(missing_ok=True)
            env = {**os.environ, "SHOP_DROP_DIR": str(drop),
                   "SHOP_WAREHOUSE_PATH": str(warehouse), "SHOP_MODELS_DIR": str(work / "models")}
            failed = _measured_build(result, "dagster_full_materialisation", env, "warehouse",
                                     rows)
            if not args.no_models and not failed:
                _measured_build(result, "model_training", env, "models", rows)
            result["disk_used"] = {
                "drop": folder_bytes(drop), "warehouse": folder_bytes(warehouse),
                "serving": folder_bytes(Path(default_serving_path(str(warehouse))))}
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{result['date']}-growth-{args.scale:g}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    stem.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return 1 if any(isinstance(v, dict) and v.get("failed") for v in result.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
