"""Personal data (README, "Personal data"), on one generated shop built once with the
recommender, the audiences, the KPI report and the serving copy:
- a dictionary of the drop's e-mails (MD5, SHA-1, SHA-256, raw or normalised) reverses no
  published value, and the e-mail pseudonym is the HMAC under the warehouse's key file;
- no published table (marts, ml, audit, the serving copy) nor the report holds an e-mail,
  a phone number or a name of the drop;
- `make erase`'s command erases a customer present in orders, events, reviews and campaign
  members: no row in any schema keeps their id, e-mail, phone or name, revenue and order
  counts do not change, and neither a rebuild nor a re-delivered export brings them back
  (the reconciliation counts the withheld rows);
- a consent withdrawal in a new export removes a customer from audiences and
  recommendations at the next build.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import materialize

from dagster_project.ingest.assets import raw_exports
from dagster_project.ml.recommend_assets import campaign_audiences, recommendations
from dagster_project.privacy.audience_export import AudienceExportError, export_audience
from dagster_project.quality.checks import published_table_checks, raw_contract_checks
from dagster_project.report.assets import kpi_report
from dagster_project.resources import ModelStore, ReportStore, ShopSettings, WarehouseResource
from dagster_project.serving.assets import serving_copy
from dagster_project.state import dbt_target_path
from dagster_project.transform.assets import dbt_resource, shop_dbt_models
from sample_data import Config, generate

pytestmark = pytest.mark.xdist_group("privacy")
ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ("marts", "ml", "audit")
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
PHONE = r"\+\d{8,15}"
UNIQUE_NAME = ("Zebulon", "Quixotebeam")  # the erased customer's name, unique in the drop


def read_csvs(drop: Path, entity: str) -> pd.DataFrame:
    files = sorted(drop.glob(f"{entity}*.csv"))
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
                      for f in files], ignore_index=True)


def event_customers(drop: Path) -> set[str]:
    seen = set()
    for path in drop.glob("events*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                seen.add(json.loads(line).get("customer_id"))
            except (ValueError, AttributeError):
                continue  # the generator's malformed lines
    return seen


def pipeline(root: Path) -> bool:
    """`build_warehouse` (load, dbt, checks, serving copy), then the part of
    `train_models` that targets customers (recommendations, audiences) and the report, as
    two runs like the jobs (in one run, an incremental dbt build that leaves a mart alone
    would make Dagster skip the models that read it)."""
    drop, warehouse = root / "drop", root / "wh.duckdb"
    resources = {"warehouse": WarehouseResource(path=str(warehouse)),
                 "shop": ShopSettings(drop_dir=str(drop)),
                 "dbt": dbt_resource(),
                 "models": ModelStore(models_dir=str(root / "models")),
                 "reports": ReportStore(report_dir=str(root / "reports"))}
    # The copy as each job has it: the warehouse job's, then one published after the models.
    return all(materialize(assets, resources=resources, raise_on_error=False).success
               for assets in ([raw_exports, shop_dbt_models, raw_contract_checks,
                               published_table_checks, serving_copy()],
                              [recommendations, campaign_audiences, kpi_report,
                               serving_copy([recommendations, campaign_audiences])]))


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("privacy")
    drop = root / "drop"
    generate(Config(scale=0.005, seed=5), drop, log=lambda _: None)
    customers = pd.read_csv(drop / "customers.csv", dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    everywhere = (set(read_csvs(drop, "orders")["customer_id"])
                  & set(read_csvs(drop, "reviews")["customer_id"])
                  & set(read_csvs(drop, "campaign_members")["customer_id"])
                  & event_customers(drop))
    erased = sorted(everywhere & set(customers["customer_id"]))[0]
    # A name no other customer has, so "no row with their name" can be checked in staging.
    rows = customers["customer_id"] == erased
    customers.loc[rows, "first_name"], customers.loc[rows, "last_name"] = UNIQUE_NAME
    customers.to_csv(drop / "customers.csv", index=False)
    assert pipeline(root)
    return {"root": root, "drop": drop, "warehouse": root / "wh.duckdb",
            "serving": root / "wh.serving.duckdb", "erased": erased, "customers": customers}


def tables(con: duckdb.DuckDBPyConnection, database: str, schemas=None) -> list[tuple]:
    """(schema, table, [columns]) of every table of an attached database."""
    rows = con.execute("""
        select schema_name, table_name, list(column_name order by column_index)
        from duckdb_columns() where database_name = ?
          and table_name in (select table_name from duckdb_tables() as t
                             where t.database_name = ? and t.schema_name = schema_name)
        group by all order by all""", [database, database]).fetchall()
    return [r for r in rows if schemas is None or r[0] in schemas]


def hits(path: Path, *, exact: set[str], pattern: str, schemas=None) -> list[str]:
    """`schema.table.column` of every column with a value equal to one of `exact` or
    matching the regular expression `pattern` (every column read as text)."""
    found = []
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as db (read_only)")
        con.execute("create temp table needles as select unnest(?::varchar[]) as value",
                    [sorted(exact)])
        for schema, table, columns in tables(con, "db", schemas):
            for column in columns:
                value = f'cast("{column}" as varchar)'
                count = con.execute(
                    f'select count(*) from db."{schema}"."{table}" where {value} in '
                    f'(select value from needles) or regexp_matches({value}, ?)',
                    [pattern]).fetchone()[0]
                if count:
                    found.append(f"{schema}.{table}.{column} ({count} rows)")
    return found


def full_names(customers: pd.DataFrame) -> set[str]:
    """Full names as written: "First Last", and family name first for Chinese names."""
    pairs = [(first, last) for first, last in zip(customers["first_name"],
                                                  customers["last_name"], strict=True)
             if first.strip() and last.strip()]
    return ({f"{first} {last}" for first, last in pairs}
            | {f"{last}{first}" for first, last in pairs if not first.isascii()})


def drop_personal_data(customers: pd.DataFrame) -> tuple[set[str], str]:
    """The drop's e-mails, phones and names as exact values; a pattern for any e-mail or
    phone and for the full names."""
    names = {*customers["first_name"], *customers["last_name"]} - {""}
    exact = {*customers["email"], *customers["phone"], *names} - {""}
    return exact, "|".join([EMAIL, PHONE, *sorted(map(re.escape, full_names(customers)))])


def test_no_published_table_or_report_holds_personal_data(shop):
    exact, pattern = drop_personal_data(shop["customers"])
    assert hits(shop["warehouse"], exact=exact, pattern=pattern, schemas=PUBLISHED) == []
    assert hits(shop["serving"], exact=exact, pattern=pattern) == []
    # ... while the personal-data zone does hold them (the scan finds what it looks for).
    assert any(h.startswith("staging.stg_shop__customers.email")
               for h in hits(shop["warehouse"], exact=exact, pattern=pattern,
                             schemas=("staging",)))
    # The report (Plotly's JavaScript inlined): no e-mail, phone or full name of the drop.
    html = (shop["root"] / "reports" / "latest.html").read_text(encoding="utf-8")
    people = {*shop["customers"]["email"], *shop["customers"]["phone"]} - {""}
    full = full_names(shop["customers"])
    assert len(html) > 100_000 and not [v for v in people | full if v in html]


def test_a_dictionary_of_the_drops_emails_reverses_no_pseudonym(shop):
    emails = {e for e in shop["customers"]["email"] if e}
    dictionary = {}
    for email in emails:
        for variant in {email, email.strip().lower()}:
            for algorithm in ("md5", "sha1", "sha256"):
                dictionary[hashlib.new(algorithm, variant.encode()).hexdigest()] = email
    published = set()
    with duckdb.connect(str(shop["serving"]), read_only=True) as con:
        database = con.execute("select current_database()").fetchone()[0]
        for schema, table, columns in tables(con, database):
            for column in columns:
                published |= {str(v[0]) for v in con.execute(
                    f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"'
                ).fetchall()}
    assert not published & set(dictionary)
    # The pseudonym is keyed: HMAC-SHA256 of the normalised e-mail under the key file
    # (owner-only, beside the warehouse, never in it).
    key_file = shop["root"] / "wh.state" / "pseudonym.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert shop["warehouse"].stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    with duckdb.connect(str(shop["warehouse"]), read_only=True) as con:
        pairs = con.execute("""
            select staged.email, dim.email_pseudonym from marts.dim_customers as dim
            join staging.stg_shop__customers as staged using (customer_id)""").fetchall()
    assert len(pairs) > 100 and all(p for e, p in pairs if e)
    expected = {e: hmac.new(key.encode(), e.strip().lower().encode(), "sha256").hexdigest()
                for e, _ in pairs if e}
    assert {e: p for e, p in pairs if e} == expected
    assert hits(shop["warehouse"], exact={key}, pattern=re.escape(key)) == []
    # The build's dbt target folder is the warehouse's own (<warehouse>.state/dbt_target).
    build_target = dbt_target_path(shop["warehouse"])
    assert (build_target / "run_results.json").is_file()
    compiled = [p for folder in (ROOT / "dbt" / "target", build_target)
                for p in folder.rglob("*") if p.is_file() and key in p.read_text(errors="ignore")]
    assert compiled == []


def test_the_customer_match_export_holds_only_opted_in_treatment_customers(shop, tmp_path):
    out = tmp_path / "ads" / "win_back.csv"
    with duckdb.connect(str(shop["warehouse"])) as con:
        done = export_audience(con, "win_back", out)
        members = con.execute("""
            select audience.customer_id, customers.is_marketing_opt_in
            from ml.campaign_audiences as audience join marts.dim_customers as customers
            using (customer_id)
            where campaign_type = 'win_back' and test_group = 'treatment'""").fetchall()
        logged = con.execute("select campaign_type, row_count from raw._audience_export_log"
                             ).fetchall()
    assert members and all(opted_in for _, opted_in in members)
    # Independently: SHA-256 of the drop's e-mails of those customers, normalised as ad
    # platforms ask (trimmed, lower case); every version's e-mail, as the latest one wins.
    customers = shop["customers"].set_index("customer_id")
    candidates = {hashlib.sha256(e.strip().lower().encode()).hexdigest()
                  for customer, _ in members
                  for e in customers.loc[[customer], "email"] if e}
    written = out.read_text().splitlines()
    assert written[0] == "email_sha256" and len(written) - 1 == done.rows > 0
    assert set(written[1:]) <= candidates
    assert out.stat().st_mode & 0o777 == 0o600
    assert logged == [("win_back", done.rows)]
    with pytest.raises(AudienceExportError, match="campaign type 'spam'"):
        export_audience(duckdb.connect(), "spam", out)


def totals(warehouse: Path) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""
            select count(*), count(*) filter (where is_counted),
                   sum(net_revenue_amount) filter (where is_counted),
                   sum(gross_revenue_amount) filter (where is_counted),
                   (select count(*) from marts.dim_customers where not is_unknown_member),
                   (select sum(net_revenue_amount) from marts.channels)
            from marts.fct_orders""").fetchone()


