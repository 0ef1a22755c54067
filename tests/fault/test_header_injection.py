"""A crafted CSV header must never reach SQL: the load fails naming the file and header."""

from __future__ import annotations

import pytest

from tests.conftest import write, write_required_entities
from tests.fault.conftest import build, error_lines

pytestmark = pytest.mark.xdist_group("fault")


def test_a_header_that_injects_sql_writes_nothing_and_fails_naming_file_and_header(tmp_path):
    target = tmp_path / "pwned.csv"
    # Closes the quoted identifier of the old select list and stacks a COPY statement.
    header = f"is_paid\" from (select 1); copy (select 42) to '{target}'; select \"x"
    drop = tmp_path / "drop"
    write_required_entities(drop)
    write(drop / "channels.csv", "channel_id,channel_name,channel_type,\"" + header.replace(
        '"', '""') + "\"\nCH1,Search ads,paid_search,true\n")
    result = build(drop, tmp_path / "wh.duckdb")
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert not target.exists()
    lines = [line for line in error_lines(result) if "channels.csv" in line]
    assert lines, result.stderr[-2000:]
    assert any("line 1: header" in line and "copy (select 42)" in line
               and "is not a safe column name" in line for line in lines), lines


def test_a_header_named_like_a_loader_column_fails_instead_of_overwriting_lineage(tmp_path):
    drop = tmp_path / "drop"
    write_required_entities(drop)
    write(drop / "channels.csv", "channel_id,channel_name,channel_type,_source_line\n"
                                 "CH1,Search ads,paid_search,999\n")
    result = build(drop, tmp_path / "wh.duckdb")
    assert result.returncode == 1
    assert any("channels.csv: line 1: header '_source_line' (column 4) is reserved" in line
               for line in error_lines(result)), result.stderr[-2000:]
