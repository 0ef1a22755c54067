"""An unchanged entity's freshness is its recorded age plus the days since."""

from __future__ import annotations

from dagster_project.quality.checks import aged_outcome
from expectations.runner import Outcome


def _freshness(observed: str | None, success: bool) -> Outcome:
    return Outcome("raw_orders", "expect_column_min_to_be_between", "ordered_at__age_days",
                   "newest ordered_at at most 45 days old", "warn", success, observed, None,
                   None)


def test_a_recorded_age_grows_by_the_days_since_and_fails_past_the_limit():
    bounds = {"column": "ordered_at__age_days", "max_value": 45}
    assert aged_outcome(_freshness("40", True), bounds, 5) == _freshness("45", True)
    assert aged_outcome(_freshness("40", True), bounds, 6) == _freshness("46", False)
    assert aged_outcome(_freshness("40", True), bounds, 0) == _freshness("40", True)


def test_an_empty_table_has_no_age_to_grow():
    assert aged_outcome(_freshness(None, True), {"max_value": 45}, 3) == _freshness(None, True)
