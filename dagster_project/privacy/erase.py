"""Erasure of one customer (GDPR art. 17, PIPL art. 47): their personal data leaves every
schema; their orders, events, reviews and campaign memberships stay, under a random
anonymous id, so revenue and counts do not change.

`erase_customer` does the warehouse part in one transaction: the customer's keyed
pseudonym joins the suppression list (so no later or re-delivered export brings them
back: dagster_project/privacy/zone.py applies it at every load), their raw rows are
withheld or anonymised, every row naming them outside `raw` is deleted (dbt rebuilds the
marts from the anonymised raw rows next, ml rows are not rebuilt), and the erasure log
records request id, time and scope. The customer id itself is written nowhere.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from contract.sql import identifier

from .. import ledger
from .keys import pseudonym, suppression_key
from .zone import (
    CUSTOMER_ENTITIES,
    ERASED_PREFIX,
    apply_suppression,
    ensure_tables,
    prune_email_pseudonyms,
    table_columns,
)

# Columns outside raw that hold a customer id: the marts' and ml's key, and the raw copy
# of a quarantined row in staging's *_rejected tables.
CUSTOMER_COLUMNS = ("customer_id", "raw_customer_id")
REQUEST_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,100}")


class ErasureError(ValueError):
    """A request that cannot be carried out; the message says why in one line."""


@dataclass
class Erasure:
    request_id: str
    anonymous_customer_id: str
    scope: dict[str, int]  # "raw.<entity>" or "<schema>.<table>" -> rows withheld/changed
    already_suppressed: bool

    @property
    def entities(self) -> list[str]:
        """Raw entities whose rows changed: what dbt must rebuild."""
        return sorted(name.split(".", 1)[1] for name, rows in self.scope.items()
                      if name.startswith("raw.") and rows)


def check_request(customer_id: str, request_id: str) -> None:
    if not customer_id or not customer_id.strip() or len(customer_id) > 256 \
            or not customer_id.isprintable():
        raise ErasureError("customer id: 1 to 256 printable characters, as in the customers "
                           "export's customer_id")
    if customer_id.startswith(ERASED_PREFIX):
        raise ErasureError(f"customer id: ids starting with {ERASED_PREFIX!r} are already "
                           f"anonymous")
    if not REQUEST_ID.fullmatch(request_id):
        raise ErasureError(f"request id {request_id!r}: 1 to 100 letters, digits, _ . : -")


def new_request_id() -> str:
    return f"erasure-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def erase_customer(con: duckdb.DuckDBPyConnection, customer_id: str, request_id: str,
                   warehouse_path: str) -> Erasure:
    """Erase `customer_id` from the warehouse behind `con` (see the module docstring)."""
    check_request(customer_id, request_id)
    customer_id = customer_id.strip()  # as staging reads it
    ensure_tables(con)
    key = suppression_key(warehouse_path)
    customer_pseudonym = pseudonym(key, customer_id)
    requested_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        known = con.execute("select anonymous_customer_id from raw._suppression "
                            "where customer_pseudonym = ?", [customer_pseudonym]).fetchall()
        token = known[0][0] if known else ERASED_PREFIX + secrets.token_hex(8)
        if not known:
            con.execute("insert into raw._suppression values (?, ?, ?, ?)",
                        [customer_pseudonym, token, request_id, requested_at])
        scope = {f"raw.{entity}": apply_suppression(con, entity, key).rows
                 for entity in CUSTOMER_ENTITIES if table_columns(con, entity)}
        prune_email_pseudonyms(con)  # their e-mail, if no other customer row has it
        scope.update(_delete_outside_raw(con, customer_id))
        con.execute("insert into raw._erasure_log values (?, ?, now(), ?)",
                    [request_id, requested_at, json.dumps(scope, sort_keys=True)])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return Erasure(request_id, token, scope, bool(known))


def _delete_outside_raw(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, int]:
    """Delete every row that names the customer in staging, intermediate, marts, ml and
    audit, and clear data-quality samples that quote their id. dbt rebuilds the models
    from the anonymised raw rows afterwards, so the orders come back under the anonymous
    id; ml rows (scores, recommendations, audiences) are per customer and stay deleted."""
    scope = {}
    columns = con.execute(f"""
        select schema_name, table_name, column_name from duckdb_columns()
        where database_name = current_database() and schema_name <> 'raw'
          and column_name in ({', '.join('?' for _ in CUSTOMER_COLUMNS)})
          and table_name in (select table_name from duckdb_tables() as t
                             where t.schema_name = duckdb_columns.schema_name
                               and t.database_name = current_database())
        order by all""", list(CUSTOMER_COLUMNS)).fetchall()
    for schema, table, column in columns:
        name = f"{identifier(schema)}.{identifier(table)}"
        deleted = con.execute(f"delete from {name} where trim({identifier(column)}) = ?",
                              [customer_id]).fetchall()[0][0]
        if deleted:
            scope[f"{schema}.{table}"] = scope.get(f"{schema}.{table}", 0) + deleted
    cleared = ledger.clear_samples(con, json.dumps(customer_id))  # the id inside a JSON sample
    if cleared:
        scope["audit.dq_results"] = cleared
    return scope
