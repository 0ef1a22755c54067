"""Each file-format edge case of the contract, loaded into an in-memory warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dagster_project.ingest.files import entity_files
from dagster_project.ingest.load import DropError, load_entity
from tests.conftest import write, write_required_entities

CHANNELS = "channel_id,channel_name,channel_type\nCH1,Search,paid_search\nCH2,Mail,email"


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_bom_and_crlf_are_accepted_and_ids_stay_text(tmp_path, con):
    write(tmp_path / "channels.csv", "channel_id,channel_name,channel_type\n007,Mail,email",
          bom=True, crlf=True)
    load_entity(con, tmp_path, "channels", "t")
    assert rows(con, "select channel_id, channel_type, _source_line from raw.channels") == [
        ("007", "email", 2)]


def test_split_files_are_one_table_with_their_own_line_numbers(tmp_path, con):
    write(tmp_path / "channels-0001.csv", CHANNELS)
    write(tmp_path / "channels-0002.csv", "channel_id,channel_name,channel_type\nCH3,Shop,offline")
    result = load_entity(con, tmp_path, "channels", "t")
    assert result.files == {"channels-0001.csv": 2, "channels-0002.csv": 1}
    assert rows(con, "select _source_file, _source_line from raw.channels order by 1, 2") == [
        ("channels-0001.csv", 2), ("channels-0001.csv", 3), ("channels-0002.csv", 2)]


def test_longest_entity_name_owns_a_file(tmp_path):
    write(tmp_path / "campaigns.csv", "campaign_id\n1")
    write(tmp_path / "campaign_members.csv", "campaign_id\n1")
    assert [f.path.name for f in entity_files(tmp_path, "campaigns")] == ["campaigns.csv"]


def test_quoted_thousands_and_multiline_records_keep_exact_lines(tmp_path, con):
    write(tmp_path / "products.csv", 'product_id,product_name,category,list_price,currency\n'
          'P1,"Tea\nGreen",Food,"1,299.00",USD\nP2,Cup,Home,1299,USD')
    load_entity(con, tmp_path, "products", "t")
    assert rows(con, "select product_id, product_name, list_price, _source_line "
                     "from raw.products order by 1") == [
        ("P1", "Tea\nGreen", "1,299.00", 2), ("P2", "Cup", "1299", 4)]


def test_ragged_record_is_kept_with_a_parse_error(tmp_path, con):
    write(tmp_path / "channels.csv", CHANNELS + "\nCH9,broken")
    result = load_entity(con, tmp_path, "channels", "t")
    assert result.rows == 3 and result.parse_errors == 1
    (line, error), = rows(con, "select _source_line, _parse_error from raw.channels "
                               "where _parse_error is not null")
    assert line == 4 and "expected 3 fields, found 2" in error


def test_jsonl_keeps_extra_keys_and_flags_invalid_lines(tmp_path, con):
    write(tmp_path / "events.jsonl",
          '{"event_id": "e1", "occurred_at": "2026-01-01T00:00:00Z", "event_type": "search",'
          ' "search_query": "蓝牙耳机", "sdk": {"v": 2}}\nnot json\n'
          '{"event_id": 7, "occurred_at": "2026-01-01", "event_type": "share"}')
    load_entity(con, tmp_path, "events", "t")
    got = rows(con, "select event_id, search_query, _source_line, _parse_error is not null, "
                    "_raw_json like '%sdk%' from raw.events order by _source_line")
    assert got == [("e1", "蓝牙耳机", 1, False, True), (None, None, 2, True, False),
                   ("7", None, 3, False, False)]


def test_parquet_is_read_as_text_with_row_numbers(tmp_path, con):
    pd.DataFrame({"rate_date": ["2026-01-01", "2026-01-02"], "currency": ["CNY", "CNY"],
                  "rate_to_base": [0.14, 0.15]}).to_parquet(tmp_path / "fx_rates.parquet")
    load_entity(con, tmp_path, "fx_rates", "t")
    assert rows(con, "select rate_to_base, _source_line from raw.fx_rates order by 2") == [
        ("0.14", 1), ("0.15", 2)]


def test_missing_optional_entity_gives_an_empty_table_with_contract_columns(tmp_path, con):
    result = load_entity(con, tmp_path, "reviews", "t")
    assert result.rows == 0
    columns = [r[0] for r in rows(con, "describe raw.reviews")]
    assert columns[:3] == ["review_id", "order_id", "product_id"] and "_source_line" in columns


def test_absent_optional_columns_are_added_empty(tmp_path, con):
    write(tmp_path / "channels.csv", CHANNELS)
    load_entity(con, tmp_path, "channels", "t")
    assert rows(con, "select count(*) from raw.channels where is_paid is null") == [(2,)]


def test_missing_required_column_names_the_file(tmp_path, con):
    write(tmp_path / "channels.csv", "channel_id,channel_name\nCH1,Search")
    with pytest.raises(DropError, match=r"channels\.csv: missing required column\(s\) "
                                        r"channel_type"):
        load_entity(con, tmp_path, "channels", "t")


def test_unsupported_file_type_names_the_file(tmp_path, con):
    (tmp_path / "orders.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(DropError, match=r"orders\.xlsx: unsupported file type"):
        load_entity(con, tmp_path, "orders", "t")


def test_unreadable_parquet_names_the_file(tmp_path, con):
    (tmp_path / "orders.parquet").write_text("this is not parquet")
    with pytest.raises(DropError, match=r"orders\.parquet: cannot be read as parquet"):
        load_entity(con, tmp_path, "orders", "t")


def test_missing_required_entity_fails(tmp_path, con):
    with pytest.raises(DropError, match="no file for required entity 'orders'"):
        load_entity(con, tmp_path, "orders", "t")


def test_rows_are_counted_per_file_in_the_load_log(tmp_path, con):
    write_required_entities(tmp_path)
    load_entity(con, tmp_path, "orders", "load-1")
    assert rows(con, "select source_file, row_count from raw._load_log "
                     "where load_id = 'load-1' order by 1") == [
        ("orders-0001.csv", 7), ("orders-0002.csv", 4)]


def test_parse_errors_are_counted_per_file_in_the_load_log(tmp_path, con):
    write(tmp_path / "channels-1.csv", "channel_id,channel_name,channel_type\n"
                                       "CH1,Search,paid_search\nCH2,x,email,extra\n")
    write(tmp_path / "channels-2.csv", "channel_id,channel_name,channel_type\nCH3,Mail,email\n")
    assert load_entity(con, tmp_path, "channels", "load-1").parse_errors == 1
    assert rows(con, "select source_file, row_count, parse_error_count from raw._load_log "
                     "order by 1") == [("channels-1.csv", 2, 1), ("channels-2.csv", 1, 0)]


def test_long_fields_load_on_both_reader_paths(tmp_path, con):
    # Multi-line record: Python's csv path (its default field limit is 128 KB); one-line
    # records: DuckDB's path (its default line limit is 2 MB).
    write(tmp_path / "channels-1.csv", 'channel_id,channel_name,channel_type\n'
          f'CH1,"two\nlines",email\nCH2,{"x" * 150_000},email\n')
    write(tmp_path / "channels-2.csv", 'channel_id,channel_name,channel_type\n'
          f'CH3,{"y" * 3_000_000},email\n')
    load_entity(con, tmp_path, "channels", "t")
    assert rows(con, "select channel_id, length(channel_name), _source_line from raw.channels"
                     " order by 1") == [("CH1", 9, 2), ("CH2", 150_000, 4), ("CH3", 3_000_000, 2)]


@pytest.mark.parametrize(("body", "detail"), [
    # One-line records: DuckDB's message keeps its reason and hint, not the long line.
    ("CH1,Search,email\nCH2,{long},email\n",
     r"Invalid Input Error: CSV Error on Line: 3; Maximum line size of 1000 bytes exceeded"
     r".*; Possible Solution: .*max_line_size="),
    # Short lines, one long multi-line field: Python's csv names the record's first line.
    ('CH1,"two\nlines",email\nCH2,"{lines}",email\n', r"line 4: field larger than field limit"),
])
def test_a_field_over_the_reader_limit_fails_naming_file_line_and_reason(
        tmp_path, con, monkeypatch, body, detail):
    monkeypatch.setattr("dagster_project.ingest.files.MAX_FIELD_BYTES", 1000)
    write(tmp_path / "channels.csv", "channel_id,channel_name,channel_type\n"
          + body.format(long="x" * 5000, lines=("x" * 40 + "\n") * 125))
    with pytest.raises(DropError, match=r"channels\.csv: cannot be read as csv: " + detail) as exc:
        load_entity(con, tmp_path, "channels", "t")
    assert "\n" not in str(exc.value) and "x" * 300 not in str(exc.value)


def test_both_reader_paths_store_an_empty_field_as_null(tmp_path, con):
    # File 1 has a multi-line record (Python path), file 2 does not (DuckDB path).
    write(tmp_path / "channels-1.csv", 'channel_id,channel_name,channel_type,is_paid\n'
          'CH1,"two\nlines",email,\nCH2,Mail,"",\n')
    write(tmp_path / "channels-2.csv", 'channel_id,channel_name,channel_type,is_paid\n'
          'CH2,Mail,"",\n')
    load_entity(con, tmp_path, "channels", "t")
    assert rows(con, "select _source_file, channel_type, is_paid from raw.channels"
                     " where channel_id = 'CH2' order by 1") == [
        ("channels-1.csv", None, None), ("channels-2.csv", None, None)]


@pytest.mark.parametrize(("header", "problem"), [
    ('channel_id,"x"" as varchar); copy (select 42) to \'/tmp/p\'; --",channel_name,channel_type',
     "is not a safe column name"),
    ("channel_id,channel_name,channel_type,_source_line", "is reserved"),
    ("channel_id,channel_name,channel_type,Channel_ID", "repeats column 'channel_id'"),
    ("channel_id,,channel_name,channel_type", "is not a safe column name"),
])
def test_unsafe_reserved_and_repeated_headers_fail_naming_file_and_header(
        tmp_path, con, header, problem):
    width = header.count(",") + 1 - header.count('""')
    write(tmp_path / "channels.csv", header + "\n" + ",".join(["v"] * width))
    with pytest.raises(DropError, match=r"channels\.csv: line 1: header .*" + problem):
        load_entity(con, tmp_path, "channels", "t")


def test_unsafe_parquet_column_names_fail_naming_the_file(tmp_path, con):
    frame = pd.DataFrame({"channel_id": ["CH1"], "channel_name": ["a"], "channel_type": ["email"],
                          "x\"); drop table raw._files; --": ["1"]})
    frame.to_parquet(tmp_path / "channels.parquet")
    with pytest.raises(DropError, match=r"channels\.parquet: line 1: header .*not a safe"):
        load_entity(con, tmp_path, "channels", "t")


def test_extra_columns_with_spaces_and_other_scripts_are_kept(tmp_path, con):
    write(tmp_path / "channels.csv", "channel_id,channel_name,channel_type,Sales Region,渠道\n"
                                     "CH1,Search,email,North,搜索\n")
    assert load_entity(con, tmp_path, "channels", "t").extra_columns == ["Sales Region", "渠道"]
    assert rows(con, 'select "Sales Region", "渠道" from raw.channels') == [("North", "搜索")]


def test_events_first_from_csv_then_jsonl_rebuild_the_table(tmp_path, con):
    write(tmp_path / "events.csv", "event_id,occurred_at,event_type\n"
                                   "e1,2026-01-01T00:00:00Z,page_view\n")
    load_entity(con, tmp_path, "events", "load-1")
    write(tmp_path / "events-2.jsonl", '{"event_id": "e2", "occurred_at": '
                                       '"2026-01-02T00:00:00Z", "event_type": "purchase"}\n')
    grown = load_entity(con, tmp_path, "events", "load-2")
    assert grown.read_files == ["events-2.jsonl", "events.csv"]  # rebuilt: a new column
    assert rows(con, "select event_id, _raw_json is null from raw.events order by 1") == [
        ("e1", True), ("e2", False)]


def test_non_utf8_body_names_the_file(tmp_path, con):
    (tmp_path / "channels.csv").write_bytes(
        b"channel_id,channel_name,channel_type\nCH1,Caf\xe9,email\n")
    with pytest.raises(DropError, match=r"channels\.csv: not UTF-8 text"):
        load_entity(con, tmp_path, "channels", "t")


def test_a_grown_drop_reads_only_new_and_replaced_files(tmp_path, con):
    drop = tmp_path / "drop"
    write_required_entities(drop)
    first = load_entity(con, drop, "orders", "load-1")
    assert first.read_files == ["orders-0001.csv", "orders-0002.csv"]
    again = load_entity(con, drop, "orders", "load-2")
    assert again.read_files == [] and not again.changed and again.rows == first.rows
    write(drop / "orders-0003.csv", """
