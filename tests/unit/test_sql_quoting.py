"""contract.sql: names and values from files and settings written into SQL come back as
themselves, whatever quotes or SQL they hold."""

import duckdb
import pytest

from contract.sql import identifier, literal, literal_list

HOSTILE = ["plain", "it's", "''", '"quoted"', "a'; drop table t; --", "x\ny", "ü€😀", ""]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_literal_reads_back_as_the_same_text(text):
    con = duckdb.connect()
    assert con.execute(f"select {literal(text)}").fetchone()[0] == text


@pytest.mark.parametrize("name", [n for n in HOSTILE if n])
def test_an_identifier_names_exactly_that_column(name):
    con = duckdb.connect()
    con.execute(f"create table t as select 1 as {identifier(name)}")
    assert [d[0] for d in con.execute("select * from t").description] == [name]


def test_a_literal_list_matches_only_its_members():
    con = duckdb.connect()
    con.execute("create table t (v varchar)")
    con.executemany("insert into t values (?)", [[v] for v in HOSTILE + ["other"]])
    chosen = ["it's", "a'; drop table t; --"]
    rows = con.execute(f"select v from t where v in ({literal_list(chosen)}) order by v")
    assert [r[0] for r in rows.fetchall()] == sorted(chosen)
    assert con.execute("select count(*) from t").fetchone()[0] == len(HOSTILE) + 1
