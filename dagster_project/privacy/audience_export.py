"""The one exception to keyed pseudonyms: a customer-match file for an ad platform.

Ad platforms match uploaded audiences on unkeyed SHA-256 of the normalised e-mail (trimmed,
lower case), which anyone holding the address can compute: so this file is never part of
the warehouse, the serving copy or the report. It holds only customers in the treatment
group of a planned campaign (`ml.campaign_audiences`) whose latest `marketing_opt_in` is
true (checked again here, against staging), is written owner-only (0600) to the path
asked for, and every export is logged in `raw._audience_export_log` (time, campaign type,
rows, file; no personal data).
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from contract import CAMPAIGN_TYPES

from .keys import normalised_email

LOG_TABLE = "raw._audience_export_log"


class AudienceExportError(ValueError):
    """An export that cannot be made; the message says why in one line."""


@dataclass
class AudienceExport:
    path: str
    campaign_type: str
    rows: int


def export_audience(con: duckdb.DuckDBPyConnection, campaign_type: str,
                    out_path: str | Path) -> AudienceExport:
    if campaign_type not in CAMPAIGN_TYPES:
        raise AudienceExportError(f"campaign type {campaign_type!r}: one of "
                                  f"{', '.join(CAMPAIGN_TYPES)}")
    out = Path(out_path)
    if out.suffix.lower() != ".csv":
        raise AudienceExportError(f"{out}: the audience file must end in .csv")
    emails = [row[0] for row in con.execute("""
        select distinct customers.email
        from ml.campaign_audiences as audience
        join staging.stg_shop__customers as customers using (customer_id)
        where audience.campaign_type = ? and audience.test_group = 'treatment'
          and customers.is_marketing_opt_in and customers.email is not null""",
        [campaign_type]).fetchall()]
    hashed = sorted({hashlib.sha256(normalised_email(e).encode()).hexdigest() for e in emails})
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email_sha256"])
        writer.writerows([h] for h in hashed)
    con.execute(f"create table if not exists {LOG_TABLE} (exported_at timestamp, "
                f"campaign_type varchar, row_count bigint, file varchar)")
    con.execute(f"insert into {LOG_TABLE} values (now(), ?, ?, ?)",
                [campaign_type, len(hashed), str(out.resolve())])
    return AudienceExport(str(out), campaign_type, len(hashed))