order_id,customer_id,ordered_at,status,currency,subtotal_amount,total_amount,extra_note
o10,00001,2026-03-01T10:00:00Z,paid,USD,10,10,hello
""")
    grown = load_entity(con, drop, "orders", "load-3")
    # The new file brings a column the table lacks: the table is rebuilt from all files.
    assert grown.read_files == ["orders-0001.csv", "orders-0002.csv", "orders-0003.csv"]
    write(drop / "orders-0003.csv", """
order_id,customer_id,ordered_at,status,currency,subtotal_amount,total_amount
o10,00001,2026-03-01T10:00:00Z,paid,USD,10,10
o11,00002,2026-03-02T10:00:00Z,paid,USD,20,20
""")
    (drop / "orders-0002.csv").unlink()
    replaced = load_entity(con, drop, "orders", "load-4")
    assert replaced.read_files == ["orders-0003.csv"]
    assert replaced.removed_files == ["orders-0002.csv"]
    assert rows(con, "select _source_file, count(*) from raw.orders group by 1 order by 1") == [
        ("orders-0001.csv", 7), ("orders-0003.csv", 2)]
    assert rows(con, "select extra_note from raw.orders where order_id = 'o11'") == [(None,)]
    assert replaced.rows == 9


def test_a_header_that_differs_from_the_contract_only_in_case_is_refused(tmp_path):
    import duckdb

    from contract import ENTITIES
    from dagster_project.ingest.files import DropError, DropFile, relation_sql

    path = tmp_path / "customers.csv"
    path.write_text("customer_id,Email,signup_at\nc1,a@example.com,2026-01-01\n")
    with pytest.raises(DropError, match=r"header 'Email' \(column 2\) differs from the "
                                        r"contract column 'email' only in case"):
        relation_sql(duckdb.connect(), DropFile(path, "customers", "csv"), ENTITIES["customers"])
