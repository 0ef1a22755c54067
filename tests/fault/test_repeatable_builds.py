"""Two fresh builds of one drop give byte-identical marts (no DOUBLE sums, no reader drift).

The drop is generated (scale 0.005, seed 3): dirty rows, versions, exact duplicates and a
multi-line CSV field, so both CSV readers and every quarantine path take part.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from contract.sql import identifier
from tests.conftest import query
from tests.fault.conftest import ROOT, build

pytestmark = pytest.mark.xdist_group("fault")


def mart_hashes(warehouse) -> dict[str, tuple]:
    """Row count and md5 of every marts table's rows, in a fixed order."""
    tables = [row[0] for row in query(warehouse, "select table_name from information_schema.tables"
                                                 " where table_schema = 'marts' order by 1")]
    row_text = "cast(t as varchar)"
    digest = f"md5(coalesce(string_agg({row_text}, '|' order by {row_text}), ''))"
    return {table: query(warehouse, f"select count(*), {digest} "
                                    f"from marts.{identifier(table)} t")[0]
            for table in tables}


def test_two_fresh_builds_of_one_drop_give_identical_marts(tmp_path):
    drop = tmp_path / "drop"
    subprocess.run([sys.executable, "-m", "sample_data", "--scale", "0.005",
                    "--seed", "3", "--out", str(drop)], cwd=ROOT, check=True,
                   capture_output=True, timeout=600)
    hashes = []
    for name in ("first", "second"):
        # One pseudonym key for both (each warehouse would otherwise make its own, and
        # dim_customers.email_pseudonym is keyed): same drop, same settings, same marts.
        key = tmp_path / f"{name}.state" / "pseudonym.key"
        key.parent.mkdir(mode=0o700)
        key.write_text("0123456789abcdef" * 4)
        key.chmod(0o600)
        result = build(drop, tmp_path / f"{name}.duckdb")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        hashes.append(mart_hashes(tmp_path / f"{name}.duckdb"))
    first, second = hashes
    assert len(first) > 20 and first["fct_order_attribution"][0] > 0
    assert {t for t in first if first[t] != second.get(t)} == set()
