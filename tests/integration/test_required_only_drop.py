"""A drop with only the four required entities still builds every mart."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_pipeline, write_required_entities

pytestmark = pytest.mark.xdist_group("required_only")


def test_required_entities_alone_build_every_mart(tmp_path):
    write_required_entities(tmp_path / "drop")
    result = run_pipeline(tmp_path / "drop", tmp_path / "wh.duckdb", quarantine_limit=0.5)
    assert result.success
    marts = [r[0] for r in query(tmp_path / "wh.duckdb", "select table_name from"
                                 " duckdb_tables() where schema_name = 'marts'")]
    counts = {name: query(tmp_path / "wh.duckdb", f"select count(*) from marts.{name}")[0][0]
              for name in marts}
    expected_marts = {"customers", "orders", "channels", "campaigns", "dim_customers",
                      "dim_products", "dim_channels", "dim_campaigns", "dim_date", "fct_orders",
                      "fct_order_items", "fct_events", "fct_ad_spend", "fct_campaign_members",
                      "fct_reviews", "fct_inventory_snapshots"}
    assert expected_marts <= set(counts)
    assert counts["customers"] == 3 and counts["fct_events"] == 0 and counts["campaigns"] == 0
    # Without fx_rates the CNY orders have no rate: quarantined, not guessed.
    assert query(tmp_path / "wh.duckdb", "select raw_order_id from staging"
                 ".stg_shop__orders_rejected where rejection_reason = 'currency_without_rate'"
                 " order by 1") == [("o4",), ("o5",), ("o7",)]
    # Without a channel export every order channel is the unknown member.
    assert query(tmp_path / "wh.duckdb", "select distinct channel_id from marts.fct_orders") \
        == [("-1",)]


def test_unreadable_file_fails_the_run_and_names_the_file(tmp_path):
    write_required_entities(tmp_path / "drop")
    (tmp_path / "drop" / "reviews.parquet").write_text("not parquet")
    result = run_pipeline(tmp_path / "drop", tmp_path / "wh.duckdb")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "reviews.parquet: cannot be read as parquet" in str(failure.event_specific_data.error)