def no_trace(shop: dict) -> list[str]:
    """Columns of any schema (raw included) or of the serving copy with the erased
    customer's id, e-mail, phone or name."""
    versions = shop["customers"][shop["customers"]["customer_id"] == shop["erased"]]
    exact = {shop["erased"], *versions["email"], *versions["phone"], *UNIQUE_NAME} - {""}
    pattern = "|".join(re.escape(v) for v in exact)
    return (hits(shop["warehouse"], exact=exact, pattern=pattern)
            + hits(shop["serving"], exact=exact, pattern=pattern))


def erase(shop: dict, customer_id: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHOP_DROP_DIR": str(shop["drop"])}
    return subprocess.run([sys.executable, "-m", "dagster_project.privacy", "erase",
                           "--customer", customer_id, "--warehouse", str(shop["warehouse"]),
                           "--request-id", "req-42"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


def test_erasure_sticks_through_a_rebuild_and_a_redelivered_export(shop):
    erased, drop, warehouse = shop["erased"], shop["drop"], shop["warehouse"]
    assert no_trace(shop) != []  # before: the customer is in raw, staging and marts
    before = totals(warehouse)
    orders = read_csvs(drop, "orders")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        their_orders = {r[0] for r in con.execute(
            "select order_id from marts.fct_orders where customer_id = ?", [erased]).fetchall()}
    # Independently of the warehouse: the drop's orders of that customer.
    assert their_orders and their_orders <= set(orders.loc[orders["customer_id"] == erased,
                                                           "order_id"])

    done = erase(shop, erased)
    assert done.returncode == 0, done.stderr[-2000:]
    assert erased not in done.stdout + done.stderr
    assert no_trace(shop) == []
    assert totals(warehouse) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        anonymous = con.execute("select anonymous_customer_id from raw._suppression").fetchall()
        assert len(anonymous) == 1 and anonymous[0][0].startswith("erased-")
        assert {r[0] for r in con.execute(
            "select order_id from marts.fct_orders where customer_id = ?", [anonymous[0][0]]
        ).fetchall()} == their_orders
        assert con.execute("select is_erased_member, is_marketing_opt_in from "
                           "marts.dim_customers where customer_id = ?",
                           [anonymous[0][0]]).fetchall() == [(True, False)]
        request, scope = con.execute("select request_id, scope from raw._erasure_log").fetchone()
    assert request == "req-42" and erased not in scope
    assert {"raw.customers", "raw.orders", "raw.events", "raw.reviews",
            "raw.campaign_members"} <= {k for k, v in json.loads(scope).items() if v}
    # Saved models: nothing per customer (no customer id in any saved file).
    ids = set(shop["customers"]["customer_id"])
    saved = [p for p in (shop["root"] / "models").rglob("*") if p.is_file()]
    assert saved and not [p for p in saved
                          if set(re.findall(r"C\d{6}", p.read_text(errors="ignore"))) & ids]

    # A re-delivered export brings the customer back in a new file, and another customer
    # withdraws consent; both at the next (incremental) build.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        targeted = {r[0] for r in con.execute(
            "select customer_id from ml.campaign_audiences").fetchall()}
    customers = shop["customers"]
    withdrawn = sorted(targeted - {erased})[0]
    again = customers[customers["customer_id"].isin([erased, withdrawn])].copy()
    again.loc[again["customer_id"] == withdrawn, ["marketing_opt_in", "updated_at"]] = \
        ["false", "2026-11-20T00:00:00Z"]
    again.to_csv(drop / "customers-0002.csv", index=False)
    orders[orders["customer_id"] == erased].to_csv(drop / "orders-0003.csv", index=False)
    assert pipeline(shop["root"])
    assert no_trace(shop) == []
    assert totals(warehouse) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        suppressed = dict(con.execute("select entity, suppressed_row_count from "
                                      "audit.load_reconciliation").fetchall())
        audiences = {r[0] for r in con.execute(
            "select customer_id from ml.campaign_audiences").fetchall()}
        recommended = {r[0] for r in con.execute(
            "select customer_id from ml.customer_recommendations").fetchall()}
    files = {"customers": customers, "orders": orders,
             "reviews": read_csvs(drop, "reviews"),
             "campaign_members": read_csvs(drop, "campaign_members")}
    # Withheld or anonymised: every row of the erased customer in the files, counted from
    # the files themselves (the originals, once more in the re-delivered ones).
    assert suppressed["customers"] == (customers["customer_id"] == erased).sum() + 1
    assert suppressed["orders"] == 2 * (orders["customer_id"] == erased).sum()
    for entity in ("reviews", "campaign_members"):
        assert suppressed[entity] == (files[entity]["customer_id"] == erased).sum() > 0
    assert suppressed["events"] > 0
    assert withdrawn not in audiences and withdrawn not in recommended
    assert audiences and recommended
