"""The serving copy replaces the part of a key that dbt's strategy `replace_ranges` replaced
(DECISIONS 36): a key's rows at or after the logged `replaced_from`, the rest kept as
published; a key logged without a range (strategy `replace_keys`, or a range in one
invocation only) is replaced whole."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project import ledger
from dagster_project.serving.publish import publish


def _log(con, invocation: str, keys: dict[str, str | None]) -> None:
    """What strategy `replace_ranges` logs for marts.fct_events (dbt/macros/change_log.sql):
    the marker, each key's hash, and a range row per key with a start (None: no range row,
    as `replace_keys` logs it)."""
    con.execute(f"insert into {ledger.MODEL_CHANGES} values "
                "('marts.fct_events', ?, 'keys', 'visitor_id', null, now()::timestamp)",
                [invocation])
    for visitor, start in keys.items():
        con.execute(f"insert into {ledger.MODEL_CHANGES} select 'marts.fct_events', ?, 'keys', "
                    "'visitor_id', hash(?::varchar), now()::timestamp", [invocation, visitor])
        if start is not None:
            con.execute(f"insert into {ledger.MODEL_CHANGE_RANGES} select 'marts.fct_events', "
                        "?, hash(?::varchar), 'occurred_at', ?::timestamp, now()::timestamp",
                        [invocation, visitor, start])


def _rows(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select visitor_id, occurred_at::varchar, event_type "
                           "from marts.fct_events order by all").fetchall()


def test_the_copy_replaces_each_key_from_its_logged_start(tmp_path):
    live, serving = tmp_path / "wh.duckdb", tmp_path / "bi" / "wh.duckdb"
    with duckdb.connect(str(live)) as con:
        ledger.ensure(con)
        con.execute("create schema marts")
        con.execute("create table marts.fct_events (visitor_id varchar, occurred_at timestamp, "
                    "event_type varchar)")
        con.execute("""insert into marts.fct_events values
            ('a', '2026-01-01 10:00', 'old'), ('a', '2026-01-02 10:00', 'old'),
            ('b', '2026-01-01 10:00', 'old'), ('b', '2026-01-02 10:00', 'old'),
            ('c', '2026-01-01 10:00', 'old'), ('c', '2026-01-02 10:00', 'old'),
            ('d', '2026-01-01 10:00', 'old'), ('d', '2026-01-02 10:00', 'old')""")
    assert not publish(str(live), str(serving), run_id="first").updated
    with duckdb.connect(str(live)) as con:
        # Every live row changes, so the copy shows which rows were replaced: visitor d
        # from 01-02 on, b whole (no range), c from 01-02 in one invocation but whole in
        # the other; visitor a from 01-02 in one invocation and from 01-01 09:00 in the
        # other: the earlier start holds, so a's 01-01 row is replaced too.
        con.execute("update marts.fct_events set event_type = 'new'")
        con.execute("insert into marts.fct_events values ('a', '2026-01-03 10:00', 'new')")
        _log(con, "day1", {"a": "2026-01-02 10:00", "b": None, "c": "2026-01-02 10:00",
                           "d": "2026-01-02 10:00"})
        _log(con, "day2", {"a": "2026-01-01 09:00", "c": None})
    updated = publish(str(live), str(serving), run_id="day", incremental=True)
    assert updated.updated
    assert _rows(serving) == [
        ("a", "2026-01-01 10:00:00", "new"), ("a", "2026-01-02 10:00:00", "new"),
        ("a", "2026-01-03 10:00:00", "new"),
        ("b", "2026-01-01 10:00:00", "new"), ("b", "2026-01-02 10:00:00", "new"),
        ("c", "2026-01-01 10:00:00", "new"), ("c", "2026-01-02 10:00:00", "new"),
        ("d", "2026-01-01 10:00:00", "old"), ("d", "2026-01-02 10:00:00", "new")]
    with duckdb.connect(str(live), read_only=True) as con:
        assert con.execute(f"select count(*) from {ledger.MODEL_CHANGE_RANGES}").fetchone() \
            == (0,)  # pruned with the log
