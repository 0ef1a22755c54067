"""GX suites as asset checks: a clean drop passes, a broken entity fails the right check
and stops the marts in that run, warnings show without blocking, results are recorded."""

from __future__ import annotations

import pandas as pd
import pytest
from dagster import AssetCheckSeverity, AssetKey

from sample_data import Config, generate
from tests.conftest import query, run_pipeline

pytestmark = pytest.mark.xdist_group("quality")


@pytest.fixture(scope="module")
def clean_drop(tmp_path_factory):
    drop = tmp_path_factory.mktemp("clean") / "drop"
    generate(Config(scale=0.003, seed=21, dirty_share=0.0), drop, log=lambda _: None)
    return drop


def _checks(result) -> dict[tuple[str, ...], object]:
    return {tuple(e.asset_key.path): e for e in result.get_asset_check_evaluations()
            if e.check_name == "great_expectations"}


def _materialized(result) -> set[AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_clean_drop_passes_every_check(clean_drop, tmp_path):
    result = run_pipeline(clean_drop, tmp_path / "wh.duckdb", freshness_days=100_000)
    assert result.success
    checks = _checks(result)
    assert len(checks) == 12 + 8  # every raw entity, seven marts and the quarantine share
    assert [key for key, e in checks.items() if not e.passed] == []
    recorded = query(tmp_path / "wh.duckdb", "select count(*), count(distinct suite),"
                                             " bool_and(success) from audit.dq_results")
    assert recorded[0][1] == 20 and recorded[0][2] is True and recorded[0][0] > 100


def _broken_copy(clean_drop, tmp_path, entity_glob, mutate):
    drop = tmp_path / "drop"
    drop.mkdir()
    for path in clean_drop.iterdir():
        (drop / path.name).write_bytes(path.read_bytes())
    for path in sorted(drop.glob(entity_glob)):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        mutate(frame).to_csv(path, index=False)
    return drop


def test_bad_timestamps_fail_the_orders_check_and_block_the_marts(clean_drop, tmp_path):
    def break_a_third(frame):
        frame.loc[frame.index % 3 == 0, "ordered_at"] = "not a date"
        return frame

    drop = _broken_copy(clean_drop, tmp_path, "orders-*.csv", break_a_third)
    result = run_pipeline(drop, tmp_path / "wh.duckdb", freshness_days=100_000)
    checks = _checks(result)
    orders = checks[("raw", "orders")]
    assert not orders.passed and orders.severity == AssetCheckSeverity.ERROR
    failed = orders.metadata["failed_details"].value
    assert [f["rule"] for f in failed] == ["ordered_at is an ISO 8601 timestamp"]
    assert 0.3 < failed[0]["unexpected_percent"] / 100 < 0.37
    assert failed[0]["sample"][0]["_source_file"].startswith("orders-")  # offending rows
    assert all(checks[("raw", e)].passed for e in ("customers", "products", "order_items"))
    materialized = _materialized(result)
    assert AssetKey(["raw", "orders"]) in materialized
    assert not any(key.path[0] in ("staging", "marts") for key in materialized)


def test_ratings_of_nine_fail_the_reviews_check(clean_drop, tmp_path):
    def nines(frame):
        frame["rating"] = "9"
        return frame

    drop = _broken_copy(clean_drop, tmp_path, "reviews.csv", nines)
    result = run_pipeline(drop, tmp_path / "wh.duckdb", freshness_days=100_000)
    reviews = _checks(result)[("raw", "reviews")]
    assert not reviews.passed and reviews.severity == AssetCheckSeverity.ERROR
    failed = reviews.metadata["failed_details"].value
    assert [f["rule"] for f in failed] == ["rating within [1, 5]"]
    assert failed[0]["unexpected_count"] == query(
        tmp_path / "wh.duckdb", "select count(*) from raw.reviews")[0][0]
    assert AssetKey(["marts", "customers"]) not in _materialized(result)


def test_stale_data_warns_without_blocking(clean_drop, tmp_path):
    result = run_pipeline(clean_drop, tmp_path / "wh.duckdb", freshness_days=1)
    orders = _checks(result)[("raw", "orders")]
    assert not orders.passed and orders.severity == AssetCheckSeverity.WARN
    assert orders.metadata["failed_details"].value[0]["rule"].startswith("newest ordered_at")
    assert AssetKey(["marts", "customers"]) in _materialized(result)
    assert query(tmp_path / "wh.duckdb", "select severity, success from audit.dq_results"
                 " where rule like 'newest ordered_at%'") == [("warn", False)]
