"""Shared fixtures: hand-made drops with hand-computed answers, and a pipeline runner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from dagster_project.ingest.assets import raw_exports
from dagster_project.quality.checks import published_table_checks, raw_contract_checks
from dagster_project.resources import ShopSettings, WarehouseResource
from dagster_project.transform.assets import dbt_resource, shop_dbt_models


def write(path: Path, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    """Write a drop file byte for byte (BOM and line ends are part of what is tested)."""
    body = text.strip("\n") + "\n"
    if crlf:
        body = body.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8"))
    return path


def write_required_entities(drop: Path) -> None:
    """The four required entities of the tiny shop. Answers are worked out in
    tests/integration/test_tiny_drop.py next to each assertion."""
    drop.mkdir(parents=True, exist_ok=True)
    write(drop / "customers.csv", """
customer_id,email,signup_at,acquisition_channel_id,marketing_opt_in,country
00001,a@example.com,2026-01-01T00:00:00Z,CH1,true,US
00002,b@example.com,2026-01-05T08:00:00+08:00,,false,CN
00003,c@example.com,2026-01-10 00:00:00,CH2,true,US
""", bom=True, crlf=True)
    write(drop / "products.csv", """
product_id,product_name,category,list_price,currency
P1,蓝牙耳机,Electronics,100,USD
P2,"Green tea
(loose leaf)",Food,10.00,USD
""")
    write(drop / "orders-0001.csv", """
order_id,customer_id,ordered_at,status,currency,subtotal_amount,discount_amount,shipping_amount,tax_amount,total_amount,channel_id,updated_at
o1,00001,2026-01-02T10:00:00Z,delivered,USD,100,10,5,0,95,CH1,2026-01-05T00:00:00Z
o2,00001,2026-01-20T10:00:00Z,cancelled,USD,50,0,0,0,50,CH1,2026-01-21T00:00:00Z
o3,00001,2026-02-03T10:00:00Z,paid,USD,"1,299.00",99,0,0,1200,CH2,2026-02-03T10:00:00Z
o4,00002,2026-01-15T01:00:00+08:00,delivered,CNY,1000,100,0,0,900,CH2,2026-01-16T00:00:00Z
o5,00002,2026-02-10T00:00:00Z,delivered,CNY,200,0,0,0,200,CH2,2026-02-11T00:00:00Z
o6,00003,yesterday,delivered,USD,10,0,0,0,10,CH2,
o7,00003,2026-01-12T00:00:00Z,delivered,KRW,5000,0,0,0,5000,CH2,
""")
    write(drop / "orders-0002.csv", """
order_id,customer_id,ordered_at,status,currency,subtotal_amount,discount_amount,shipping_amount,tax_amount,total_amount,channel_id,updated_at
o3,00001,2026-02-03T10:00:00Z,delivered,USD,"1,299.00",99,0,0,1200,CH2,2026-02-06T00:00:00Z
o1,00001,2026-01-02T10:00:00Z,paid,USD,100,10,5,0,95,CH1,2026-01-02T10:05:00Z
o9,99999,2026-02-15T12:00:00Z,delivered,USD,40,0,0,0,40,CH1,
o5,00002,2026-02-10T00:00:00Z,delivered,CNY,200,0,0,0,200,CH2,2026-02-11T00:00:00Z
""")
    write(drop / "order_items.csv", """
order_id,line_number,product_id,quantity,unit_price,discount_amount
o1,1,P1,1,100,10
o3,1,P1,1,"1,299.00",99
o4,1,P2,10,100,100
o4,2,P2,-1,100,0
o5,1,P2,2,100,0
""")


def write_tiny_drop(drop: Path) -> None:
    """Required entities plus channels, fx rates and a few events (JSON Lines)."""
    write_required_entities(drop)
    write(drop / "channels.csv", """
channel_id,channel_name,channel_type,is_paid
CH1,Search ads,paid_search,true
CH2,Newsletter,email,false
""")
    write(drop / "fx_rates.csv", """
rate_date,currency,rate_to_base
2026-01-01,CNY,0.14
2026-02-01,CNY,0.15
""")
    write(drop / "events.jsonl", """
{"event_id": "e1", "occurred_at": "2026-01-02T09:50:00Z", "event_type": "page_view", "customer_id": "00001", "channel_id": "CH1", "app_version": "5.1"}
{"event_id": "e2", "occurred_at": "2026-01-02T09:55:00Z", "event_type": "product_view", "customer_id": "00001", "product_id": "P1"}
{"event_id": "e3", "occurred_at": "2026-01-02T10:00:00Z", "event_type": "purchase", "customer_id": "00001", "order_id": "o1"}
{"event_id": "e4", "occurred_at": "2026-01-02T11:00:00Z", "event_type": "page_view", "customer_id": "00001"}
{"event_id": "e5", "occurred_at":
""")


def run_pipeline(drop: Path, warehouse: Path, **shop):
    """Materialise the ingest and dbt assets with their checks, in-process, in tmp_path.

    Hand-made drops are tiny: one bad row is 10% of an entity, so tests of the transform
    pass a quarantine_limit that lets those rows through to quarantine.
    """
    return materialize(
        [raw_exports, shop_dbt_models, raw_contract_checks, published_table_checks],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "shop": ShopSettings(drop_dir=str(drop), **shop),
            "dbt": dbt_resource(),
        },
        raise_on_error=False,
    )


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_tiny_drop(root / "drop")
    result = run_pipeline(root / "drop", root / "wh.duckdb", quarantine_limit=0.5)
    assert result.success, "pipeline failed on the tiny drop"
    return root / "wh.duckdb"


@pytest.fixture(scope="session")
def duckdb_1x_python(tmp_path_factory) -> Path:
    """A throwaway environment with the DuckDB 1.4 client BI drivers bundle (made by uv)."""
    uv = Path(sys.executable).with_name("uv")
    uv = str(uv) if uv.exists() else shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to make a DuckDB 1.4 client environment; run make dbt-parse")
    env = tmp_path_factory.mktemp("duckdb14") / "venv"
    for command in ([uv, "venv", "--quiet", "--python", sys.executable, str(env)],
                    [uv, "pip", "install", "--quiet", "--python", str(env / "bin" / "python"),
                     "duckdb==1.4.*"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.fail(f"could not install duckdb==1.4.* with uv (is PyPI reachable?): {reason}")
    return env / "bin" / "python"


READ_EVERY_TABLE = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
counts = {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
          for s, t in tables}
for s, t in tables:
    con.execute(f'select * from "{s}"."{t}"').fetchall()  # every value decodes
print(json.dumps({"version": duckdb.__version__, "counts": counts}))
"""
