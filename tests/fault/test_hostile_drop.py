"""One drop holding every row-level probe of issue 12, built once through the CLI.

The drop is the tiny shop of tests/conftest.py plus, by hand:
- events.jsonl: e1..e4 valid; lines 5-8 broken (`not json` twice, a JSON array, a cut-off
  object). Each broken line is its own quarantined row, never a duplicate of another.
- customers-0002.csv: 00001 opts out with an unreadable updated_at (line 2); 00002 opts in
  with an unreadable updated_at (line 3); 00004 opts in at 2026-01-10 (line 4), then opts out
  with no updated_at (line 5).
- orders-0003.csv: a newer o1 with an unreadable updated_at, orders in 9999, 1900 and 30 days
  after today, a total of 99,999,999,999,999 and a total of -5.
- order_items-0002.csv: quantities 2^63-1, 1.5 and 0.
- reviews: r1 with a 3 MB text (DuckDB's reader), again in a second file read by Python's
  csv (a 150 KB text with a line break sends it there): an exact duplicate across readers;
  a rating of 4.5; two identical ragged records.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import query, write, write_tiny_drop
from tests.fault.conftest import build

pytestmark = pytest.mark.xdist_group("fault")

LONG = "x" * 3_000_000
MULTILINE = "y" * 75_000 + "\n" + "y" * 75_000
FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    drop = root / "drop"
    write_tiny_drop(drop)
    events = [
        {"event_id": "e1", "occurred_at": "2026-01-02T09:50:00Z", "event_type": "page_view",
         "customer_id": "00001", "channel_id": "CH1"},
        {"event_id": "e2", "occurred_at": "2026-01-02T09:55:00Z", "event_type": "product_view",
         "customer_id": "00001", "product_id": "P1"},
        {"event_id": "e3", "occurred_at": "2026-01-02T10:00:00Z", "event_type": "purchase",
         "customer_id": "00001", "order_id": "o1"},
        {"event_id": "e4", "occurred_at": "2026-01-02T11:00:00Z", "event_type": "page_view",
         "customer_id": "00001"},
    ]
    broken = ["not json", "not json", "[1, 2]", '{"event_id": "e9", "occurred_at":']
    write(drop / "events.jsonl", "\n".join([json.dumps(e) for e in events] + broken))
    write(drop / "customers-0002.csv", """
customer_id,signup_at,marketing_opt_in,updated_at
00001,2026-01-01T00:00:00Z,false,31/02/2026 25:00
00002,2026-01-05T00:00:00Z,true,not a time
00004,2026-01-08T00:00:00Z,true,2026-01-10T00:00:00Z
00004,2026-01-08T00:00:00Z,false,
""")
    header = ("order_id,customer_id,ordered_at,status,currency,subtotal_amount,discount_amount,"
              "shipping_amount,tax_amount,total_amount,channel_id,updated_at")
    write(drop / "orders-0003.csv", f"""
{header}
o1,00001,2026-01-02T10:00:00Z,returned,USD,100,10,5,0,95,CH1,not-a-time
o20,00001,9999-12-31T00:00:00Z,delivered,USD,10,0,0,0,10,CH1,
o21,00001,1900-01-01T00:00:00Z,delivered,USD,10,0,0,0,10,CH1,
o22,00001,2026-02-01T00:00:00Z,delivered,USD,10,0,0,0,99999999999999,CH1,
o23,00001,2026-02-01T00:00:00Z,delivered,USD,10,0,0,0,-5,CH1,
o24,00001,{FUTURE}T00:00:00Z,delivered,USD,10,0,0,0,10,CH1,
""")
    write(drop / "order_items-0002.csv", """
