"""A raw suite whose entity only gained files validates the added rows alone, with the
same outcomes as validating the whole table (issue 18): counts, shares, success against
the tolerated share, samples, row count and freshness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from contract import ENTITIES
from dagster_project import ledger
from dagster_project.quality import checks
from expectations.runner import run_suites
from expectations.suites import raw_suite

COLUMNS = [*ENTITIES["orders"].columns, "_source_file", "_source_line", "_loaded_at"]


def _row(file: str, line: int, day: datetime, **bad) -> dict:
    row = {c: None for c in COLUMNS}
    row.update(order_id=f"{file}-{line}", customer_id=f"C{line}", status="paid",
               currency="USD", subtotal_amount="10.00", total_amount="12.00",
               device="web", ordered_at=day.strftime("%Y-%m-%dT%H:%M:%SZ"),
               _source_file=file, _source_line=line, _loaded_at=datetime.now(UTC))
    row.update(bad)
    return row


def _add_file(con, file: str, rows: list[dict]) -> None:
    con.executemany(f"insert into raw.orders values ({', '.join('?' for _ in COLUMNS)})",
                    [[r[c] for c in COLUMNS] for r in rows])
    files = con.execute("select _source_file, count(*) from raw.orders group by 1").fetchall()
    ledger.record_load(con, "orders", f"load-{file}",
                       [(f"/drop/{name}", name, f"size-{count}", count) for name, count in files],
                       [], 0.0)


def _suite(con):
    rows = con.execute("select count(*) from raw.orders").fetchone()[0]
    return raw_suite("orders", quarantine_limit=0.05, freshness_days=45, base_currency="USD",
                     rated_currencies=["EUR"], quarantine_min_rows=2, row_count=rows), rows


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema raw")
        types = {"_source_line": "bigint", "_loaded_at": "timestamp"}
        columns = ", ".join(f"{c} {types.get(c, 'varchar')}" for c in COLUMNS)
        con.execute(f"create table raw.orders ({columns})")
        yield con


def test_added_rows_alone_give_the_whole_tables_outcomes(con, monkeypatch):
    now = datetime.now(UTC).replace(microsecond=0)
    old_day, new_day = now - timedelta(days=50), now - timedelta(days=3)
    first = [_row("orders-1.csv", n, old_day) for n in range(1, 31)]
    first[4]["status"] = "lost"  # 1 bad status of 30: 3.3%, tolerated
    for n in (6, 8, 10):
        first[n]["device"] = "tv"  # device: 3 old and 3 new bad -> the sample spans both
    first[12]["customer_id"] = None
    _add_file(con, "orders-1.csv", first)
    suite, rows = _suite(con)
    [(result, carried)] = checks.validate_raw(con, [suite], {"orders": rows}, "run-1")
    assert carried is None
    by_column = {o.column: o for o in result.outcomes}
    assert by_column["status__value"].success and by_column["status__value"].unexpected_count == 1
    assert not by_column["ordered_at__age_days"].success  # 50 days old, over 45

    second = [_row("orders-2.csv", n, new_day) for n in range(1, 13)]
    second[0]["status"] = "gone"
    second[1]["status"] = "lost"  # with the old one: 3 of 42 = 7.1% > 5%: fails on the whole
    for n in (2, 3, 4):
        second[n]["device"] = "tv"
    second[5]["currency"] = None
    second[6]["total_amount"] = "-1"
    _add_file(con, "orders-2.csv", second)
    suite, rows = _suite(con)
    whole = run_suites(con, [_suite(con)[0]])[0]  # the reference: the whole table validated

    queries = []
    real = checks.run_suites

    def spy(connection, suites):
        queries.extend(s.query for s in suites)
        return real(connection, suites)

    monkeypatch.setattr(checks, "run_suites", spy)
    [(grown, carried)] = checks.validate_raw(con, [suite], {"orders": rows}, "run-2")
    assert carried is None
    [query] = queries  # GX read the added file's 12 rows alone
    assert con.execute(f"select count(*), min(_source_file), max(_source_file) "
                       f"from ({query})").fetchone() == (12, "orders-2.csv", "orders-2.csv")
    assert grown.outcomes == whole.outcomes
    assert grown.counts == whole.counts

    # Hand-computed anchors of the comparison.
    by_column = {o.column: o for o in grown.outcomes}
    status = by_column["status__value"]
    assert (status.success, status.unexpected_count) == (False, 3)
    assert status.unexpected_percent == 3 / 42 * 100
    device = by_column["device__value"]
    assert device.unexpected_count == 6
    assert [s["_source_file"] for s in device.sample] == ["orders-1.csv"] * 3 + ["orders-2.csv"] * 2
    assert [s["_source_line"] for s in device.sample] == [7, 9, 11, 3, 4]
    assert by_column["currency"].unexpected_count == 1
    assert by_column["customer_id"].unexpected_percent == 1 / 42 * 100
    assert by_column["ordered_at__age_days"].observed_value == "3"
    assert by_column["ordered_at__age_days"].success
    row_count = next(o for o in grown.outcomes if o.expectation.endswith("row_count_to_be_between"))
    assert row_count.observed_value == "42"

    # A third file of older orders: the newest order is still in orders-2.csv, so the
    # freshness comes from the recorded outcome; one more bad status (4 of 45).
    third = [_row("orders-3.csv", n, old_day) for n in range(1, 4)]
    third[0]["status"] = "lost"
    _add_file(con, "orders-3.csv", third)
    suite, rows = _suite(con)
    whole = run_suites(con, [_suite(con)[0]])[0]
    [(grown, _)] = checks.validate_raw(con, [suite], {"orders": rows}, "run-3")
    assert con.execute(f"select distinct _source_file from ({queries[-1]})").fetchall() \
        == [("orders-3.csv",)]
    assert grown.outcomes == whole.outcomes and grown.counts == whole.counts
    by_column = {o.column: o for o in grown.outcomes}
    assert by_column["ordered_at__age_days"].observed_value == "3"
    assert by_column["status__value"].unexpected_percent == 4 / 45 * 100


def test_a_rewritten_file_validates_the_whole_table(con, monkeypatch):
    day = datetime.now(UTC) - timedelta(days=1)
    _add_file(con, "orders-1.csv", [_row("orders-1.csv", n, day) for n in range(1, 6)])
    suite, rows = _suite(con)
    checks.validate_raw(con, [suite], {"orders": rows}, "run-1")
    # orders-1.csv was read again (a new fingerprint), one row changed; orders-2.csv added.
    con.execute("update raw.orders set status = 'lost' where _source_line = 1")
    _add_file(con, "orders-2.csv", [_row("orders-2.csv", n, day) for n in range(1, 3)])
    ledger.record_load(con, "orders", "load-again",
                       [("/drop/orders-1.csv", "orders-1.csv", "rewritten", 5),
                        ("/drop/orders-2.csv", "orders-2.csv", "size-2", 2)], [], 0.0)
    suite, rows = _suite(con)
    queries = []
    real = checks.run_suites
    monkeypatch.setattr(checks, "run_suites", lambda c, suites: queries.extend(
        s.query for s in suites) or real(c, suites))
    [(result, _)] = checks.validate_raw(con, [suite], {"orders": rows}, "run-2")
    assert queries == [suite.query]
    assert result.outcomes == run_suites(con, [_suite(con)[0]])[0].outcomes
