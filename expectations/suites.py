"""The suites. Each is a SQL query over the warehouse plus expectations on its columns.

Raw columns are text, so the query derives what an expectation needs (`<col>__parses`,
`<col>__value`, `<col>__age_days`) with DuckDB's try_cast: the work stays in the engine.
Every expectation carries `meta.severity`: "error" blocks what depends on the asset,
"warn" is shown but does not block. Row-level raw rules tolerate the quarantine limit:
a share of the rows (`SHOP_QUARANTINE_LIMIT`), but never fewer than a count
(`SHOP_QUARANTINE_MIN_ROWS`), so two bad rows in a first export of seven are quarantined
while a broken export of thousands is stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, field, replace
from datetime import date

import great_expectations.expectations as gxe

from contract import ENTITIES, PLAUSIBILITY

# What the raw rules need of each entity, read from the typed contract (contract/__init__.py):
# times and dates must parse as ISO 8601, numbers as numbers (a thousands separator is fine).
TIMESTAMPS = {name: e.of_kind("timestamp", "date") for name, e in ENTITIES.items()
              if e.of_kind("timestamp", "date")}
NUMBERS = {name: e.of_kind("number", "integer") for name, e in ENTITIES.items()
           if e.of_kind("number", "integer")}
ACCEPTED = {(name, c.name): c.accepted for name, e in ENTITIES.items() for c in e.fields
            if c.accepted}
RANGES = {  # (entity, column): (min, max)
    (name, c.name): (c.minimum, c.maximum) for name, e in ENTITIES.items() for c in e.fields
    if c.minimum is not None or c.maximum is not None
}
# Plausibility, as staging quarantines it (dbt/macros/plausibility.sql): money held to
# |amount| < plausible_max_amount, times to a window, order-line quantities whole in 1..max.
AMOUNTS = {name: [c.name for c in e.fields if c.money] for name, e in ENTITIES.items()
           if any(c.money for c in e.fields)}
PLANNED = {(name, c.name) for name, e in ENTITIES.items() for c in e.fields if c.planned}
WHOLE_QUANTITIES = {(name, c.name) for name, e in ENTITIES.items() for c in e.fields
                    if c.quantity}
FRESHNESS = {"orders": "ordered_at", "events": "occurred_at"}
# Entities whose money must be in a currency with a rate: a required currency beside money.
MONEY_WITH_CURRENCY = {name for name, e in ENTITIES.items() if AMOUNTS.get(name)
                       and "currency" in e.required}


@dataclass
class Suite:
    name: str
    asset: list[str]  # Dagster asset key path
    query: str
    expectations: list = field(default_factory=list)
    index_columns: list[str] = field(default_factory=list)  # identify offending rows
    # The query as a function of the relation it reads (raw suites): `over` reads another.
    query_over: Callable[[str], str] | None = field(default=None, repr=False, compare=False)

    def definition(self) -> dict:
        """What the suite checks, JSON-able: equal definitions validate the same data alike
        (its fingerprint decides whether an unchanged table is validated again)."""
        configs = []
        for expectation in self.expectations:
            config = expectation.configuration.to_json_dict()
            config.pop("id", None)  # assigned when GX runs the suite
            configs.append(config)
        return {"name": self.name, "asset": self.asset, "query": self.query,
                "expectations": configs, "index_columns": self.index_columns}

    def over(self, relation: str) -> Suite:
        """The same suite reading `relation` (a parenthesised query returning the table's
        columns, e.g. some of its rows) wherever it reads its own table. The expectations
        are copies: Great Expectations binds them to the suite it runs."""
        if self.query_over is None:
            raise ValueError(f"suite {self.name} reads a fixed query")
        return replace(self, query=self.query_over(relation),
                       expectations=[copy(e) for e in self.expectations])

    def ages(self) -> list:
        """The expectations on an age in days (freshness): their outcome changes with the
        clock alone, by the days elapsed, while the data stays the same."""
        return [e for e in self.expectations if (e.meta or {}).get("clock") == "age_days"]


def _meta(severity: str, **extra) -> dict:
    return {"severity": severity, **extra}


def rated_currencies(con) -> list[str]:
    """Currencies with a positive rate in `raw.fx_rates`: the referential rule of the raw
    money columns (a currency without a rate is quarantined downstream)."""
    return [r[0] for r in con.execute(
        "select distinct upper(trim(currency)) from raw.fx_rates "
        "where try_cast(replace(rate_to_base, ',', '') as double) > 0").fetchall() if r[0]]


def tolerated_share(quarantine_limit: float, quarantine_min_rows: int, row_count: int) -> float:
    """Share of bad rows a row rule tolerates: the limit, or min_rows of the table when that
    is more (a table of 7 rows with min_rows 10 tolerates all of them being quarantined)."""
    floor = quarantine_min_rows / row_count if row_count else 0.0
    return min(1.0, max(quarantine_limit, floor))


def raw_suite(entity: str, *, quarantine_limit: float, freshness_days: int,
              base_currency: str, rated_currencies: list[str], quarantine_min_rows: int = 0,
              row_count: int = 0) -> Suite:
    """The contract of one raw entity as expectations (see module docstring)."""
    spec = ENTITIES[entity]
    mostly = round(1 - tolerated_share(quarantine_limit, quarantine_min_rows, row_count), 6)
    columns = ["_source_file", "_source_line"]
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=sorted(spec.required | {"_source_file", "_source_line"}),
            exact_match=False, meta=_meta("error", rule="required columns present")),
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1, meta=_meta("error" if spec.is_required_entity else "warn",
                                    rule="entity has rows")),
    ]
    for column in sorted(spec.required):
        columns.append(f"nullif(trim({column}), '') as {column}")
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(
            column=column, mostly=mostly, meta=_meta("error", rule="required value")))
    parse_rules = [(c, f"try_cast(trim({c}) as timestamptz)", f"{c} is an ISO 8601 timestamp")
                   for c in TIMESTAMPS.get(entity, [])]
    parse_rules += [(c, f"try_cast(replace(trim({c}), ',', '') as double)", f"{c} is a number")
                    for c in NUMBERS.get(entity, [])]
    for column, parsed, rule in parse_rules:  # empty is fine here; required values are above
        columns.append(f"(nullif(trim({column}), '') is null or {parsed} is not null)"
                       f" as {column}__parses")
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column=f"{column}__parses", value_set=[True], mostly=mostly,
            meta=_meta("error", rule=rule)))
    expectations += _plausibility(entity, columns, mostly)
    for (owner, column), values in ACCEPTED.items():
        if owner == entity:
            columns.append(f"lower(nullif(trim({column}), '')) as {column}__value")
            expectations.append(gxe.ExpectColumnValuesToBeInSet(
                column=f"{column}__value", value_set=list(values), mostly=mostly,
                meta=_meta("error", rule=f"{column} is an accepted value")))
    for (owner, column), (low, high) in RANGES.items():
        if owner == entity:
            columns.append(f"try_cast(replace(trim({column}), ',', '') as double) as "
                           f"{column}__number")
            expectations.append(gxe.ExpectColumnValuesToBeBetween(
                column=f"{column}__number", min_value=low, max_value=high, mostly=mostly,
                meta=_meta("error", rule=f"{column} within [{low}, {high or ''}]")))
    if entity in MONEY_WITH_CURRENCY:
        columns.append("upper(nullif(trim(currency), '')) as currency__value")
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column="currency__value", value_set=sorted({base_currency, *rated_currencies}),
            mostly=mostly, meta=_meta("error", rule="currency has an fx rate")))
    freshness = FRESHNESS.get(entity)
    if freshness:
        expectations.append(gxe.ExpectColumnMinToBeBetween(
            column=f"{freshness}__age_days", max_value=freshness_days,
            meta=_meta("warn", rule=f"newest {freshness} at most {freshness_days} days old",
                       clock="age_days")))

    def query(relation: str) -> str:
        selected = list(columns)
        if freshness:
            # The newest value's age is the smallest (the age falls as the time rises), so
            # only the newest rows are given one: the per-row calendar arithmetic cost seconds.
            parsed = f"try_cast(trim({freshness}) as timestamptz)"
            selected.append(f"case when {parsed} >= (select max({parsed}) from {relation}) "
                            f"then date_diff('day', {parsed}, current_timestamp) end "
                            f"as {freshness}__age_days")
        return f"select {', '.join(selected)} from {relation}"

    return Suite(name=f"raw_{entity}", asset=["raw", entity], query=query(f"raw.{entity}"),
                 expectations=expectations, index_columns=["_source_file", "_source_line"],
                 query_over=query)


def _plausibility(entity: str, columns: list[str], mostly: float) -> list:
    """Times in the plausible window, amounts under the bound, whole quantities in 1..max
    (an empty or unparsable value is left to the rules above). Appends the derived columns."""
    earliest = date.fromisoformat(PLAUSIBILITY["plausible_earliest_date"]).isoformat()
    expectations = []
    for column in TIMESTAMPS.get(entity, []):
        days = int(PLAUSIBILITY["plausible_planned_days" if (entity, column) in PLANNED
                                else "plausible_future_days"])
        parsed = f"try_cast(trim({column}) as timestamptz)"
        columns.append(f"({parsed} is null or ({parsed} >= timestamptz '{earliest}' and {parsed}"
                       f" <= cast(_loaded_at as timestamptz) + interval {days} day))"
                       f" as {column}__plausible")
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column=f"{column}__plausible", value_set=[True], mostly=mostly,
            meta=_meta("error",
                       rule=f"{column} between {earliest} and {days} days after the load")))
    bound = int(PLAUSIBILITY["plausible_max_amount"])
    for column in AMOUNTS.get(entity, []):
        number = f"try_cast(replace(trim({column}), ',', '') as double)"
        columns.append(f"({number} is null or abs({number}) < {bound}) as {column}__plausible")
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column=f"{column}__plausible", value_set=[True], mostly=mostly,
            meta=_meta("error", rule=f"|{column}| < {bound:.0e}")))
    top = int(PLAUSIBILITY["plausible_max_quantity"])
    for owner, column in sorted(WHOLE_QUANTITIES):
        if owner == entity:
            number = f"try_cast(replace(trim({column}), ',', '') as double)"
            columns.append(f"({number} is null or {number} < 0 or ({number} = floor({number})"
                           f" and {number} between 1 and {top})) as {column}__whole")
            expectations.append(gxe.ExpectColumnValuesToBeInSet(
                column=f"{column}__whole", value_set=[True], mostly=mostly,
                meta=_meta("error", rule=f"{column} a whole number in [1, {top}]")))
    return expectations


def quarantine_suite(*, quarantine_limit: float, quarantine_min_rows: int = 0) -> Suite:
    """Share of each entity's raw rows that staging quarantined (all rules together), held
    to the same tolerance as the raw row rules (`tolerated_share`)."""
    limit, floor = float(quarantine_limit), int(quarantine_min_rows)
    return Suite(
        "audit_quarantine_share", ["audit", "load_reconciliation"],
        f"select entity, quarantined_row_count, cast(quarantined_row_count as double) / "
        f"nullif(raw_row_count, 0) as quarantined_share, quarantined_row_count <= "
        f"greatest({floor}, {limit} * raw_row_count) as within_limit "
        f"from audit.load_reconciliation",
        [gxe.ExpectColumnValuesToBeInSet(
            column="within_limit", value_set=[True],
            meta=_meta("error", rule=f"at most {quarantine_limit:.0%} (or {floor} rows) of an "
                                     f"entity quarantined"))],
        ["entity", "quarantined_row_count", "quarantined_share"])


def published_suites(*, quarantine_limit: float, quarantine_min_rows: int = 0) -> list[Suite]:
    """Every suite on a table dbt publishes: the marts and the quarantine share."""
    return [*mart_suites(quarantine_limit=quarantine_limit),
            quarantine_suite(quarantine_limit=quarantine_limit,
                             quarantine_min_rows=quarantine_min_rows)]


ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")


def mart_suites(*, quarantine_limit: float) -> list[Suite]:
    """Business ranges of the published marts (keys and relationships are dbt tests)."""
    share = round(1 - quarantine_limit, 6)
    non_negative = lambda column, severity="error": gxe.ExpectColumnValuesToBeBetween(  # noqa: E731
        column=column, min_value=0, meta=_meta(severity, rule=f"{column} >= 0"))
    rate = lambda column: gxe.ExpectColumnValuesToBeBetween(  # noqa: E731
        column=column, min_value=0, max_value=1, meta=_meta("error", rule=f"{column} in [0, 1]"))
    def rows():
        return gxe.ExpectTableRowCountToBeBetween(min_value=1,
                                                  meta=_meta("error", rule="has rows"))

    return [
        Suite("marts_customers", ["marts", "customers"], "select * from marts.customers", [
            rows(), non_negative("order_count"), non_negative("net_revenue_amount", "warn"),
            non_negative("average_order_value_amount", "warn"),
            non_negative("days_since_last_order"),
            gxe.ExpectColumnValuesToNotBeNull(
                column="acquisition_channel_id", mostly=0.8,
                meta=_meta("warn", rule="most customers have an acquisition channel")),
        ], ["customer_id"]),
        Suite("marts_orders", ["marts", "orders"], "select * from marts.orders", [
            rows(), non_negative("subtotal_amount"), non_negative("net_revenue_amount", "warn"),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="subtotal_amount", column_B="discount_amount", or_equal=True,
                mostly=share, meta=_meta("warn", rule="discount does not exceed subtotal")),
            gxe.ExpectColumnValuesToBeInSet(
                column="has_unknown_customer", value_set=[False], mostly=share,
                meta=_meta("warn", rule="orders with an unknown customer stay rare")),
        ], ["order_id"]),
        Suite("marts_channels", ["marts", "channels"], "select * from marts.channels", [
            rows(), rate("click_through_rate"), non_negative("spend_amount"),
            non_negative("return_on_ad_spend", "warn"), non_negative("session_count"),
        ], ["channel_id", "date_day"]),
        Suite("marts_campaigns", ["marts", "campaigns"], "select * from marts.campaigns", [
            rate("treatment_conversion_rate"), rate("control_conversion_rate"),
            non_negative("spend_amount"), non_negative("member_count"),
        ], ["campaign_id"]),
        Suite("marts_fct_orders", ["marts", "fct_orders"], "select * from marts.fct_orders", [
            rows(), gxe.ExpectColumnValuesToBeBetween(
                column="fx_rate_to_base", min_value=0, strict_min=True,
                meta=_meta("error", rule="fx rate positive")),
            gxe.ExpectColumnValuesToBeBetween(
                column="item_count", min_value=1, mostly=share,
                meta=_meta("warn", rule="orders have lines")),
        ], ["order_id"]),
        Suite("marts_fct_order_attribution", ["marts", "fct_order_attribution"],
              "select * from marts.fct_order_attribution",
              [rows()] + [rate(f"{model}_weight") for model in ATTRIBUTION_MODELS],
              ["order_id", "touch_number"]),
        Suite("marts_campaign_evaluation", ["marts", "campaign_evaluation"],
              "select * from marts.campaign_evaluation", [
            rate("p_value"),
            gxe.ExpectColumnValuesToBeBetween(
                column="conversion_uplift", min_value=-1, max_value=1,
                meta=_meta("error", rule="uplift in [-1, 1]")),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="conversion_uplift_upper", column_B="conversion_uplift_lower",
                or_equal=True, ignore_row_if="either_value_is_missing",
                meta=_meta("error", rule="interval upper >= lower")),
        ], ["campaign_id"]),
    ]
