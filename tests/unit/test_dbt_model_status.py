"""After a dbt build, the live warehouse says which models are stale."""

from __future__ import annotations

import duckdb

from dagster_project.ledger import record_model_status


def _results(**statuses: str) -> dict:
    return {"results": [{"unique_id": f"model.shop.{name}", "status": status, "message": ""}
                        for name, status in statuses.items()]
            + [{"unique_id": "test.shop.not_null_x", "status": "fail", "message": ""}]}


def test_failed_and_skipped_models_are_stale_until_a_later_build_succeeds():
    con = duckdb.connect()
    stale = record_model_status(con, _results(orders="success", customers="error",
                                              channels="skipped"), "run-1")
    assert stale == ["channels", "customers"]  # tests are not models
    # An incremental build runs only customers, successfully: channels stays stale.
    assert record_model_status(con, _results(customers="success"), "run-2") == ["channels"]
    assert con.execute("select model, status, run_id from audit.dbt_model_status "
                       "order by model").fetchall() == [
        ("channels", "skipped", "run-1"), ("customers", "success", "run-2"),
        ("orders", "success", "run-1")]
