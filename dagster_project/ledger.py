"""The warehouse's bookkeeping, owned here: what `raw` holds and how it got there, what dbt
last built from it, which raw suites were validated on which files, and every check's
outcome. Other modules call this API; none of them writes these tables itself.

Tables (`ensure` creates them, idempotently; their shapes are fixed, BI tools and the KPI
report read the audit ones):
- `raw._files`: what `raw.<entity>` holds now, one row per file with the fingerprint (size
  and modification time) it was read at;
- `raw._load_log`: every load that read or removed files, per file;
- `raw._dbt_build_state`: per entity, the digest of its files at the last successful dbt
  build, plus `_project` (dbt project and vars); empty while a build is running or after
  one failed;
- `raw._built_files`: the files themselves at that build (whether a change only added
  files);
- `raw._check_state`: per raw suite, the suite's fingerprint, the entity's files and row
  count when it was last validated, and that run;
- `raw._check_counts`: per raw suite, the rows each expectation considered and found
  missing in that validation, and the fingerprint of its rules without their tolerated
  shares: what a validation of only the rows of added files combines with (quality/checks);
- `raw._activity_files`: per entity that dates a customer's activity, the files and rows
  (and the query) that `raw._customer_activity` (privacy/zone.py) was last computed from:
  a retention after files were only added reads the added rows alone;
- `audit.dbt_model_status`: each model's outcome in the newest dbt build that ran it;
- `audit.dq_results`: every expectation's result, per run (validations only: an outcome
  carried over from an earlier run is not appended again);
- `audit.load_reconciliation_history`: each build's load reconciliation;
- `raw._model_changes`: what each dbt invocation changed since the serving copy was last
  published (written by dbt's hooks and strategies `replace_keys` and `replace_ranges`,
  dbt/macros/change_log.sql, with the same DDL; pruned here when a copy is published), and
  `raw._model_change_ranges`, the part of each key that `replace_ranges` replaced (the
  rows at or after `replaced_from` in `range_column`), pruned with it.

Not here: `ml.model_registry` stays with `ml/registry.py` (ml/ imports nothing above it,
and its columns are described once in `ml/tables.py`), and the personal-data zone's tables
stay with `privacy/zone.py` (they hold data, not bookkeeping).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb

from contract.sql import identifier

DDL = {
    "raw._load_log": """(
        load_id varchar, entity varchar, source_file varchar, row_count bigint,
        parse_error_count bigint, loaded_at timestamp, seconds double)""",
    "raw._files": """(
        entity varchar, source_path varchar, source_file varchar, fingerprint varchar,
        row_count bigint, load_id varchar, loaded_at timestamp)""",
    "raw._dbt_build_state": "(entity varchar, digest varchar, built_at timestamp)",
    "raw._built_files": """(
        entity varchar, source_path varchar, source_file varchar, fingerprint varchar,
        built_at timestamp)""",
    "raw._check_state": """(
        suite varchar primary key, entity varchar, suite_digest varchar, files varchar[],
        row_count bigint, run_id varchar, checked_at timestamp)""",
    "raw._check_counts": """(
        suite varchar primary key, run_id varchar, rules_digest varchar, counts varchar)""",
    "raw._activity_files": """(
        entity varchar, source_path varchar, fingerprint varchar, row_count bigint,
        query_digest varchar)""",
    "audit.dbt_model_status": """(
        model varchar primary key, status varchar, is_stale boolean, message varchar,
        run_id varchar, built_at timestamp)""",
    "audit.dq_results": """(
        run_id varchar, asset_key varchar, suite varchar, expectation varchar,
        column_name varchar, rule varchar, severity varchar, success boolean,
        observed_value varchar, unexpected_count bigint, unexpected_percent double,
        sample varchar, seconds double, validated_at timestamp)""",
    "audit.load_reconciliation_history": """(
        run_id varchar, recorded_at timestamp, entity varchar, raw_row_count bigint,
        loaded_row_count bigint, quarantined_row_count bigint,
        exact_duplicate_count bigint)""",
    "raw._model_changes": """(
        relation varchar, invocation_id varchar, kind varchar, key_columns varchar,
        key_hash ubigint, logged_at timestamp)""",
    "raw._model_change_ranges": """(
        relation varchar, invocation_id varchar, key_hash ubigint, range_column varchar,
        replaced_from timestamp, logged_at timestamp)""",
}
PROJECT_KEY = "_project"  # the dbt project's row in raw._dbt_build_state
MODEL_CHANGES = "raw._model_changes"
MODEL_CHANGE_RANGES = "raw._model_change_ranges"


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping schemas and tables that do not exist yet."""
    for schema in sorted({name.split(".")[0] for name in DDL}):
        con.execute(f"create schema if not exists {schema}")
    for name, columns in DDL.items():
        con.execute(f"create table if not exists {name} {columns}")


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, table = name.split(".")
    return bool(con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?", [schema, table]).fetchone()[0])


# What raw holds: the loader's files --------------------------------------------------------

def loaded_files(con: duckdb.DuckDBPyConnection, entity: str) -> dict[str, str]:
    """Files `raw.<entity>` holds now: resolved path -> fingerprint."""
    if not _exists(con, "raw._files"):
        return {}
    return dict(con.execute("select source_path, fingerprint from raw._files where entity = ?",
                            [entity]).fetchall())


def record_load(con: duckdb.DuckDBPyConnection, entity: str, load_id: str,
                files: Sequence[tuple[str, str, str, int]],
                log: Sequence[tuple[str | None, int, int]], seconds: float) -> None:
    """After a load: `files` (path, name, fingerprint, rows) is what raw.<entity> holds now;
    `log` (file, rows, parse errors) the files this load read (empty: nothing changed; a
    load that only removed files logs one row without a file)."""
    ensure(con)
    con.execute("delete from raw._files where entity = ?", [entity])
    if files:
        con.executemany("insert into raw._files values (?, ?, ?, ?, ?, ?, now())",
                        [(entity, path, name, print_, rows, load_id)
                         for path, name, print_, rows in files])
    if log:
        con.executemany("insert into raw._load_log values (?, ?, ?, ?, ?, now(), ?)",
                        [(load_id, entity, name, rows, errors, seconds)
                         for name, rows, errors in log])


def _files_by_entity(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, dict[str, str]]:
    if not _exists(con, table):
        return {}
    files: dict[str, dict[str, str]] = {}
    for entity, path, print_ in con.execute(
            f"select entity, source_path, fingerprint from {table}").fetchall():
        files.setdefault(entity, {})[path] = print_
    return files


@dataclass(frozen=True)
class FileChange:
    """How an entity's files changed since a recorded point (a dbt build, a validation).

    `known` is false when there is no trusted earlier state (first build, a failed build,
    raw rows changed in place by the privacy zone): then everything counts as changed."""

    entity: str
    added: tuple[str, ...] = ()  # file names
    rewritten: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    known: bool = True

    @property
    def changed(self) -> bool:
        return not self.known or bool(self.added or self.rewritten or self.removed)

    @property
    def append_only(self) -> bool:
        """Files were only added: the rows already there are the same rows."""
        return self.known and bool(self.added) and not (self.rewritten or self.removed)


def compare_files(entity: str, before: dict[str, str] | None,
                  now: dict[str, str]) -> FileChange:
    """FileChange between two {path: fingerprint} maps (`before` None: unknown)."""
    if before is None:
        return FileChange(entity, known=False)

    def names(paths: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(path.rsplit("/", 1)[-1] for path in paths))

    return FileChange(
        entity, added=names(set(now) - set(before)),
        rewritten=names(p for p in set(now) & set(before) if now[p] != before[p]),
        removed=names(set(before) - set(now)))


def added_files(con: duckdb.DuckDBPyConnection, entity: str, before: dict[str, str] | None,
                now: dict[str, str], rows_before: int, rows_now: int) -> list[str] | None:
    """The names of the files added to `entity` between two recorded points (file maps as
    `loaded_files` gives them, with the table's row counts) when the rows there before are
    still the same rows: files were only added, none rewritten or removed, and the table
    grew by exactly the added files' rows (raw rows changed in place, e.g. by an erasure,
    fail this). Else None."""
    change = compare_files(entity, before, now)
    if not change.append_only:
        return None
    grown = con.execute(f"select count(*) from raw.{identifier(entity)} where _source_file "
                        f"in (select unnest(?::varchar[]))", [list(change.added)]).fetchone()[0]
    return list(change.added) if rows_before + grown == rows_now else None


# What dbt built --------------------------------------------------------------------------

def entity_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per entity, a digest of the files raw holds now (path and fingerprint)."""
    if not _exists(con, "raw._files"):
        return {}
    return dict(con.execute("""
        select entity, md5(string_agg(source_path || '=' || fingerprint, ',' order by source_path))
        from raw._files group by entity""").fetchall())


def built_state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Entity (and `_project`) -> digest at the last successful dbt build; empty if none."""
    if not _exists(con, "raw._dbt_build_state"):
        return {}
    return dict(con.execute("select entity, digest from raw._dbt_build_state").fetchall())


def changed_entities(con: duckdb.DuckDBPyConnection) -> dict[str, FileChange]:
    """Entities whose files changed since the last successful dbt build, and how (whether
    only files were added). Without a recorded build every entity with files is changed."""
    current, built = entity_digests(con), built_state(con)
    built_files = _files_by_entity(con, "raw._built_files")
    now = _files_by_entity(con, "raw._files")
    changes = {}
    for entity in sorted((set(current) | set(built)) - {PROJECT_KEY}):
        if current.get(entity) == built.get(entity):
            continue
        before = built_files.get(entity, {}) if entity in built else None
        changes[entity] = compare_files(entity, before, now.get(entity, {}))
    return changes


def start_build(con: duckdb.DuckDBPyConnection) -> None:
    """Until the build that starts now succeeds, no earlier state can be trusted. The file
    list stays: a running incremental build reads it (dbt source `build_state`, DECISIONS
    31), and without a build state nothing compares with it."""
    ensure(con)
    con.execute("delete from raw._dbt_build_state")


def record_build(con: duckdb.DuckDBPyConnection, project_digest: str,
                 digests: dict[str, str] | None = None) -> None:
    """After a successful full dbt build: the models reflect raw's files (`digests`, read
    before the build; default: now) and this project digest."""
    ensure(con)
    state = {**(entity_digests(con) if digests is None else digests),
             PROJECT_KEY: project_digest}
    start_build(con)
    con.execute("delete from raw._built_files")
    con.executemany("insert into raw._dbt_build_state values (?, ?, now())",
                    list(state.items()))
    con.execute("""
        insert into raw._built_files
        select entity, source_path, source_file, fingerprint, now() from raw._files""")


def mark_built(con: duckdb.DuckDBPyConnection, entities: Iterable[str]) -> None:
    """dbt rebuilt what these entities feed (e.g. after an erasure): if the rest of the
    models are current (a build state exists), these entities are current again too."""
    names = sorted(set(entities))
    if not names or not built_state(con):
        return
    digests = entity_digests(con)
    forget(con, names)
    con.executemany("insert into raw._dbt_build_state values (?, ?, now())",
                    [(e, digests[e]) for e in names if e in digests])
    con.execute(f"""
        insert into raw._built_files
        select entity, source_path, source_file, fingerprint, now() from raw._files
        where entity in ({', '.join('?' for _ in names)})""", names)


def forget(con: duckdb.DuckDBPyConnection, entities: Iterable[str]) -> None:
    """The raw rows of these entities changed while their files did not (the privacy
    zone anonymised or cleared them): the next dbt build rebuilds what they feed and the
    next checks validate them again."""
    names = sorted(set(entities))
    marks = ", ".join("?" for _ in names)
    for table in ("raw._dbt_build_state", "raw._built_files", "raw._check_state",
                  "raw._activity_files"):
        if names and _exists(con, table):
            con.execute(f"delete from {table} where entity in ({marks})", names)


def record_model_status(con: duckdb.DuckDBPyConnection, run_results: dict,
                        run_id: str) -> list[str]:
    """Keep in `audit.dbt_model_status` each model's outcome in the newest dbt build that
    ran it, so the live warehouse says which models are stale after a failed build (the
    serving copy is only replaced after a build that passed). Models an incremental build
    left out keep their row. Returns the stale models by name."""
    ensure(con)
    rows = [(result["unique_id"].split(".", 2)[-1], result["status"],
             result["status"] != "success", (result.get("message") or "")[:500], run_id)
            for result in run_results.get("results", [])
            if result["unique_id"].startswith("model.")]
    if rows:
        con.executemany("insert or replace into audit.dbt_model_status "
                        "values (?, ?, ?, ?, ?, now())", rows)
    return [model for (model,) in con.execute(
        "select model from audit.dbt_model_status where is_stale order by model").fetchall()]


# What the retention's activity dates were computed from ----------------------------------

@dataclass(frozen=True)
class ActivityState:
    """Per entity, the files ({path: fingerprint}) and rows `raw._customer_activity` was
    computed from, and the digest of the query that computed it."""

    files: dict[str, dict[str, str]]
    rows: dict[str, int]
    query_digest: str


def activity_state(con: duckdb.DuckDBPyConnection) -> ActivityState | None:
    if not _exists(con, "raw._activity_files"):
        return None
    rows = con.execute("select entity, source_path, fingerprint, row_count, query_digest "
                       "from raw._activity_files").fetchall()
    if not rows or len({row[4] for row in rows}) != 1:
        return None
    files: dict[str, dict[str, str]] = {}
    counts = {}
    for entity, path, print_, count, _ in rows:
        files.setdefault(entity, {})
        if path is not None:
            files[entity][path] = print_
        counts[entity] = count
    return ActivityState(files, counts, rows[0][4])


def record_activity_state(con: duckdb.DuckDBPyConnection, rows: dict[str, int],
                          query_digest: str) -> None:
    """`raw._customer_activity` now reflects these entities' files and `rows`."""
    ensure(con)
    con.execute("delete from raw._activity_files")
    for entity, count in sorted(rows.items()):
        files = sorted(loaded_files(con, entity).items()) or [(None, None)]
        con.executemany("insert into raw._activity_files values (?, ?, ?, ?, ?)",
                        [(entity, path, print_, count, query_digest) for path, print_ in files])


# What was checked ------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckState:
    """A raw suite's last validation: its fingerprint, the files and rows it saw, the run."""

    suite: str
    entity: str
    suite_digest: str
    files: dict[str, str]  # path -> fingerprint
    row_count: int
    run_id: str
    checked_at: object


def check_state(con: duckdb.DuckDBPyConnection, suite: str) -> CheckState | None:
    if not _exists(con, "raw._check_state"):
        return None
    row = con.execute("select suite, entity, suite_digest, files, row_count, run_id, "
                      "checked_at from raw._check_state where suite = ?", [suite]).fetchone()
    if row is None:
        return None
    files = dict(item.rsplit("=", 1) for item in row[3])
    return CheckState(row[0], row[1], row[2], files, row[4], row[5], row[6])


def record_check(con: duckdb.DuckDBPyConnection, suite: str, entity: str, suite_digest: str,
                 row_count: int, run_id: str) -> None:
    """A raw suite was validated in this run on the files raw holds now."""
    ensure(con)
    files = sorted(f"{path}={print_}" for path, print_ in loaded_files(con, entity).items())
    con.execute("insert or replace into raw._check_state values (?, ?, ?, ?, ?, ?, now())",
                [suite, entity, suite_digest, files, row_count, run_id])


def record_check_counts(con: duckdb.DuckDBPyConnection, suite: str, run_id: str,
                        rules_digest: str, counts: Sequence[tuple]) -> None:
    """A raw suite's per-expectation (element count, missing count) of its validation in
    `run_id`, in the order of its outcomes."""
    ensure(con)
    con.execute("insert or replace into raw._check_counts values (?, ?, ?, ?)",
                [suite, run_id, rules_digest, json.dumps([list(c) for c in counts])])


def check_counts(con: duckdb.DuckDBPyConnection, suite: str,
                 run_id: str) -> tuple[str, list[tuple]] | None:
    """(rules digest, counts) recorded for the suite's validation in `run_id`, or None."""
    if not _exists(con, "raw._check_counts"):
        return None
    row = con.execute("select rules_digest, counts from raw._check_counts "
                      "where suite = ? and run_id = ?", [suite, run_id]).fetchone()
    if row is None:
        return None
    return row[0], [tuple(c) for c in json.loads(row[1])]


def digest(value: object) -> str:
    """A stable fingerprint of a JSON-able description (a suite's definition)."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def recorded_outcomes(con: duckdb.DuckDBPyConnection, run_id: str, suite: str) -> list[tuple]:
    """The outcomes recorded for a suite in a run, as (expectation, column, rule, severity,
    success, observed value, unexpected count and percent, sample JSON, seconds, validated
    at), in the order they were validated."""
    if not _exists(con, "audit.dq_results"):
        return []
    return con.execute("""
        select expectation, column_name, rule, severity, success, observed_value,
            unexpected_count, unexpected_percent, sample, seconds, validated_at
        from audit.dq_results where run_id = ? and suite = ?
        order by rowid""", [run_id, suite]).fetchall()


def record_results(con: duckdb.DuckDBPyConnection, run_id: str,
                   rows: Sequence[tuple]) -> None:
    """Append outcomes to audit.dq_results: (asset key, suite, expectation, column, rule,
    severity, success, observed value, unexpected count, unexpected percent, sample JSON,
    seconds) each."""
    ensure(con)
    if rows:
        con.executemany("insert into audit.dq_results values "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                        [(run_id, *row) for row in rows])


def clear_samples(con: duckdb.DuckDBPyConnection, text: str) -> int:
    """Clear the offending-row samples of audit.dq_results that contain `text` (an erased
    customer's id as it appears in the JSON). Returns the results cleared."""
    if not _exists(con, "audit.dq_results"):
        return 0
    return con.execute("update audit.dq_results set sample = null "
                       "where contains(cast(sample as varchar), ?)", [text]).fetchall()[0][0]


def record_reconciliation(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Append the load's reconciliation to audit.load_reconciliation_history, so the
    quarantine share per entity can be followed build after build (the KPI report does)."""
    ensure(con)
    con.execute("""
        insert into audit.load_reconciliation_history
        select ?, now(), entity, raw_row_count, loaded_row_count, quarantined_row_count,
            exact_duplicate_count
        from audit.load_reconciliation""", [run_id])


# What changed since the serving copy was published -----------------------------------------

@dataclass(frozen=True)
class ModelChanges:
    """What dbt changed since the last publication recorded (`raw._model_changes`)."""

    published: str | None  # that publication's token, None if none is recorded
    running: bool  # a dbt invocation started and has not finished (or was stopped)
    whole: frozenset[str]  # "schema.table" rebuilt whole
    keys: dict[str, str]  # "schema.table" -> its key columns, for tables with replaced keys
    cutoff: object  # the newest entry read (publication prunes up to it)


def model_changes(con: duckdb.DuckDBPyConnection) -> ModelChanges | None:
    """Read on a read-only connection; None while dbt has not created the log yet."""
    if not _exists(con, MODEL_CHANGES):
        return None
    published = con.execute(f"""
        select invocation_id from {MODEL_CHANGES} where kind = 'published'
        order by logged_at desc limit 1""").fetchall()
    rows = con.execute(f"""
        select relation, kind, any_value(key_columns), max(logged_at) from {MODEL_CHANGES}
        where kind in ('running', 'table', 'keys') group by relation, kind""").fetchall()
    keys = {relation: columns for relation, kind, columns, _ in rows if kind == "keys"}
    return ModelChanges(
        published=published[0][0] if published else None,
        running=any(kind == "running" for _, kind, _, _ in rows),
        whole=frozenset(relation for relation, kind, _, _ in rows if kind == "table"),
        keys=keys,
        cutoff=max((logged for *_, logged in rows), default=None))


def record_publication(con: duckdb.DuckDBPyConnection, token: str, cutoff: object) -> None:
    """After a serving copy was renamed into place: the changes it holds (up to `cutoff`)
    are pruned and its token recorded, in one transaction. A `running` mark is pruned too:
    a copy is only updated in place when there is none, so this copy was taken whole (and
    no dbt invocation can write the warehouse while a publish reads it)."""
    ensure(con)
    con.execute("begin")
    try:
        if cutoff is not None:
            con.execute(f"delete from {MODEL_CHANGES} where kind != 'published' "
                        f"and logged_at <= ?", [cutoff])
            con.execute(f"delete from {MODEL_CHANGE_RANGES} where logged_at <= ?", [cutoff])
        con.execute(f"delete from {MODEL_CHANGES} where kind = 'published'")
        con.execute(f"insert into {MODEL_CHANGES} values ('*', ?, 'published', null, null, "
                    f"now()::timestamp)", [token])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
