"""The limit: the SQL dbt compiles, run directly in one DuckDB connection (no dbt, no Dagster)."""

from __future__ import annotations

import json
import os
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from dagster_project.settings import DEFAULTS


def connect(warehouse: str, **options) -> duckdb.DuckDBPyConnection:
    """A connection with the memory limit the Dagster build and the dbt profile use
    (SHOP_DUCKDB_MEMORY_LIMIT), so each stage is measured like for like."""
    limit = os.environ.get("SHOP_DUCKDB_MEMORY_LIMIT", DEFAULTS["SHOP_DUCKDB_MEMORY_LIMIT"])
    return duckdb.connect(warehouse, config={"memory_limit": limit}, **options)


def run_compiled_models(manifest_path: Path, warehouse: str) -> int:
    """Create every model of the manifest from its compiled SQL, in dependency order (views
    as views, everything else as tables).

    Needs a manifest from `dbt compile` against the same warehouse. Returns models built.
    """
    manifest = json.loads(manifest_path.read_text())
    models = {uid: node for uid, node in manifest["nodes"].items()
              if node["resource_type"] in ("model", "seed")}
    graph = {uid: [d for d in node.get("depends_on", {}).get("nodes", []) if d in models]
             for uid, node in models.items()}
    order = TopologicalSorter(graph).static_order()
    with connect(warehouse) as con:
        for uid in order:
            node = models[uid]
            if node["resource_type"] == "seed":
                continue  # seeds are loaded by the dbt build that precedes this measurement
            con.execute(f"create schema if not exists {node['schema']}")
            kind = "view" if node["config"].get("materialized") == "view" else "table"
            con.execute(f"create or replace {kind} {node['schema']}.{node['alias']} as "
                        f"{node['compiled_code']}")
    return sum(1 for n in models.values() if n["resource_type"] == "model")
