"""The dbt project as assets: every model, seed and test (as asset checks) in the lineage."""


import hashlib
import importlib.metadata
import json
import sys
import time
from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Config, Output
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging.version import Version

from .. import ledger
from ..resources import ShopSettings, WarehouseResource
from ..settings import PROJECT_ROOT
from ..state import dbt_target_path
from .parse import step_vars

DBT_PROJECT = DbtProject(project_dir=PROJECT_ROOT / "dbt", profiles_dir=PROJECT_ROOT / "dbt")
DBT_PROJECT.prepare_if_dev()
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class ShopDbtTranslator(DagsterDbtTranslator):
    """Assets are keyed by warehouse schema and table, e.g. `marts/customers`.

    Sources thus become `raw/<entity>`, the keys of the ingest assets, so the lineage runs
    from files to marts. Groups come from `meta.dagster.group` in dbt_project.yml.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])


# The bookkeeping tables the incremental models read (dbt source `build_state`, DECISIONS 31).
BUILD_STATE_SPECS = [
    AssetSpec(key=["raw", name], group_name="ingest", kinds={"duckdb"}, description=text)
    for name, text in [
        ("files", "`raw._files`: one row per file each raw table holds now, with the size "
                  "and modification time it was read at (dagster_project/ledger.py)."),
        ("built_files", "`raw._built_files`: the files of the last successful dbt build; "
                        "files not in it are the rows an incremental build adds."),
    ]
]


class ShopDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, less one `dbt --version` process per build (about 2 s of
    start-up, and a look-up of the latest release on the network): the dbt it runs is the
    dbt-core installed beside it (DBT_EXECUTABLE), whose version the package metadata says.

    Nor does it load a dbt adapter into this process before each invocation (dbt's project,
    profile and the adapter's macros: about 3 s of the dbt step, issue 18): dagster-dbt
    uses that adapter only for `fetch_row_counts` and `fetch_column_metadata`, which this
    project does not call (the dbt step counts rows itself, once dbt is done)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    return ShopDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


class DbtBuildConfig(Config):
    """Run config of the dbt step."""

    full_rebuild: bool = False  # build every model even where no entity's files changed


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT,
            dagster_dbt_translator=ShopDbtTranslator(), name="shop_dbt_models")
def shop_dbt_models(context: AssetExecutionContext, config: DbtBuildConfig,
                    dbt: DbtCliResource, warehouse: WarehouseResource, shop: ShopSettings):
    """`dbt build`: staging, quarantine, intermediate and marts, with dbt tests as checks.

    A full materialisation builds only what the raw entities that changed since the last
    successful build feed (`source:shop.<entity>+`): a drop that grows by a day of orders
    does not rebuild the sessions of ten million unchanged events. A changed dbt project
    or vars, a first build, or `full_rebuild` builds everything.
    """
    with warehouse.lock(context):
        yield from _build(context, config, dbt, warehouse, shop)


def _build(context: AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource,
           warehouse: WarehouseResource, shop: ShopSettings):
    dbt_vars = {"warehouse_path": warehouse.path, **shop.dbt_vars()}
    started = time.perf_counter()
    project = project_digest(dbt_vars)
    with warehouse.connect(read_only=True) as con:
        current, built = ledger.entity_digests(con), ledger.built_state(con)
        changes = ledger.changed_entities(con)
    args = ["build", "--vars", json.dumps(dbt_vars)]
    incremental = False
    if not (context.is_subset or config.full_rebuild
            or built.get(ledger.PROJECT_KEY) != project):
        if not changes:
            context.log.info("No entity changed since the last successful dbt build; "
                             "nothing to build (run config full_rebuild: true forces it).")
            return
        context.log.info("Entities changed since the last build: " + ", ".join(
            f"{e} ({'files added' if c.append_only else 'files changed'})"
            for e, c in changes.items()))
        # dagster-dbt selects fqn:* for a full run, so narrow it with --exclude.
        args += ["--exclude", " ".join(_not_fed_by(sorted(changes)))]
        appended = all(change.append_only for change in changes.values())
        blocked = _incremental_blocked_by(sorted(changes)) if appended else {}
        incremental = appended and not blocked
        context.log.info(
            "Incremental build of the append-only facts (files only added)" if incremental
            else "Full rebuild of the incremental models: " + (
                "; ".join(f"{model} is fed by changed {', '.join(entities)}"
                          for model, entities in sorted(blocked.items()))
                or "a file was rewritten or removed, or raw rows changed in place"))
    # The same vars on every build (shop_incremental: --full-refresh decides), so dbt's
    # partial parsing stays valid from one build to the next (and `make dbt-parse`'s parse
    # for the default warehouse serves its first build: transform/parse.py).
    args[2] = json.dumps(step_vars(warehouse.path, shop.dbt_vars()))
    if incremental:
        # dbt's unit tests check the SQL against fixed inputs, never the warehouse's rows:
        # their outcome follows from the project, which has not changed since the build
        # that first recorded its digest, a full build that ran and passed them all.
        args += ["--exclude-resource-type", "unit_test"]
    else:
        args.append("--full-refresh")
    with warehouse.connect() as con:
        # Until this build succeeds, the next one cannot trust the last recorded state.
        ledger.start_build(con)
    # One target folder per warehouse (the build lock keeps it to one build at a time), so
    # dbt parses only what changed since the last build (partial_parse.msgpack).
    invocation = dbt.cli(args, context=context, raise_on_error=False,
                         target_path=dbt_target_path(warehouse.path))
    # dbt holds the DuckDB file while it runs, so row counts are read once it is done.
    events = list(invocation.stream())
    with warehouse.connect(read_only=True) as con:
        # Tables only: counting a view runs its query (the staging views filter 10M rows).
        tables = {f"{schema}.{name}" for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database()").fetchall()}
        for event in events:
            if isinstance(event, Output):
                table = ".".join(context.asset_key_for_output(event.output_name).path)
                if table in tables:
                    rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
                    event = event.with_metadata({**event.metadata, "dagster/row_count": rows})
            yield event
    context.log.info(f"dbt build finished in {time.perf_counter() - started:.1f} s")
    with warehouse.connect() as con:
        stale = ledger.record_model_status(con, invocation.get_artifact("run_results.json"),
                                    context.run.run_id)
    if stale:
        context.log.warning(f"{len(stale)} model(s) are stale (their last build failed or "
                            f"was skipped; audit.dbt_model_status): {', '.join(stale[:10])}")
    if not invocation.is_successful():
        raise invocation.get_error() or RuntimeError("dbt build failed")
    if not context.is_subset:
        with warehouse.connect() as con:
            ledger.record_build(con, project, current)


@cache
def _manifest() -> dict:
    """dbt's manifest, read once per process: the assets above were defined from it."""
    return json.loads(DBT_PROJECT.manifest_path.read_text())


