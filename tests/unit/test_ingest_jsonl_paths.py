"""JSON Lines, read once: every line shape gives the raw row, line number and parse error
computed by hand, and the values DuckDB's own JSON reader gives for the same file."""

from __future__ import annotations

import duckdb
import pytest

from contract import ENTITIES
from dagster_project.ingest.files import DropFile, relation_sql
from dagster_project.ingest.load import DropError, load_entity

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
NOT_OBJECTS = {7, 8, 9, 10, 11, 12}  # line numbers of the lines above that are no object


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(f"select * from ({sql}) order by _source_line").fetchall()


def test_every_line_shape_reads_as_computed_by_hand_and_as_the_json_reader(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    with duckdb.connect() as con:
        sql, columns = relation_sql(con, DropFile(path, "events", "jsonl"), ENTITIES["events"])
        got = _rows(con, sql)
        # The second method: DuckDB's JSON reader over the whole file (one row per line here,
        # as the file has no blank line; all NULL for a line it cannot read).
        keys = ", ".join(f"'{c}': 'VARCHAR'" for c in ENTITIES["events"].columns)
        reader = con.execute(f"select * from read_json('{path}', format = 'newline_delimited', "
                             f"records = true, columns = {{{keys}}}, ignore_errors = true)"
                             ).fetchall()
    assert columns == [*ENTITIES["events"].columns, "_raw_json"]
    width = len(ENTITIES["events"].columns)
    assert [row[:width] for row in got] == reader
    assert [row[width] for row in got] == LINES  # each line as read
    assert [row[width + 1] for row in got] == list(range(1, len(LINES) + 1))
    assert {row[width + 1] for row in got if row[-1] is not None} == NOT_OBJECTS
    assert got[7][-1] == "malformed record: not a JSON object ([1, 2])"
    # By hand: numbers and nested values as JSON text, keys case-sensitive, the first of two
    # equal keys, an empty string kept (the loader makes it NULL), NaN and a trailing comma
    # accepted, a line that is no object without values.
    pick = ["event_id", "occurred_at", "event_type", "customer_id", "device", "search_query",
            "page_url"]
    index = [columns.index(c) for c in pick]
    assert [tuple(row[i] for i in index) for row in got] == [
        ("e1", "2026-01-01T10:00:00Z", "page_view", None, None, None, None),
        ("7", "1.5", "true", "0", "100.0", None, None),
        ('{"k":[1,2.5,"a"]}', None, None, None, None, None, '/x\u00e9"y'),
        ("e4", None, None, None, None, "", None),
        *[(None,) * 7] * 8,
        ("e14", None, None, None, "ios", None, None),
        ("e15", "NaN", None, None, None, None, None),
    ]


def test_blank_lines_crlf_and_a_bom_keep_physical_line_numbers(tmp_path):
    # events-1: CRLF, a BOM, an empty line, a line of spaces (no records), a line holding a
    # tab (a record that is no object), an array. events-2: LF, an empty first line, a
    # repeated key, an extra key and no newline at the end.
    (tmp_path / "events-1.jsonl").write_bytes(
        b'\xef\xbb\xbf{"event_id": "a", "device": "ios"}\r\n\r\n   \r\n{"event_id": "b"}\r\n'
        b"\t\r\n[1]\r\n")
    (tmp_path / "events-2.jsonl").write_bytes(
        b'\n{"event_id": "c", "event_id": "d", "x": 1}\n\n{"event_id": "e"}')
    with duckdb.connect() as con:
        result = load_entity(con, tmp_path, "events", "t")
        assert (result.rows, result.parse_errors) == (6, 2)
        assert result.files == {"events-1.jsonl": 4, "events-2.jsonl": 2}
        assert con.execute(
            "select _source_file, _source_line, event_id, device, _raw_json, _parse_error "
            "from raw.events order by 1, 2").fetchall() == [
            ("events-1.jsonl", 1, "a", "ios", '{"event_id": "a", "device": "ios"}', None),
            ("events-1.jsonl", 4, "b", None, '{"event_id": "b"}', None),
            ("events-1.jsonl", 5, None, None, "\t", "malformed record: not a JSON object (\t)"),
            ("events-1.jsonl", 6, None, None, "[1]", "malformed record: not a JSON object ([1])"),
            ("events-2.jsonl", 2, "c", None, '{"event_id": "c", "event_id": "d", "x": 1}', None),
            ("events-2.jsonl", 4, "e", None, '{"event_id": "e"}', None),
        ]
        assert con.execute("select source_file, row_count, parse_error_count from raw._load_log"
                           " order by 1").fetchall() == [("events-1.jsonl", 4, 2),
                                                         ("events-2.jsonl", 2, 0)]


def test_a_line_over_two_megabytes_loads(tmp_path):
    long = "x" * 3_000_000  # over DuckDB's default line limit of 2 MB
    (tmp_path / "events.jsonl").write_text(
        f'{{"event_id": "a", "search_query": "{long}"}}\n{{"event_id": "b"}}\n')
    with duckdb.connect() as con:
        load_entity(con, tmp_path, "events", "t")
        assert con.execute("select event_id, length(search_query), length(_raw_json), "
                           "_source_line from raw.events order by 4").fetchall() == [
            ("a", 3_000_000, 35 + 3_000_000 + 2, 1), ("b", None, 17, 2)]


def test_a_bad_utf8_byte_fails_naming_the_file_and_line_and_loads_nothing(tmp_path):
    (tmp_path / "events-1.jsonl").write_text('{"event_id": "a"}\n')
    (tmp_path / "events-2.jsonl").write_bytes(b'{"event_id": "b"}\n{"event_id": "c\xff"}\n')
    with duckdb.connect() as con:
        with pytest.raises(DropError, match=(
                r"^\S*events-2\.jsonl: cannot be read as jsonl: Invalid Input Error: CSV Error "
                r"on Line: 2; Invalid unicode")) as exc:
            load_entity(con, tmp_path, "events", "t")
        assert "\n" not in str(exc.value) and "events-1" not in str(exc.value)
        assert con.execute("select count(*) from information_schema.tables where "
                           "table_schema = 'raw' and table_name = 'events'").fetchone() == (0,)


def test_raw_json_is_stored_with_zstd(tmp_path):
    # `_raw_json` is never read downstream: zstd writes it faster and smaller than the default.
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "events.jsonl").write_text(
        "".join(f'{{"event_id": "e{i}", "page_url": "/p/{i}"}}\n' for i in range(3000)))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load_entity(con, tmp_path / "drop", "events", "t")
        con.execute("checkpoint")
        assert con.execute("select distinct compression from pragma_storage_info('raw.events') "
                           "where column_name = '_raw_json' and segment_type = 'VARCHAR'"
                           ).fetchall() == [("ZSTD",)]
        assert con.execute("select count(*), count(distinct _raw_json) from raw.events"
                           ).fetchone() == (3000, 3000)


def test_a_new_jsonl_file_is_appended_to_the_events_already_loaded(tmp_path):
    (tmp_path / "events-1.jsonl").write_text('{"event_id": "a"}\n\n{"event_id": "b"}\n')
    with duckdb.connect() as con:
        load_entity(con, tmp_path, "events", "load-1")
        (tmp_path / "events-2.jsonl").write_text('[2]\n{"event_id": "c", "device": "ios"}\n')
        grown = load_entity(con, tmp_path, "events", "load-2")
        assert grown.read_files == ["events-2.jsonl"] and grown.rows == 4
        assert con.execute("select _source_file, _source_line, event_id, device, _raw_json, "
                           "_parse_error is not null, _load_id from raw.events order by 1, 2"
                           ).fetchall() == [
            ("events-1.jsonl", 1, "a", None, '{"event_id": "a"}', False, "load-1"),
            ("events-1.jsonl", 3, "b", None, '{"event_id": "b"}', False, "load-1"),
            ("events-2.jsonl", 1, None, None, "[2]", True, "load-2"),
            ("events-2.jsonl", 2, "c", "ios", '{"event_id": "c", "device": "ios"}', False,
             "load-2"),
        ]
