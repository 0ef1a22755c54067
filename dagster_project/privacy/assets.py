"""The personal-data zone's own raw tables as Dagster asset specs (written by the ingest
step, dagster_project/privacy/zone.py, read by dbt as `source('privacy', ...)`), so the
lineage shows where the pseudonyms and the suppression list come from."""

from dagster import AssetSpec

PRIVACY_SPECS = [
    AssetSpec(key=["raw", name], group_name="ingest", kinds={"duckdb"}, description=text)
    for name, text in [
        ("email_pseudonyms", "`raw._email_pseudonyms`: each e-mail of raw.customers and its "
                             "HMAC-SHA256 pseudonym under the warehouse's secret key, "
                             "refreshed at every load of customers."),
        ("suppression", "`raw._suppression`: the suppression list (keyed pseudonyms of erased "
                        "customers' ids and their anonymous ids), applied at every load."),
        ("suppressed_rows", "`raw._suppressed_rows`: rows of the drop's files withheld or "
                            "anonymised for erased customers, per entity and file."),
    ]
]
