"""The personal-data zone without a pipeline: key files, the pseudonym, the suppression
list applied at load, the retention, and the settings that drive them."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import duckdb
import pytest

from dagster_project import ledger
from dagster_project.privacy import keys
from dagster_project.privacy.erase import ErasureError, check_request, erase_customer
from dagster_project.privacy.zone import (
    after_load,
    apply_retention,
    ensure_tables,
    last_activity_sql,
)
from dagster_project.settings import Settings, SettingsError


def test_key_file_is_created_owner_only_and_reused(tmp_path):
    warehouse = tmp_path / "shop.duckdb"
    first = keys.pseudonym_key(warehouse)
    path = tmp_path / "shop.state" / "pseudonym.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "shop.state").stat().st_mode & 0o777 == 0o700
    assert len(first) == 64 and keys.pseudonym_key(warehouse) == first
    assert keys.suppression_key(warehouse) != first  # two independent keys
    assert keys.pseudonym_key(warehouse, "x" * 40) == b"x" * 40  # the setting wins
    path.chmod(0o644)
    with pytest.raises(keys.PrivacyKeyError, match=r"pseudonym.key: key file mode 644"):
        keys.pseudonym_key(warehouse)


def test_pseudonym_is_hmac_sha256_of_the_normalised_email():
    key = b"k" * 32
    expected = hmac.new(key, b"ann@example.com", hashlib.sha256).hexdigest()
    assert keys.pseudonym(key, keys.normalised_email("  Ann@Example.COM ")) == expected
    assert expected != hashlib.sha256(b"ann@example.com").hexdigest()


def test_privacy_settings_are_checked(tmp_path):
    env = {"SHOP_WAREHOUSE_PATH": str(tmp_path / "w.duckdb")}
    assert Settings.from_env(env).retention_days == 1095
    with pytest.raises(SettingsError, match=r"SHOP_RETENTION_DAYS='-1'|SHOP_RETENTION_DAYS=-1"):
        Settings.from_env({**env, "SHOP_RETENTION_DAYS": "-1"})
    with pytest.raises(SettingsError, match=r"SHOP_PSEUDONYM_KEY: at least 32") as error:
        Settings.from_env({**env, "SHOP_PSEUDONYM_KEY": "short-secret"})
    assert "short-secret" not in str(error.value)
    settings = Settings.from_env({**env, "SHOP_PSEUDONYM_KEY": "s" * 32})
    assert "s" * 32 not in repr(settings)
    with pytest.raises(ErasureError, match="already anonymous"):
        check_request("erased-0011223344556677", "r1")
    with pytest.raises(ErasureError, match="request id"):
        check_request("C1", "drop table x;")


def raw_shop(con: duckdb.DuckDBPyConnection) -> None:
    """Two customers (one written with spaces around the id), their orders and events."""
    con.execute("create schema raw")
    con.execute("""create table raw.customers as select * from (values
        (' C1 ', 'ann@example.com', '+4912345678', 'Ann', 'Lee', '2020-01-01T00:00:00Z',
         '2020-01-02T00:00:00Z', 'a.txt', 2, 'vip'),
        ('C2', 'bob@example.com', '+4987654321', 'Bob', 'Wu', '2020-01-01T00:00:00Z',
         null, 'a.txt', 3, null))
        as t(customer_id, email, phone, first_name, last_name, signup_at, updated_at,
             _source_file, _source_line, nickname)""")
    con.execute("""create table raw.orders as select * from (values
        ('o1', 'C1', '2026-01-05T10:00:00Z', null, 'o.csv', 2, 'Ann Lee, 1 Main St'),
        ('o2', 'C2', '2021-03-01T10:00:00Z', null, 'o.csv', 3, 'Bob Wu, 2 High St'),
        ('o3', 'C1', '2026-02-05T10:00:00Z', null, 'o2.csv', 2, 'Ann Lee, 1 Main St'))
        as t(order_id, customer_id, ordered_at, updated_at, _source_file, _source_line,
             shipping_address)""")
    con.execute("""create table raw.events as select * from (values
        ('e1', 'C1', 'dev-9', 'ann lee shoes', '2026-01-05T09:00:00Z', 'e.jsonl', 1,
         '{"customer_id": "C1"}'))
        as t(event_id, customer_id, anonymous_id, search_query, occurred_at, _source_file,
             _source_line, _raw_json)""")


def test_erasure_withholds_anonymises_and_counts(tmp_path):
    warehouse = str(tmp_path / "w.duckdb")
    with duckdb.connect(warehouse) as con:
        raw_shop(con)
        erasure = erase_customer(con, "C1", "req-1", warehouse)
        assert erasure.scope == {"raw.customers": 1, "raw.orders": 2, "raw.events": 1}
        token = erasure.anonymous_customer_id
        assert con.execute("select customer_id from raw.customers").fetchall() == [("C2",)]
        # The orders stay (same ids) under the anonymous id; the extra column that could
        # name the customer is cleared, the other customer's row is untouched.
        assert con.execute("select order_id, customer_id, shipping_address from raw.orders "
                           "order by 1").fetchall() == [
            ("o1", token, None), ("o2", "C2", "Bob Wu, 2 High St"), ("o3", token, None)]
        assert con.execute("select customer_id, anonymous_id, search_query, _raw_json "
                           "from raw.events").fetchall() == [(token, None, None, None)]
        assert con.execute("select entity, source_file, row_count from raw._suppressed_rows "
                           "order by 1, 2").fetchall() == [
            ("customers", "a.txt", 1), ("events", "e.jsonl", 1), ("orders", "o.csv", 1),
            ("orders", "o2.csv", 1)]
        # A re-delivered file: the loader re-reads o2.csv with the clear id again.
        con.execute("update raw.orders set customer_id = 'C1' where order_id = 'o3'")
        metadata = after_load(con, "orders", warehouse_path=warehouse,
                              files_reloaded=["o2.csv"])
        assert metadata == {"suppressed_rows": 1}
        assert con.execute("select customer_id from raw.orders where order_id = 'o3'"
                           ).fetchone() == (token,)
        assert con.execute("select sum(row_count) from raw._suppressed_rows "
                           "where entity = 'orders'").fetchone() == (2,)
        # Erasing again reuses the same anonymous id.
        assert erase_customer(con, "C1", "req-2", warehouse).already_suppressed


def test_retention_clears_personal_data_of_inactive_customers_only(tmp_path):
    with duckdb.connect() as con:
        raw_shop(con)
        ensure_tables(con)
        # C1 ordered on 2026-02-05, C2 last on 2021-03-01; 365 days before 2026-06-01 is
        # 2025-06-01: C2 is inactive, C1 is not.
        assert apply_retention(con, 365, today=date(2026, 6, 1)) == 1
        assert con.execute("select trim(customer_id), email, phone, first_name, last_name, "
                           "nickname, signup_at from raw.customers order by 1").fetchall() == [
            ("C1", "ann@example.com", "+4912345678", "Ann", "Lee", "vip",
             "2020-01-01T00:00:00Z"),
            ("C2", None, None, None, None, None, "2020-01-01T00:00:00Z")]
        assert apply_retention(con, 365, today=date(2026, 6, 1)) == 0  # nothing left
        assert apply_retention(con, 0, today=date(2040, 1, 1)) == 0  # 0 keeps everything
        assert con.execute("select customer_count from raw._retention_log order by applied_at"
                           ).fetchall() == [(1,), (0,)]


def _files(con, entity: str, fingerprints: dict[str, str]) -> None:
    """Record what raw.<entity> holds, as the loader does: {file name: fingerprint}."""
    counts = dict(con.execute(f"select _source_file, count(*) from raw.{entity} group by 1"
                              ).fetchall())
    ledger.record_load(con, entity, "load", [(f"/drop/{name}", name, print_, counts[name])
                                             for name, print_ in fingerprints.items()], [], 0.0)


def test_retention_after_added_files_reads_only_their_rows(tmp_path):
    with duckdb.connect() as con:
        raw_shop(con)
        ensure_tables(con)
        _files(con, "customers", {"a.txt": "1"})
        _files(con, "orders", {"o.csv": "1", "o2.csv": "1"})
        _files(con, "events", {"e.jsonl": "1"})
        assert apply_retention(con, 365, today=date(2026, 6, 1)) == 1  # C2, as above
        # A day later: a new customer C3 (signed up long ago, never active) and a new event
        # of C1 in new files. A marker row shows the activity table was updated, not redone.
        con.execute("insert into raw.customers values ('C3', 'cy@example.com', '+1', 'Cy', "
                    "'Ho', '2025-01-01T00:00:00Z', null, 'a2.txt', 2, null)")
        con.execute("insert into raw.events values ('e2', ' C1', null, null, "
                    "'2026-05-10T08:00:00Z', 'e2.jsonl', 1, '{}')")
        _files(con, "customers", {"a.txt": "1", "a2.txt": "1"})
        _files(con, "events", {"e.jsonl": "1", "e2.jsonl": "1"})
        con.execute("insert into raw._customer_activity values ('marker', date '2000-01-01')")
        # 365 days before 2027-04-15 is 2026-04-15: C1 is active only through the new
        # event (2026-05-10; its last order is 2026-02-05), C3 is due.
        assert apply_retention(con, 365, today=date(2027, 4, 15)) == 1
        assert con.execute("select trim(customer_id), email from raw.customers order by 1"
                           ).fetchall() == [("C1", "ann@example.com"), ("C2", None),
                                            ("C3", None)]
        activity = con.execute("select * from raw._customer_activity where customer_id "
                               "<> 'marker' order by 1").fetchall()
        assert activity == [("C1", date(2026, 5, 10)), ("C2", date(2021, 3, 1)),
                            ("C3", date(2025, 1, 1))]
        assert activity == con.execute(f"{last_activity_sql(con)} order by 1").fetchall()
        assert con.execute("select count(*) from raw._customer_activity "
                           "where customer_id = 'marker'").fetchone() == (1,)
        # A rewritten file: computed from every row again (the marker goes).
        _files(con, "orders", {"o.csv": "2", "o2.csv": "1"})
        assert apply_retention(con, 365, today=date(2027, 4, 15)) == 0
        assert con.execute("select count(*) from raw._customer_activity "
                           "where customer_id = 'marker'").fetchone() == (0,)