def _not_fed_by(entities: list[str]) -> list[str]:
    """dbt nodes (by unique-id name) that no changed source entity feeds."""
    manifest = _manifest()
    children = manifest["child_map"]
    fed, todo = set(), [f"source.{manifest['metadata']['project_name']}.shop.{e}"
                        for e in entities]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in fed:
                fed.add(child)
                todo.append(child)
    buildable = [node for uid, node in manifest["nodes"].items()
                 if node["resource_type"] in ("model", "seed", "test", "snapshot")
                 and uid not in fed]
    return sorted(node["name"] for node in buildable)


def _incremental_blocked_by(changed: list[str]) -> dict[str, list[str]]:
    """Incremental models fed by a changed entity they do not append (`meta.append_entities`),
    e.g. base_shop__orders when fx_rates changed: {model: [entities]}. Any such model makes
    the whole build a full refresh (dbt's --full-refresh is per invocation)."""
    manifest = _manifest()
    project = manifest["metadata"]["project_name"]
    parents = manifest["parent_map"]
    blocked = {}
    for uid, node in manifest["nodes"].items():
        if node.get("config", {}).get("materialized") != "incremental":
            continue
        meta = {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}
        appends = set(meta.get("append_entities", []))
        seen, todo, feeding = set(), [uid], set()
        while todo:
            for parent in parents.get(todo.pop(), []):
                if parent in seen:
                    continue
                seen.add(parent)
                if parent.startswith(f"source.{project}.shop."):
                    feeding.add(parent.rsplit(".", 1)[-1])
                todo.append(parent)
        if feeding & set(changed) - appends:
            blocked[node["name"]] = sorted(feeding & set(changed) - appends)
    return blocked


def project_digest(dbt_vars: dict) -> str:
    """Fingerprint of the dbt project's sources and the vars it is built with."""
    digest = hashlib.sha256(json.dumps(dbt_vars, sort_keys=True).encode())
    root = PROJECT_ROOT / "dbt"
    files = [root / "dbt_project.yml"] + sorted(
        path for folder in ("models", "macros", "seeds", "tests")
        for path in (root / folder).rglob("*") if path.is_file())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()
