"""The serving copy's update of a table dbt rebuilt whole by its changed rows
(dagster_project/serving/publish.py `_sync_rows`), on two small attached databases."""

import duckdb
import pytest

from dagster_project.serving.publish import _sync_rows


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("attach ':memory:' as live")
    con.execute("attach ':memory:' as serving")
    for database in ("live", "serving"):
        con.execute(f"create schema {database}.marts")
    yield con
    con.close()


def _fill(con, database: str, rows: list[tuple]) -> None:
    con.execute(f"create table {database}.marts.orders (order_id varchar, revenue double, "
                f"tags varchar[])")
    con.executemany(f"insert into {database}.marts.orders values (?, ?, ?)", rows)


def _rows(con, database: str) -> list[tuple]:
    return con.execute(f"select * from {database}.marts.orders order by order_id").fetchall()


COLUMNS = ["order_id", "revenue", "tags"]
OLD = [(f"o{n:02}", float(n), ["a"]) for n in range(1, 41)]  # 40 orders


def test_changed_removed_and_new_rows_are_applied_and_the_rest_kept(con):
    # The new day: o03's revenue corrected, o07 gone, o21 added, a null in o05's tags.
    new = [row for row in OLD if row[0] not in ("o03", "o05", "o07")]
    new += [("o03", 30.0, ["a"]), ("o05", 5.0, None), ("o21", 21.0, ["b", "c"])]
    _fill(con, "live", new)
    _fill(con, "serving", OLD)
    assert _sync_rows(con, '"marts"."orders"', COLUMNS)
    assert _rows(con, "serving") == _rows(con, "live")
    assert len(_rows(con, "serving")) == 40  # 40 - 1 + 1
    assert ("o03", 30.0, ["a"]) in _rows(con, "serving")
    assert ("o03", 3.0, ["a"]) not in _rows(con, "serving")


def test_repeated_rows_are_left_to_a_whole_copy(con):
    _fill(con, "live", [*OLD, OLD[0]])  # o01 twice: a set of hashes cannot count it
    _fill(con, "serving", OLD)
    assert not _sync_rows(con, '"marts"."orders"', COLUMNS)
    assert _rows(con, "serving") == sorted(OLD)  # untouched


def test_a_table_changed_in_more_than_a_quarter_of_its_rows_is_left_to_a_whole_copy(con):
    # 40 rows, 6 changed: 6 rows gone plus 6 new ones = 12 changed hashes, over 10 (25%).
    new = [(order, revenue + 100 if n < 6 else revenue, tags)
           for n, (order, revenue, tags) in enumerate(OLD)]
    _fill(con, "live", new)
    _fill(con, "serving", OLD)
    assert not _sync_rows(con, '"marts"."orders"', COLUMNS)
    assert _rows(con, "serving") == sorted(OLD)
    # Two changed rows (4 hashes, under 10) are applied.
    con.execute("drop table live.marts.orders")
    _fill(con, "live", [new[0], new[1], *OLD[2:]])
    assert _sync_rows(con, '"marts"."orders"', COLUMNS)
    assert _rows(con, "serving") == _rows(con, "live")
