"""Which dbt builds may be incremental (DECISIONS 31): only when every changed entity only
gained files since the last successful build, and no incremental model is fed by a changed
entity it does not append."""

from dagster_project.transform.assets import _incremental_blocked_by, appended_entities

BUILT = {"orders": "d1", "events": "d2", "_project": "p"}
THEN = {"orders": {"/d/orders-1.csv": "10:1"}, "events": {"/d/events-1.jsonl": "20:1"}}


def test_a_new_file_is_an_append():
    now = {"orders": {"/d/orders-1.csv": "10:1", "/d/orders-2.csv": "5:2"},
           "events": {"/d/events-1.jsonl": "20:1", "/d/events-2.jsonl": "7:2"}}
    assert appended_entities(now, THEN, ["events", "orders"], BUILT) == ["events", "orders"]


def test_a_rewritten_or_removed_file_is_not():
    rewritten = {"orders": {"/d/orders-1.csv": "11:3", "/d/orders-2.csv": "5:2"}}
    removed = {"orders": {"/d/orders-2.csv": "5:2"}}
    assert appended_entities(rewritten, THEN, ["orders"], BUILT) == []
    assert appended_entities(removed, THEN, ["orders"], BUILT) == []


def test_one_rewritten_entity_makes_the_whole_build_full():
    now = {"orders": {"/d/orders-1.csv": "10:1", "/d/orders-2.csv": "5:2"},
           "events": {"/d/events-1.jsonl": "21:9"}}
    assert appended_entities(now, THEN, ["events", "orders"], BUILT) == []


def test_forgotten_state_or_no_recorded_files_is_not_an_append():
    now = {"orders": {"/d/orders-1.csv": "10:1", "/d/orders-2.csv": "5:2"}}
    # An erasure forgets the entity's digest: its raw rows changed while its files did not.
    assert appended_entities(now, THEN, ["orders"], {"_project": "p"}) == []
    # A warehouse built before the file list was recorded, or a new entity.
    assert appended_entities(now, {}, ["orders"], BUILT) == []


def test_models_fed_by_an_entity_they_do_not_append_block_the_incremental_build():
    assert _incremental_blocked_by(["orders", "order_items", "events"]) == {}
    blocked = _incremental_blocked_by(["fx_rates", "orders"])
    assert blocked["base_shop__orders"] == ["fx_rates"]
    assert "base_shop__events" not in blocked
    assert _incremental_blocked_by(["channels"])["fct_events"] == ["channels"]
