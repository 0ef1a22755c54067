"""The personal-data zone at load time: keyed e-mail pseudonyms, the suppression list of
erased customers, and the retention of inactive customers' personal data.

`after_load` runs right after each entity is landed in `raw` (dagster_project/ingest), in
the same process and under the same writer lock, so an erased customer's rows never
reach staging from a later or re-delivered export. Only the hex pseudonyms computed here
leave this zone (through `raw._email_pseudonyms`, which dbt joins in
`marts.dim_customers`); the keys stay in Python.

Tables (schema raw, beside the bookkeeping of dagster_project/ledger.py):
- `_email_pseudonyms`: e-mail as staged -> HMAC-SHA256 of the normalised e-mail;
- `_suppression`: one row per erased customer: the keyed pseudonym of their customer_id,
  the random anonymous id their orders, events, reviews and memberships now carry, the
  erasure request and when;
- `_suppressed_rows`: per entity and file, rows withheld (customers) or anonymised (the
  others) for erased customers: `audit.load_reconciliation.suppressed_row_count`;
- `_erasure_log`: request id, time and scope (rows per entity); no personal data;
- `_retention_log`: per build, customers whose personal data the retention cleared;
- `_customer_activity`: each customer's last active date, as the retention reads it; after
  a load that only added files it is brought up to date from the added rows alone (what it
  was computed from: ledger `raw._activity_files`), else computed again; dropped when an
  erasure or the suppression list changes raw rows in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from contract import ENTITIES, LINEAGE_COLUMNS
from contract.sql import identifier, literal_list

from .. import ledger
from .keys import normalised_email, pseudonym, pseudonym_key, suppression_key

# Entities that name a customer, and what else an erased customer's rows lose there: free
# text and device ids that can identify a person (extra columns of the files always go).
CUSTOMER_ENTITIES = {
    "customers": (),  # rows withheld entirely
    "orders": (),
    "events": ("anonymous_id", "search_query"),
    "campaign_members": (),
    "reviews": ("review_text",),
}
# Clear personal data of a customer row: what the retention clears (the whole row goes
# on erasure). Coarse attributes (gender, birth year, country, province, city) stay.
PERSONAL_COLUMNS = ("email", "phone", "first_name", "last_name")
# Dates that show a customer is active, per entity (ISO 8601 text in raw: the first ten
# characters are the date, which is all a retention measured in days needs).
ACTIVITY_COLUMNS = {
    "customers": ("signup_at", "updated_at"),
    "orders": ("ordered_at", "updated_at"),
    "events": ("occurred_at",),
    "reviews": ("created_at",),
    "campaign_members": ("clicked_at", "opened_at"),
}
ERASED_PREFIX = "erased-"
ACTIVITY_TABLE = "raw._customer_activity"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute("create table if not exists raw._email_pseudonyms "
                "(email varchar, email_pseudonym varchar)")
    con.execute("create table if not exists raw._suppression (customer_pseudonym varchar, "
                "anonymous_customer_id varchar, request_id varchar, erased_at timestamp)")
    con.execute("create table if not exists raw._suppressed_rows (entity varchar, "
                "source_file varchar, row_count bigint, action varchar, counted_at timestamp)")
    con.execute("create table if not exists raw._erasure_log (request_id varchar, "
                "requested_at timestamp, finished_at timestamp, scope varchar)")
    con.execute("create table if not exists raw._retention_log (applied_at timestamp, "
                "retention_days integer, cutoff_date date, customer_count bigint)")


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = ? order by ordinal_position", [table]).fetchall()]


def _extra_columns(entity: str, columns: Iterable[str]) -> list[str]:
    """Columns of a raw table that the contract does not define (kept from the files,
    never read downstream) plus `_raw_json`: an erased customer's rows lose them all."""
    known = {*ENTITIES[entity].columns, *LINEAGE_COLUMNS}
    return [c for c in columns if c not in known]


@dataclass
class Suppressed:
    entity: str
    rows: int
    action: str  # "withheld" (customers) or "anonymised"


