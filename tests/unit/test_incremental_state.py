"""Which dbt builds may be incremental (DECISIONS 31): only when every changed entity only
gained files (the ledger's FileChange.append_only, tested in test_ledger.py) and no
incremental model is fed by a changed entity it does not append."""

from dagster_project.transform.assets import _incremental_blocked_by


def test_a_day_of_orders_lines_and_events_blocks_no_incremental_model():
    assert _incremental_blocked_by(["orders", "order_items", "events"]) == {}


def test_models_fed_by_an_entity_they_do_not_append_block_the_incremental_build():
    blocked = _incremental_blocked_by(["fx_rates", "orders"])
    assert blocked["base_shop__orders"] == ["fx_rates"]  # rates decide old orders' base amounts
    assert "base_shop__events" not in blocked
    assert _incremental_blocked_by(["channels"])["fct_events"] == ["channels"]
    # New customers can turn an old order's unknown customer into a known one.
    assert "customers" in _incremental_blocked_by(["customers"])["fct_orders"]
