"""JSON Lines: DuckDB's JSON reader (the fast path) and the line-by-line extraction (the
exact path) give the same raw rows, line numbers and parse errors for every line shape."""

from __future__ import annotations

import duckdb
import pytest

from contract import ENTITIES
from dagster_project.ingest.files import DropFile, relation_sql

# One line each: odd but valid objects, values of every JSON type, and lines that are not
# JSON objects (truncated, an array, null, a string, trailing text, two objects).
LINES = [
    '{"event_id": "e1", "occurred_at": "2026-01-01T10:00:00Z", "event_type": "page_view"}',
    '{"event_id": 7, "occurred_at": 1.50, "event_type": true, "customer_id": -0, "device": 1E2}',
    '{"event_id": {"k": [1, 2.50, "a"]}, "page_url": "/x\\u00e9\\"y", "app_version": "5.2"}',
    '{"event_id": "e4", "event_id": "e4b", "device": null, "search_query": ""}',
    '{"Event_ID": "E5", "extra": 1}',
    "{}",
    '{"event_id": "e7", "occurred_at": "',
    "[1, 2]",
    "null",
    '"just a string"',
    '{"event_id": "e11"} trailing',
    '{"event_id": "e12"}{"event_id": "e13"}',
    '  {"event_id": "e14", "device": "ios"}  ',
    '{"event_id": "e15", "occurred_at": NaN,}',
]


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(f"select * from ({sql}) order by _source_line").fetchall()


@pytest.mark.parametrize("blank_line", [False, True])
def test_fast_and_exact_paths_read_every_line_alike(tmp_path, blank_line):
    lines = [*LINES[:5], "", *LINES[5:]] if blank_line else LINES
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    file = DropFile(path, "events", "jsonl")
    with duckdb.connect() as con:
        fast, columns = relation_sql(con, file, ENTITIES["events"])
        exact, exact_columns = relation_sql(con, file, ENTITIES["events"], exact=True)
        assert columns == exact_columns
        assert "read_json" in fast and "read_json" not in exact
        fast_rows, exact_rows = _rows(con, fast), _rows(con, exact)
    assert fast_rows == exact_rows
    assert len(fast_rows) == len(LINES)  # the blank line is no record
    # Hand-checked values: numbers and nested values as JSON text, keys case-sensitive,
    # the first of two equal keys, and exactly the six lines that are no object flagged
    # (NaN and a trailing comma are accepted by both readers).
    event_id = columns.index("event_id")
    assert [row[event_id] for row in fast_rows[:5]] == [
        "e1", "7", '{"k":[1,2.5,"a"]}', "e4", None]
    assert sum(row[-1] is not None for row in fast_rows) == 6


def test_a_file_the_json_reader_rejects_is_loaded_line_by_line(tmp_path, monkeypatch):
    # The fast path's query fails the way DuckDB's JSON reader fails on a file (naming it):
    # the loader retries that file on the exact path, in a fresh transaction.
    from dagster_project.ingest import load

    def failing_fast_path(con, file, entity, exact=False):
        sql, columns = relation_sql(con, file, entity, exact)
        if not exact:
            sql = (f"select * replace (case when _source_line = 2 then error('Invalid Input "
                   f"Error: Malformed JSON in file \"{file.path}\"') else _source_line end "
                   f"as _source_line) from ({sql})")
        return sql, columns

    monkeypatch.setattr(load, "relation_sql", failing_fast_path)
    (tmp_path / "events.jsonl").write_text('{"event_id": "a"}\n{"event_id": "b"}\n[3]\n')
    with duckdb.connect() as con:
        result = load.load_entity(con, tmp_path, "events", "t")
        assert (result.rows, result.parse_errors) == (3, 1)
        assert con.execute("select event_id, _source_line from raw.events order by 2"
                           ).fetchall() == [("a", 1), ("b", 2), (None, 3)]