order_id,line_number,product_id,quantity,unit_price,discount_amount
o5,2,P2,9223372036854775807,100,0
o5,3,P2,1.5,100,0
o5,4,P2,0,100,0
""")
    review_header = "review_id,order_id,product_id,customer_id,rating,review_text,created_at"
    write(drop / "reviews-0001.csv", f"""
{review_header}
r1,,P1,00001,5,{LONG},2026-01-03T00:00:00Z
""")
    write(drop / "reviews-0002.csv", f"""
{review_header}
r2,o1,P1,00001,4,"{MULTILINE}",2026-01-04T00:00:00Z
r1,,P1,00001,5,{LONG},2026-01-03T00:00:00Z
r3,o1,P1,00001,4.5,fine,2026-01-04T00:00:00Z
r9,bad
r9,bad
""")
    result = build(drop, root / "wh.duckdb")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "wh.duckdb"


def rejected(warehouse, entity: str, key: str) -> list[tuple]:
    return query(warehouse, f"select _source_file, _source_line, raw_{key}, rejection_reason"
                            f" from staging.stg_shop__{entity}_rejected order by 1, 2")


def test_every_entity_reconciles(warehouse):
    got = query(warehouse, "select entity from audit.load_reconciliation where raw_row_count <>"
                           " coalesce(loaded_row_count, 0) + coalesce(quarantined_row_count, 0)"
                           " + coalesce(exact_duplicate_count, 0)")
    assert got == []
    got = {row[0]: row[1:] for row in query(warehouse, """
        select entity, raw_row_count, loaded_row_count, quarantined_row_count,
               exact_duplicate_count, superseded_version_count, untrusted_latest_version_count,
               current_row_count
        from audit.load_reconciliation""")}
    # events: 8 lines, 4 broken, none a duplicate.
    assert got["events"] == (8, 4, 4, 0, 0, 0, 4)
    # customers: 3 + 4 rows; two unreadable updated_at; 00004's opt-out without updated_at
    # loses to its dated version; 00001, 00002 and 00004 have an untrusted newest row.
    assert got["customers"] == (7, 5, 2, 0, 1, 3, 4)
    # orders: the tiny drop's 11 (2 quarantined, 1 duplicate, 2 superseded) + 6 quarantined;
    # o1's newest row is quarantined.
    assert got["orders"] == (17, 8, 8, 1, 2, 1, 6)
    assert got["order_items"] == (8, 4, 4, 0, 0, 0, 4)
    # reviews: r1 twice (one exact duplicate across readers), r3 and two ragged records out.
    assert got["reviews"] == (6, 2, 3, 1, 0, 0, 2)


def test_each_malformed_json_line_is_quarantined_on_its_own(warehouse):
    assert query(warehouse, "select _source_line, rejection_reason, raw_event_id"
                            " from staging.stg_shop__events_rejected order by 1") == [
        (5, "malformed_record", None), (6, "malformed_record", None),
        (7, "malformed_record", None), (8, "malformed_record", None)]


def test_identical_ragged_records_are_quarantined_and_readers_agree_on_duplicates(warehouse):
    # reviews-0002.csv: header, r2 on lines 2-3 (its text has a line break), r1 on 4.
    assert rejected(warehouse, "reviews", "review_id") == [
        ("reviews-0002.csv", 5, "r3", "bad_number:rating"),
        ("reviews-0002.csv", 6, "r9", "malformed_record"),
        ("reviews-0002.csv", 7, "r9", "malformed_record")]


def test_long_fields_load(warehouse):
    assert query(warehouse, "select review_id, length(review_text), rating"
                            " from staging.stg_shop__reviews order by 1") == [
        ("r1", 3_000_000, 5), ("r2", 150_001, 4)]


def test_a_quarantined_newest_version_is_flagged_and_the_older_one_stays(warehouse):
    assert ("orders-0003.csv", 2, "o1", "bad_timestamp:updated_at") in rejected(
        warehouse, "orders", "order_id")
    assert query(warehouse, "select status, has_untrusted_latest_version from"
                            " staging.base_shop__orders where version_rank = 1 and"
                            " rejection_reason is null and order_id = 'o1'") == [
        ("delivered", True)]


def test_consent_falls_back_to_the_most_restrictive_version(warehouse):
    assert query(warehouse, "select customer_id, is_marketing_opt_in, has_untrusted_latest_version"
                            " from staging.stg_shop__customers order by 1") == [
        ("00001", False, True),   # opted in; the opt-out's updated_at is unreadable
        ("00002", False, True),   # opted out; an unreadable opt-in does not opt them in
        ("00003", True, False),   # one trusted version
        ("00004", False, True),   # opted in 2026-01-10, then opted out without updated_at
    ]
    assert rejected(warehouse, "customers", "customer_id") == [
        ("customers-0002.csv", 2, "00001", "bad_timestamp:updated_at"),
        ("customers-0002.csv", 3, "00002", "bad_timestamp:updated_at")]


def test_implausible_orders_and_lines_are_quarantined_with_their_rule(warehouse):
    got = [row for row in rejected(warehouse, "orders", "order_id")
           if row[0] == "orders-0003.csv"]
    assert got == [
        ("orders-0003.csv", 2, "o1", "bad_timestamp:updated_at"),
        ("orders-0003.csv", 3, "o20", "implausible_timestamp:ordered_at"),
        ("orders-0003.csv", 4, "o21", "implausible_timestamp:ordered_at"),
        ("orders-0003.csv", 5, "o22", "implausible_amount:total_amount"),
        ("orders-0003.csv", 6, "o23", "negative_amount"),
        ("orders-0003.csv", 7, "o24", "implausible_timestamp:ordered_at")]
    assert rejected(warehouse, "order_items", "quantity") == [
        ("order_items-0002.csv", 2, "9223372036854775807", "implausible_quantity"),
        ("order_items-0002.csv", 3, "1.5", "fractional_quantity"),
        ("order_items-0002.csv", 4, "0", "implausible_quantity"),
        ("order_items.csv", 5, "-1", "negative_quantity")]


def test_the_calendar_and_recency_keep_to_real_dates(warehouse):
    # The latest valid order is o9 on 2026-02-15; the earliest o1 on 2026-01-02, but events
    # and orders start the calendar at the first activity: 2026-01-02.
    assert query(warehouse, "select cast(min(date_day) as varchar), cast(max(date_day) as"
                            " varchar) from marts.dim_date") == [("2026-01-02", "2026-02-15")]