def apply_suppression(con: duckdb.DuckDBPyConnection, entity: str, key: bytes,
                      request_id: str | None = None) -> Suppressed:
    """Withhold erased customers' rows of `customers`; give their rows of the other
    customer entities the anonymous id of their erasure and clear the columns that could
    identify them. Counted per file in raw._suppressed_rows."""
    action = "withheld" if entity == "customers" else "anonymised"
    columns = table_columns(con, entity)
    if entity not in CUSTOMER_ENTITIES or "customer_id" not in columns:
        return Suppressed(entity, 0, action)
    entries = con.execute("select customer_pseudonym, anonymous_customer_id "
                          "from raw._suppression").fetchall()
    if not entries:
        return Suppressed(entity, 0, action)
    # As staging reads the id (trimmed): ' C1 ' in a file is customer C1.
    ids = [row[0] for row in con.execute(
        f"select distinct trim(customer_id) from raw.{entity} where customer_id is not null "
        f"and not starts_with(trim(customer_id), ?)", [ERASED_PREFIX]).fetchall()]
    by_pseudonym = {pseudonym(key, customer_id): customer_id for customer_id in ids}
    hits = pd.DataFrame([(by_pseudonym[p], token) for p, token in entries if p in by_pseudonym],
                        columns=["customer_id", "anonymous_customer_id"])
    if hits.empty:
        return Suppressed(entity, 0, action)
    con.register("_erased_hits", hits)
    try:
        counts = con.execute(
            f"select _source_file, count(*) from raw.{entity} "
            f"where trim(customer_id) in (select customer_id from _erased_hits) group by 1"
        ).fetchall()
        if entity == "customers":
            con.execute("delete from raw.customers "
                        "where trim(customer_id) in (select customer_id from _erased_hits)")
        else:
            cleared = [c for c in (*CUSTOMER_ENTITIES[entity], *_extra_columns(entity, columns))
                       if c in columns]
            sets = ", ".join(["customer_id = _erased_hits.anonymous_customer_id"]
                             + [f"{identifier(c)} = null" for c in cleared])
            con.execute(f"update raw.{entity} set {sets} from _erased_hits "
                        f"where trim(raw.{entity}.customer_id) = _erased_hits.customer_id")
    finally:
        con.unregister("_erased_hits")
    con.executemany("insert into raw._suppressed_rows values (?, ?, ?, ?, now())",
                    [(entity, file, rows, action) for file, rows in counts])
    ledger.forget(con, [entity])
    con.execute(f"drop table if exists {ACTIVITY_TABLE}")  # it names the erased customers
    return Suppressed(entity, sum(rows for _, rows in counts), action)


def refresh_email_pseudonyms(con: duckdb.DuckDBPyConnection, key: bytes) -> int:
    """raw._email_pseudonyms for every e-mail of raw.customers, as staging trims it."""
    emails = [row[0] for row in con.execute(
        "select distinct nullif(trim(email), '') as email from raw.customers "
        "where nullif(trim(email), '') is not null").fetchall()] \
        if "email" in table_columns(con, "customers") else []
    frame = pd.DataFrame({"email": pd.Series(emails, dtype="object"),
                          "email_pseudonym": pd.Series(
                              [pseudonym(key, normalised_email(e)) for e in emails],
                              dtype="object")})
    digest = ("select md5(coalesce(string_agg(email || '=' || email_pseudonym, ',' "
              "order by email), '')) from {}")
    before = con.execute(digest.format("raw._email_pseudonyms")).fetchall()[0][0]
    con.register("_email_pseudonyms_new", frame)
    try:
        con.execute("create or replace table raw._email_pseudonyms as "
                    "select email::varchar as email, email_pseudonym::varchar as email_pseudonym"
                    " from _email_pseudonyms_new")
    finally:
        con.unregister("_email_pseudonyms_new")
    if con.execute(digest.format("raw._email_pseudonyms")).fetchall()[0][0] != before:
        ledger.forget(con, ["customers"])  # e.g. a rotated key: dim_customers again
    return len(emails)


def after_load(con: duckdb.DuckDBPyConnection, entity: str, *, warehouse_path: str | Path,
               files_reloaded: Iterable[str] = (), given_key: str = "") -> dict:
    """The one call the ingest asset makes after landing an entity: apply the suppression
    list, then (customers) refresh the e-mail pseudonyms. Returns asset metadata."""
    ensure_tables(con)
    reloaded = sorted(set(files_reloaded))
    if reloaded:  # their rows were read again: counted again below
        con.execute("delete from raw._suppressed_rows where entity = ? and source_file in "
                    f"({', '.join('?' for _ in reloaded)})", [entity, *reloaded])
    suppressed = apply_suppression(con, entity, suppression_key(warehouse_path))
    metadata = {"suppressed_rows": suppressed.rows}
    if entity == "customers":
        metadata["email_pseudonyms"] = refresh_email_pseudonyms(
            con, pseudonym_key(warehouse_path, given_key))
    return metadata


def last_activity_sql(con: duckdb.DuckDBPyConnection,
                      only: dict[str, list[str]] | None = None) -> str:
    """A query of (customer_id, last_active_date) over every raw entity that dates a
    customer's activity (ISO 8601 text: its first ten characters are the date); `only`:
    over these entities' rows of these files alone."""
    parts = []
    for entity, dated in ACTIVITY_COLUMNS.items():
        columns = table_columns(con, entity)
        present = [c for c in dated if c in columns]
        if "customer_id" not in columns or not present or (only is not None
                                                           and entity not in only):
            continue
        days = ", ".join(f"try_cast(left(trim({c}), 10) as date)" for c in present)
        day = f"greatest({days})" if len(present) > 1 else days
        where = ""
        if only is not None:
            where = f" where _source_file in ({literal_list(only[entity])})"
        parts.append(f"select trim(customer_id) as customer_id, max({day}) as day "
                     f"from raw.{entity}{where} group by 1")
    if not parts:
        return "select null::varchar as customer_id, null::date as last_active_date limit 0"
    return (f"select customer_id, max(day) as last_active_date from ({' union all '.join(parts)})"
            f" group by 1")


