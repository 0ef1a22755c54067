"""The ledger: which entities changed since the last dbt build and how, and what forgetting
an entity (raw rows changed in place) does to the build and check state."""

from __future__ import annotations

import re

import duckdb
import pytest

from dagster_project import ledger
from dagster_project.settings import PROJECT_ROOT


def _hold(con, entity: str, files: dict[str, str]) -> None:
    """raw.<entity> now holds these files (path -> fingerprint), as a load records them."""
    ledger.record_load(con, entity, "load", [(p, p.rsplit("/", 1)[-1], f, 1)
                                             for p, f in files.items()], [], 0.0)


@pytest.fixture
def con():
    con = duckdb.connect()
    ledger.ensure(con)
    ledger.ensure(con)  # idempotent
    _hold(con, "orders", {"/d/orders-1.csv": "10:1", "/d/orders-2.csv": "20:1"})
    _hold(con, "customers", {"/d/customers.csv": "5:1"})
    _hold(con, "events", {"/d/events.jsonl": "7:1"})
    return con


def test_every_entity_is_changed_before_the_first_successful_build(con):
    changes = ledger.changed_entities(con)
    assert sorted(changes) == ["customers", "events", "orders"]
    assert not any(change.known or change.append_only for change in changes.values())


def test_added_rewritten_and_removed_files_since_the_last_build(con):
    ledger.record_build(con, "project-1")
    assert ledger.changed_entities(con) == {}
    assert ledger.built_state(con)[ledger.PROJECT_KEY] == "project-1"
    _hold(con, "orders", {"/d/orders-1.csv": "10:1", "/d/orders-2.csv": "20:1",
                          "/d/orders-3.csv": "3:9"})  # one more day
    _hold(con, "customers", {"/d/customers.csv": "6:2"})  # rewritten in place
    _hold(con, "events", {})  # removed
    changes = ledger.changed_entities(con)
    assert changes["orders"] == ledger.FileChange("orders", added=("orders-3.csv",))
    assert changes["orders"].append_only
    assert changes["customers"].rewritten == ("customers.csv",)
    assert not changes["customers"].append_only
    assert changes["events"].removed == ("events.jsonl",) and changes["events"].changed
    assert not changes["events"].append_only


def test_a_started_build_trusts_no_earlier_state_until_it_succeeds(con):
    ledger.record_build(con, "project-1")
    ledger.start_build(con)
    assert ledger.built_state(con) == {}
    assert sorted(ledger.changed_entities(con)) == ["customers", "events", "orders"]


def test_forgetting_an_entity_rebuilds_and_revalidates_it(con):
    ledger.record_build(con, "project-1")
    ledger.record_check(con, "raw_customers", "customers", "suite-digest", 1, "run-1")
    ledger.record_check(con, "raw_orders", "orders", "suite-digest", 2, "run-1")
    ledger.forget(con, ["customers"])  # e.g. the privacy zone cleared personal data
    change = ledger.changed_entities(con)
    assert list(change) == ["customers"] and not change["customers"].append_only
    assert ledger.check_state(con, "raw_customers") is None
    kept = ledger.check_state(con, "raw_orders")
    assert kept.files == {"/d/orders-1.csv": "10:1", "/d/orders-2.csv": "20:1"}
    assert (kept.row_count, kept.run_id) == (2, "run-1")
    ledger.mark_built(con, ["customers"])  # an erasure's rebuild succeeded
    assert ledger.changed_entities(con) == {}


def test_mark_built_trusts_nothing_after_a_failed_build(con):
    ledger.start_build(con)
    ledger.mark_built(con, ["customers"])
    assert sorted(ledger.changed_entities(con)) == ["customers", "events", "orders"]


