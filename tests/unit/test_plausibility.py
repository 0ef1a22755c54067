"""Plausibility bounds: one value in dbt and Python, and the raw GX suites count the rules."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from contract import PLAUSIBILITY
from dagster_project.ingest.load import load_entity
from expectations.runner import run_suites
from expectations.suites import raw_suite
from tests.conftest import write

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt" / "dbt_project.yml"
HEADER = "order_id,customer_id,ordered_at,status,currency,subtotal_amount,total_amount"


def test_the_dbt_vars_and_the_python_bounds_agree():
    dbt_vars = yaml.safe_load(DBT_PROJECT.read_text())["vars"]
    assert {name: dbt_vars[name] for name in PLAUSIBILITY} == PLAUSIBILITY


def failed_rules(tmp_path, entity: str, header: str, rows: list[str]) -> set[str]:
    write(tmp_path / f"{entity}.csv", "\n".join([header, *rows]))
    with duckdb.connect() as con:
        load_entity(con, tmp_path, entity, "t")
        suite = raw_suite(entity, quarantine_limit=0.05, freshness_days=100_000,
                          base_currency="USD", rated_currencies=[], quarantine_min_rows=10,
                          row_count=len(rows))
        [result] = run_suites(con, [suite])
    return {o.rule for o in result.failed if o.severity == "error"}


@pytest.mark.parametrize(("bad", "rule"), [
    ("o{n},c1,9999-12-31T00:00:00Z,paid,USD,10,10", "ordered_at between 1990-01-01 and 2 days"
                                                    " after the load"),
    ("o{n},c1,1900-01-01T00:00:00Z,paid,USD,10,10", "ordered_at between 1990-01-01 and 2 days"
                                                    " after the load"),
    ("o{n},c1,2026-01-01T00:00:00Z,paid,USD,10,99999999999999", "|total_amount| < 1e+12"),
    ("o{n},c1,2026-01-01T00:00:00Z,paid,USD,10,-5", "total_amount within [0, ]"),
])
def test_a_mostly_implausible_export_blocks_and_a_few_bad_rows_do_not(tmp_path, bad, rule):
    good = [f"g{n},c1,2026-01-01T00:00:00Z,paid,USD,10,10" for n in range(40)]
    # 30 of 40 rows implausible: over 5% and over 10 rows.
    assert rule in failed_rules(tmp_path, "orders", HEADER,
                                good[:10] + [bad.format(n=n) for n in range(30)])
    # 2 of 40: within the 10-row floor, left to the quarantine.
    assert failed_rules(tmp_path, "orders", HEADER,
                        good[:38] + [bad.format(n=n) for n in range(2)]) == set()


def test_fractional_and_huge_quantities_block_in_bulk(tmp_path):
    header = "order_id,line_number,product_id,quantity,unit_price"
    rows = [f"o{n},1,P1,{q},10" for n, q in enumerate(["1.5", "9223372036854775807", "0"] * 10)]
    assert "quantity a whole number in [1, 1000000]" in failed_rules(
        tmp_path, "order_items", header, rows + ["o99,1,P1,2,10"])
