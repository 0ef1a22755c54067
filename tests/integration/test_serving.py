"""The serving copy: what BI tools read, published last by a build and swapped in by rename.

Built on the tiny drop of tests/conftest.py (answers worked out in test_tiny_drop.py). The
copy is opened by a real DuckDB 1.4 client in its own environment, by SQLAlchemy +
duckdb-engine, and by a reader process that holds it open through a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
import yaml
from dagster import AssetCheckSeverity, materialize

from contract import ENTITIES
from dagster_project.ingest.assets import raw_exports
from dagster_project.quality.checks import published_table_checks, raw_contract_checks
from dagster_project.resources import (
    ShopSettings,
    WarehouseLockedError,
    WarehouseResource,
)
from dagster_project.serving.assets import serving_copy
from dagster_project.serving.publish import ServingError, publish
from dagster_project.settings import PROJECT_ROOT
from dagster_project.transform.assets import dbt_resource, shop_dbt_models
from tests.conftest import READ_EVERY_TABLE, query, write, write_tiny_drop

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serving")]

# Orders of the tiny drop after deduplication and versions: o1..o7 and o9 less the
# quarantined o6 (unparsable time) and o7 (KRW has no rate) = o1, o2, o3, o4, o5, o9.
TINY_ORDERS = 6


def build(drop: Path, warehouse: Path, serving: Path):
    """Load, checks, dbt build and the serving copy, in-process, like `build_warehouse`."""
    return materialize(
        [raw_exports, shop_dbt_models, raw_contract_checks, published_table_checks,
         serving_copy()],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse), serving_path=str(serving)),
            "shop": ShopSettings(drop_dir=str(drop), quarantine_limit=0.5),
            "dbt": dbt_resource(),
        },
        raise_on_error=False,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    drop, warehouse, serving = root / "drop", root / "wh.duckdb", root / "bi" / "wh.duckdb"
    write_tiny_drop(drop)
    result = build(drop, warehouse, serving)
    assert result.success, "pipeline failed on the tiny drop"
    return drop, warehouse, serving


def test_a_duckdb_1_4_client_reads_every_table_with_the_live_row_counts(served,
                                                                       duckdb_1x_python):
    _, warehouse, serving = served
    done = subprocess.run([str(duckdb_1x_python), "-c", READ_EVERY_TABLE, str(serving)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["version"].startswith("1.4.")
    live = {f"{s}.{t}": query(warehouse, f'select count(*) from "{s}"."{t}"')[0][0]
            for s, t in query(warehouse, """
                select schema_name, table_name from duckdb_tables()
                where schema_name in ('marts', 'ml')
                   or (schema_name = 'audit' and table_name = 'load_reconciliation')""")}
    checks = query(warehouse, """
        select count(*) from (select distinct asset_key, suite, expectation, column_name, rule
                              from audit.dq_results)""")[0][0]
    assert len(live) >= 30  # every mart of the tiny drop
    assert seen["counts"] == {**live, "audit.dq_results_latest": checks,
                              "audit.serving_copy": 1}
    assert seen["counts"]["marts.fct_orders"] == TINY_ORDERS


def test_the_copy_says_where_it_came_from(served):
    drop, warehouse, serving = served
    (about,) = query(serving, """
        select warehouse_path, drop_dir, drop_file_count, storage_version, table_count,
               published_at > now()::timestamp - interval 1 hour
        from audit.serving_copy""")
    tables = query(serving, "select count(*) from duckdb_tables()")[0][0]
    # customers, products, orders-0001, orders-0002, order_items, channels, fx_rates, events
    assert about == (str(warehouse), str(drop), 8, "v1.1.0", tables, True)
    # Only the newest result of each expectation: a suite checks not-null on many columns.
    latest = query(serving, """
        select count(*), count(distinct (asset_key, suite, expectation, column_name, rule)),
               count(*) filter (where suite = 'raw_orders'
                                  and expectation = 'expect_column_values_to_not_be_null')
        from audit.dq_results_latest""")[0]
    assert latest[0] == latest[1] > 0
    assert latest[2] == len(ENTITIES["orders"].required)


def test_no_hugeint_or_wide_decimal_in_marts_ml_or_the_copy(served):
    _, warehouse, serving = served
    wide = """
        select schema_name || '.' || table_name || '.' || column_name || ' ' || data_type
        from duckdb_columns()
        where (data_type in ('HUGEINT', 'UHUGEINT')
               or (data_type like 'DECIMAL%' and numeric_precision > 18))"""
    assert query(warehouse, wide + " and schema_name in ('marts', 'ml')") == []
    assert query(serving, wide) == []
    types = dict(((t, c), d) for t, c, d in query(serving, """
        select table_name, column_name, data_type from duckdb_columns()
        where schema_name = 'marts'"""))
    assert types["fct_orders", "net_revenue_amount"] == "DECIMAL(18,2)"
    assert types["fct_order_items", "unit_price_amount"] == "DECIMAL(18,4)"
    assert types["fct_orders", "unit_count"] == "BIGINT"
    assert types["channels", "return_on_ad_spend"] == "DOUBLE"
    assert types["fct_orders", "ordered_at"] == "TIMESTAMP"
    assert types["fct_orders", "order_date"] == "DATE"
    # o4: 10 x 100 CNY less 100 discount = 900 CNY at 0.14 (January rate) = 126.00 USD
    assert query(serving, "select net_revenue_amount from marts.fct_orders "
                          "where order_id = 'o4'")[0][0] == pytest.approx(126)


def _dbt_descriptions() -> dict[tuple[str, str], str]:
    """Column descriptions as written in the marts' YAML (not via dbt's manifest)."""
    found = {}
    for path in (PROJECT_ROOT / "dbt" / "models" / "marts").rglob("_*__models.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            for column in model.get("columns", []):
                found[model["name"], column["name"]] = column.get("description", "")
    return found


def test_every_table_and_column_of_the_copy_carries_its_description(served):
    _, _, serving = served
    assert query(serving, """select schema_name || '.' || table_name from duckdb_tables()
                             where not internal and coalesce(comment, '') = ''""") == []
    assert query(serving, """
        select schema_name || '.' || table_name || '.' || column_name from duckdb_columns()
        where not internal and coalesce(comment, '') = ''""") == []
    comments = {(t, c): d for t, c, d in query(serving, """
        select table_name, column_name, comment from duckdb_columns()
        where schema_name = 'marts'""")}
    plain = {key: text for key, text in _dbt_descriptions().items() if "{{" not in text}
    assert len(plain) > 100
    for key, text in plain.items():
        assert comments[key].strip() == text.strip(), key


def test_sqlalchemy_with_duckdb_engine_lists_tables_columns_and_comments(served):
    _, _, serving = served
    engine = sa.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True})
    try:
        inspector = sa.inspect(engine)
        assert "fct_orders" in inspector.get_table_names(schema="marts")
        assert "load_reconciliation" in inspector.get_table_names(schema="audit")
        columns = {c["name"]: c for c in inspector.get_columns("fct_orders", schema="marts")}
        assert str(columns["net_revenue_amount"]["type"]) == "NUMERIC(18, 2)"
        assert columns["order_id"]["comment"] == _dbt_descriptions()["fct_orders", "order_id"]
        assert inspector.get_table_comment("fct_orders", schema="marts")["text"].startswith(
            "One row per order")
        with engine.connect() as con:
            assert con.execute(sa.text("select count(*) from marts.fct_orders")).scalar() == \
                TINY_ORDERS
    finally:
        engine.dispose()


HOLD_OPEN = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: con.execute("select count(*), sum(net_revenue_amount) "
                            "from marts.orders").fetchone()
print(*count(), flush=True)
sys.stdin.readline()  # hold the copy open until the test has rebuilt
print(*count(), flush=True)
"""


