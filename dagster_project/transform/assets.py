"""The dbt project as assets: every model, seed and test (as asset checks) in the lineage."""


import hashlib
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetSpec, Config, Output
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ..ingest.load import raw_columns
from ..resources import ShopSettings, WarehouseResource
from ..settings import PROJECT_ROOT

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
                  "and modification time it was read at (written by the loader)."),
        ("dbt_build_files", "`raw._dbt_build_files`: the files of the last successful dbt "
                            "build; files not in it are the rows an incremental build adds."),
    ]
]


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


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
        current, built = _entity_digests(con), _built_state(con)
        files, built_files = _files(con, "_files"), _files(con, "_dbt_build_files")
    args = ["build", "--vars", json.dumps(dbt_vars)]
    incremental = False
    if not (context.is_subset or config.full_rebuild or built.get("_project") != project):
        changed = sorted(e for e in (set(current) | set(built)) - {"_project"}
                         if current.get(e) != built.get(e))
        if not changed:
            context.log.info("No entity changed since the last successful dbt build; "
                             "nothing to build (run config full_rebuild: true forces it).")
            return
        context.log.info(f"Entities changed since the last build: {', '.join(changed)}")
        # dagster-dbt selects fqn:* for a full run, so narrow it with --exclude.
        args += ["--exclude", " ".join(_not_fed_by(changed))]
        appended = appended_entities(files, built_files, changed, built)
        blocked = _incremental_blocked_by(changed) if appended else {}
        incremental = bool(appended) and not blocked
        context.log.info(
            "Incremental build of the append-only facts (files only added)" if incremental
            else "Full rebuild of the incremental models: " + (
                "; ".join(f"{model} is fed by changed {', '.join(entities)}"
                          for model, entities in sorted(blocked.items()))
                or "a file was rewritten or removed"))
    if not incremental:
        args.append("--full-refresh")
    with warehouse.connect() as con:
        # Until this build succeeds, the next one cannot trust the last recorded state.
        _record_build(con, {})
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    # dbt holds the DuckDB file while it runs, so row counts are read once it is done.
    events = list(invocation.stream())
    with warehouse.connect(read_only=True) as con:
        for event in events:
            if isinstance(event, Output):
                table = ".".join(context.asset_key_for_output(event.output_name).path)
                rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
                event = event.with_metadata({**event.metadata, "dagster/row_count": rows})
            yield event
    context.log.info(f"dbt build finished in {time.perf_counter() - started:.1f} s")
    with warehouse.connect() as con:
        stale = record_model_status(con, invocation.get_artifact("run_results.json"),
                                    context.run.run_id)
    if stale:
        context.log.warning(f"{len(stale)} model(s) are stale (their last build failed or "
                            f"was skipped; audit.dbt_model_status): {', '.join(stale[:10])}")
    if not invocation.is_successful():
        raise invocation.get_error() or RuntimeError("dbt build failed")
    if not context.is_subset:
        with warehouse.connect() as con:
            _record_build(con, {**current, "_project": project}, files)


def _not_fed_by(entities: list[str]) -> list[str]:
    """dbt nodes (by unique-id name) that no changed source entity feeds."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
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


def _entity_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not raw_columns(con, "_files"):
        return {}
    return dict(con.execute("""
        select entity, md5(string_agg(source_path || '=' || fingerprint, ',' order by source_path))
        from raw._files group by entity""").fetchall())


def _built_state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not raw_columns(con, "_dbt_build_state"):
        return {}
    return dict(con.execute("select entity, digest from raw._dbt_build_state").fetchall())


def _record_build(con: duckdb.DuckDBPyConnection, state: dict[str, str],
                  files: dict[str, dict[str, str]] | None = None) -> None:
    """Record what a successful build saw: entity digests, and the files the incremental
    models read as `source('build_state', '_dbt_build_files')`. An empty state marks a
    running or failed build (the next one is a full rebuild); the file list then stays as
    the last successful build left it, since a running incremental build reads it."""
    con.execute("create table if not exists raw._dbt_build_state "
                "(entity varchar, digest varchar, built_at timestamp)")
    con.execute("create table if not exists raw._dbt_build_files "
                "(entity varchar, source_path varchar, fingerprint varchar)")
    con.execute("begin transaction")
    con.execute("delete from raw._dbt_build_state")
    if state:
        con.executemany("insert into raw._dbt_build_state values (?, ?, now())",
                        list(state.items()))
    if files is not None:
        con.execute("delete from raw._dbt_build_files")
        rows = [(entity, path, print_) for entity, paths in files.items()
                for path, print_ in paths.items()]
        if rows:
            con.executemany("insert into raw._dbt_build_files values (?, ?, ?)", rows)
    con.execute("commit")


def _files(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, dict[str, str]]:
    """{entity: {source_path: fingerprint}} of raw._files or raw._dbt_build_files."""
    if not raw_columns(con, table):
        return {}
    files: dict[str, dict[str, str]] = {}
    for entity, path, print_ in con.execute(
            f"select entity, source_path, fingerprint from raw.{table} "  # a fixed name
            "where source_path is not null").fetchall():
        files.setdefault(entity, {})[path] = print_
    return files


def appended_entities(files: dict[str, dict[str, str]], built_files: dict[str, dict[str, str]],
                      changed: list[str], built: dict[str, str]) -> list[str]:
    """The changed entities when every change since the last successful build only added
    files (each file that build saw is still there with the same fingerprint); empty when
    any file was rewritten or removed, or an entity's build state was forgotten (an erasure
    rewrote its raw rows): then the incremental models are rebuilt in full.

    Pure, so it can move to the bookkeeping module (dagster_project/ledger.py) unchanged."""
    for entity in changed:
        now, then = files.get(entity, {}), built_files.get(entity, {})
        if entity not in built or not then:  # forgotten, or no file list was recorded
            return []
        if any(now.get(path) != print_ for path, print_ in then.items()):
            return []  # a file rewritten or removed
        if not set(now) - set(then):
            return []
    return list(changed)


def _incremental_blocked_by(changed: list[str]) -> dict[str, list[str]]:
    """Incremental models fed by a changed entity they do not append (`meta.append_entities`),
    e.g. base_shop__orders when fx_rates changed: {model: [entities]}. Any such model makes
    the whole build a full refresh (dbt's --full-refresh is per invocation)."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
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



def record_model_status(con: duckdb.DuckDBPyConnection, run_results: dict,
                        run_id: str) -> list[str]:
    """Keep in `audit.dbt_model_status` each model's outcome in the newest dbt build that
    ran it, so the live warehouse says which models are stale after a failed build (the
    serving copy is only replaced after a build that passed). Models an incremental build
    left out keep their row. Returns the stale models by name."""
    con.execute("create schema if not exists audit")
    con.execute("""
        create table if not exists audit.dbt_model_status (
            model varchar primary key, status varchar, is_stale boolean, message varchar,
            run_id varchar, built_at timestamp)""")
    rows = [(result["unique_id"].split(".", 2)[-1], result["status"],
             result["status"] != "success", (result.get("message") or "")[:500], run_id)
            for result in run_results.get("results", [])
            if result["unique_id"].startswith("model.")]
    if rows:
        con.executemany("insert or replace into audit.dbt_model_status "
                        "values (?, ?, ?, ?, ?, now())", rows)
    return [model for (model,) in con.execute(
        "select model from audit.dbt_model_status where is_stale order by model").fetchall()]