def test_samples_naming_a_customer_are_cleared(con):
    ledger.record_results(con, "run-1", [
        ("raw/orders", "raw_orders", "expect_x", "c", "rule", "error", False, None, 1, 50.0,
         '[{"customer_id": "00042"}]', 0.1),
        ("raw/orders", "raw_orders", "expect_y", "c", "rule", "error", False, None, 1, 50.0,
         '[{"customer_id": "00043"}]', 0.1)])
    assert ledger.clear_samples(con, '"00042"') == 1
    assert con.execute("select sample from audit.dq_results order by expectation").fetchall() \
        == [(None,), ('[{"customer_id": "00043"}]',)]


def _log(con, relation: str, invocation: str, kind: str, key_hash: int | None = None,
         columns: str | None = None) -> None:
    """One row of dbt's change log, as dbt/macros/change_log.sql writes it."""
    con.execute(f"insert into {ledger.MODEL_CHANGES} values (?, ?, ?, ?, ?, now()::timestamp)",
                [relation, invocation, kind, columns, key_hash])


def test_the_changes_since_a_publication_and_their_pruning(con):
    assert ledger.model_changes(con) == ledger.ModelChanges(
        published=None, running=False, whole=frozenset(), keys={}, cutoff=None)
    _log(con, "marts.orders", "i1", "table")
    _log(con, "marts.fct_events", "i1", "keys", columns="visitor_id")  # the marker
    _log(con, "marts.fct_events", "i1", "keys", 42, "visitor_id")
    _log(con, "*", "i2", "running")
    changes = ledger.model_changes(con)
    assert (changes.published, changes.running, changes.whole, changes.keys) == (
        None, True, {"marts.orders"}, {"marts.fct_events": "visitor_id"})

    ledger.record_publication(con, "run@2026-11-26 01:00:00", changes.cutoff)
    assert ledger.model_changes(con) == ledger.ModelChanges(
        published="run@2026-11-26 01:00:00", running=False, whole=frozenset(), keys={},
        cutoff=None)
    ledger.record_publication(con, "next@2026-11-26 02:00:00", None)  # one token only
    assert con.execute(f"select invocation_id from {ledger.MODEL_CHANGES}").fetchall() == [
        ("next@2026-11-26 02:00:00",)]


def test_the_change_log_ddl_in_dbt_matches_the_ledger():
    """dbt's on-run-start hook creates raw._model_changes when dbt runs before the ledger
    has (dbt/macros/change_log.sql); both texts must declare the same columns."""
    macro = (PROJECT_ROOT / "dbt" / "macros" / "change_log.sql").read_text()
    found = re.search(r"create table if not exists \{\{ shop_change_log\(\) \}\} (\(.*?\));",
                      macro, re.S)
    assert found, "change_log.sql no longer creates the log with a column list"

    def columns(text: str) -> list[str]:
        return [" ".join(c.split()) for c in text.strip().strip("()").split(",")]

    assert columns(found.group(1)) == columns(ledger.DDL[ledger.MODEL_CHANGES])
    assert columns(found.group(1))[0] == "relation varchar"


def test_the_change_ranges_ddl_in_dbt_matches_the_ledger():
    """The same for raw._model_change_ranges (DECISIONS 36), which the hook creates too."""
    macro = (PROJECT_ROOT / "dbt" / "macros" / "change_log.sql").read_text()
    found = re.search(r"create table if not exists \{\{ shop_change_ranges\(\) \}\} "
                      r"(\(.*?\));", macro, re.S)
    assert found, "change_log.sql no longer creates the ranges with a column list"

    def columns(text: str) -> list[str]:
        return [" ".join(c.split()) for c in text.strip().strip("()").split(",")]

    assert columns(found.group(1)) == columns(ledger.DDL[ledger.MODEL_CHANGE_RANGES])
    assert columns(found.group(1))[0] == "relation varchar"


def test_no_change_log_reads_as_none():
    """Before dbt's first run the log does not exist: the serving copy is copied whole."""
    con = duckdb.connect()
    assert ledger.model_changes(con) is None
    ledger.ensure(con)
    assert ledger.model_changes(con) == ledger.ModelChanges(
        published=None, running=False, whole=frozenset(), keys={}, cutoff=None)