def test_a_reader_holding_the_old_copy_neither_fails_nor_blocks_a_rebuild(tmp_path):
    drop, warehouse, serving = tmp_path / "drop", tmp_path / "wh.duckdb", tmp_path / "bi.duckdb"
    write_tiny_drop(drop)
    assert build(drop, warehouse, serving).success
    reader = subprocess.Popen([sys.executable, "-c", HOLD_OPEN, str(serving)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        before = reader.stdout.readline().split()
        assert before[0] == str(TINY_ORDERS)
        write(drop / "orders-0003.csv", """
order_id,customer_id,ordered_at,status,currency,subtotal_amount,discount_amount,shipping_amount,tax_amount,total_amount,channel_id,updated_at
o10,00003,2026-02-20T10:00:00Z,delivered,USD,30,0,0,0,30,CH2,
o11,00003,2026-02-21T10:00:00Z,delivered,USD,40,0,0,0,40,CH2,
""")
        started = time.perf_counter()
        rebuilt = build(drop, warehouse, serving)
        assert rebuilt.success  # the open reader did not break the build
        assert time.perf_counter() - started < 600
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().split() == before  # a consistent old snapshot
        assert reader.wait(timeout=60) == 0
    finally:
        reader.kill()
    with duckdb.connect(str(serving), read_only=True) as con:  # a new reader: the new copy
        assert con.execute("select count(*) from marts.orders").fetchone()[0] == TINY_ORDERS + 2
    # No temporary file is left beside the copy (wh.state holds the warehouse's own state).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.duckdb", "drop", "wh.duckdb",
                                                          "wh.state"]


def test_a_failed_build_leaves_the_previous_copy_byte_identical(tmp_path):
    drop, warehouse, serving = tmp_path / "drop", tmp_path / "wh.duckdb", tmp_path / "bi.duckdb"
    write_tiny_drop(drop)
    assert build(drop, warehouse, serving).success
    published = digest(serving)
    # 20 more orders with an unknown status: 20 of 31 order rows break the accepted values,
    # above the tiny drop's 50% limit, so the blocking raw check fails and neither dbt nor
    # the copy runs.
    write(drop / "orders-0003.csv", "order_id,customer_id,ordered_at,status,currency,"
          "subtotal_amount,discount_amount,shipping_amount,tax_amount,total_amount,"
          "channel_id,updated_at\n" + "\n".join(
              f"x{i},00001,2026-02-20T00:00:00Z,lost,USD,1,0,0,0,1,CH1," for i in range(20)))
    failed = build(drop, warehouse, serving)
    assert not failed.success
    assert digest(serving) == published
    assert not list(tmp_path.glob(".bi.duckdb*"))  # no half-written copy left behind
    failed_checks = [e for e in failed.get_asset_check_evaluations()
                     if not e.passed and e.severity == AssetCheckSeverity.ERROR]
    assert [e.asset_key.to_user_string() for e in failed_checks] == ["raw/orders"]


def test_two_warehouses_never_share_one_copy(tmp_path):
    for name in ("a", "b"):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            con.execute("create schema marts")
            con.execute("create table marts.t as select 1 as x")
    publish(str(tmp_path / "a.duckdb"), str(tmp_path / "bi.duckdb"))
    with pytest.raises(ServingError, match="serving copy of another warehouse"):
        publish(str(tmp_path / "b.duckdb"), str(tmp_path / "bi.duckdb"))
    assert query(tmp_path / "bi.duckdb", "select warehouse_path from audit.serving_copy") == [
        (str(tmp_path / "a.duckdb"),)]


def test_a_tool_holding_the_copy_for_writing_does_not_stop_a_publish(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("create table marts.t as select 1 as x")
    publish(str(tmp_path / "wh.duckdb"), str(tmp_path / "bi.duckdb"))
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITABLE, str(tmp_path / "bi.duckdb")],
                              text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "open"
        with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
            con.execute("insert into marts.t values (2)")
        publish(str(tmp_path / "wh.duckdb"), str(tmp_path / "bi.duckdb"))
    finally:
        holder.kill()
    assert query(tmp_path / "bi.duckdb", "select sum(x) from marts.t") == [(3,)]


HOLD_WRITABLE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])  # not read-only, like DBeaver's default
print("open", flush=True)
sys.stdin.readline()
"""

HOLD_LIVE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.readline()
"""


def test_a_build_meeting_a_held_warehouse_fails_at_once_naming_the_holder(tmp_path):
    warehouse, drop = tmp_path / "wh.duckdb", tmp_path / "drop"
    write_tiny_drop(drop)
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LIVE, str(warehouse)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseLockedError) as raised, \
                WarehouseResource(path=str(warehouse)).connect():
            pass
        message = str(raised.value)
        assert "\n" not in message and f"(PID {holder.pid})" in message
        assert str(tmp_path / "wh.serving.duckdb") in message
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "dagster_project.build", "--drop", str(drop),
             "--warehouse", str(warehouse), "--only", "warehouse"],
            capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert done.returncode == 1
        assert time.perf_counter() - started < 120  # it did not wait for the lock
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and f"(PID {holder.pid})" in lines[0], done.stderr
        assert "serving copy" in lines[0]
    finally:
        holder.kill()