def refresh_customer_activity(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], str]:
    """Bring `raw._customer_activity` up to date with raw: when the activity entities'
    files were only added since it was computed (and the table grew by exactly their rows),
    merge the added rows' last dates in (the latest date over old and new rows is the later
    of the two); else compute it from every row. Returns what it now reflects (rows per
    entity, query digest) for ledger.record_activity_state."""
    entities = [e for e in ACTIVITY_COLUMNS if table_columns(con, e)]
    query = last_activity_sql(con)
    digest = ledger.digest(query)
    rows = {e: con.execute(f"select count(*) from raw.{e}").fetchone()[0] for e in entities}
    added = _added_activity(con, entities, rows, digest)
    if added is None:
        con.execute(f"create or replace table {ACTIVITY_TABLE} as {query}")
    elif added:
        con.execute(f"""
            create or replace table {ACTIVITY_TABLE} as
            select customer_id, max(last_active_date) as last_active_date from (
                select customer_id, last_active_date from {ACTIVITY_TABLE}
                union all {last_activity_sql(con, only=added)})
            group by 1""")
    ledger.record_activity_state(con, rows, digest)
    return rows, digest


def _added_activity(con: duckdb.DuckDBPyConnection, entities: list[str], rows: dict[str, int],
                    digest: str) -> dict[str, list[str]] | None:
    """{entity: added file names} when the activity table can be updated from those files'
    rows alone; None when it must be computed again."""
    state = ledger.activity_state(con)
    exists = con.execute("select count(*) from duckdb_tables() where database_name = "
                         "current_database() and schema_name = 'raw' and table_name = ?",
                         [ACTIVITY_TABLE.split(".")[1]]).fetchone()[0]
    if not exists or state is None or state.query_digest != digest \
            or set(state.rows) != set(entities):
        return None
    added = {}
    for entity in entities:
        before, now = state.files.get(entity, {}), ledger.loaded_files(con, entity)
        if not now:
            return None  # rows without files: all again
        if before == now and state.rows[entity] == rows[entity]:
            continue
        files = ledger.added_files(con, entity, before, now, state.rows[entity], rows[entity])
        if files is None:
            return None  # files rewritten or removed, rows changed in place: all again
        added[entity] = files
    return added


def apply_retention(con: duckdb.DuckDBPyConnection, retention_days: int,
                    today: date | None = None) -> int:
    """Clear the clear personal data (PERSONAL_COLUMNS and the file's extra columns) of
    customers with no activity (signup, profile update, order, event, review, campaign
    click) in the last `retention_days` days. 0 keeps personal data. Returns how many
    customers lost theirs in this call."""
    ensure_tables(con)
    columns = table_columns(con, "customers")
    cleared = [c for c in (*PERSONAL_COLUMNS, *_extra_columns("customers", columns))
               if c in columns]
    if retention_days <= 0 or not cleared:
        return 0
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=retention_days)
    still_personal = " or ".join(f"{identifier(c)} is not null" for c in cleared)
    reflected, digest = refresh_customer_activity(con)
    con.execute(f"""
        create or replace temp table _retention_due as
        select customer_id from {ACTIVITY_TABLE}
        where last_active_date < ?""", [cutoff])
    due = con.execute(f"""
        select count(distinct trim(customer_id)) from raw.customers
        where trim(customer_id) in (select customer_id from _retention_due)
          and ({still_personal})""").fetchall()[0][0]
    if due:
        sets = ", ".join(f"{identifier(c)} = null" for c in cleared)
        con.execute(f"update raw.customers set {sets} "
                    f"where trim(customer_id) in (select customer_id from _retention_due)")
        ledger.forget(con, ["customers"])
        # Only personal columns were cleared: the activity dates still hold.
        ledger.record_activity_state(con, reflected, digest)
        prune_email_pseudonyms(con)
    con.execute("drop table if exists _retention_due")
    con.execute("insert into raw._retention_log values (now(), ?, ?, ?)",
                [retention_days, cutoff, due])
    return due


def prune_email_pseudonyms(con: duckdb.DuckDBPyConnection) -> None:
    """Drop pseudonyms of e-mails no longer in raw.customers (no key needed)."""
    con.execute("delete from raw._email_pseudonyms where email not in ("
                "select nullif(trim(email), '') from raw.customers where email is not null)")
