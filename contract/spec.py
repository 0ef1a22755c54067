"""The types of the raw export contract: a column, an entity, and what staging derives.

The contract itself (the entities and their columns) is data in `contract/__init__.py`.
Everything else reads it: the loader (columns, required columns, required entities), dbt's
staging through the macros `python -m contract.generate` writes (`dbt/macros/contract.sql`),
the sources YAML, the Great Expectations raw suites and the table in `docs/raw_exports.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .sql import literal_list

Kind = Literal["text", "timestamp", "date", "number", "integer", "boolean"]
KINDS: tuple[str, ...] = ("text", "timestamp", "date", "number", "integer", "boolean")
# How staging reports a value that does not parse: a date is a time (bad_timestamp:<col>),
# an integer a number (bad_number:<col>). Text and booleans are never rejected as unparsable.
PARSE_CODES = {"timestamp": "timestamp", "date": "timestamp", "number": "number",
               "integer": "number"}


@dataclass(frozen=True)
class Column:
    """One contract column. Raw holds every column as text; `kind` is what staging types it as.

    accepted: the values a text column may take, compared lower-case (staging lower-cases
    it; a value outside the list is `unknown_<column>`). money: an amount in the row's
    currency, held to |amount| < plausible_max_amount. planned: a time that may lie up to
    plausible_planned_days ahead (campaign dates, launches, published rates) instead of
    plausible_future_days. quantity: an item count that must be whole and in
    1..plausible_max_quantity (its own reason codes, never bad_number for 1.5).
    minimum/maximum: the range the raw suites check (staging quarantines values outside it
    with the entity's rule, e.g. rating_out_of_range, negative_amount).
    """

    name: str
    kind: Kind = "text"
    required: bool = False
    accepted: tuple[str, ...] = ()
    money: bool = False
    planned: bool = False
    quantity: bool = False
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""  # a note for the documentation table

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"contract column {self.name}: kind {self.kind!r} not in {KINDS}")
        if self.accepted and self.kind != "text":
            raise ValueError(f"contract column {self.name}: accepted values need a text column")
        if (self.money or self.quantity) and self.kind not in ("number", "integer"):
            raise ValueError(f"contract column {self.name}: money and quantities are numbers")
        if self.planned and self.kind not in ("timestamp", "date"):
            raise ValueError(f"contract column {self.name}: only a time can be planned")

    @property
    def parse_code(self) -> str | None:
        """`timestamp` or `number` (bad_<code>:<column>), None when the value is not parsed."""
        return PARSE_CODES.get(self.kind)


@dataclass(frozen=True)
class Entity:
    """One raw entity: its columns in file order, its key, and the rules staging adds.

    key: the columns one row (version) of the entity describes; versioned: versions of a key
    are told apart by `updated_at` (else by the later file, then line). rules: the reason
    codes of the entity's own rules, in the order the base model checks them after the
    contract's (their SQL lives in `dbt/models/staging/shop/base/base_shop__<entity>.sql`).
    parse_order: the order unparsable values are checked in, when it is not column order.
    """

    name: str
    fields: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    is_required_entity: bool = False
    versioned: bool = False
    rules: tuple[str, ...] = ()
    parse_order: tuple[str, ...] = ()
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {c.name: c for c in self.fields}
        object.__setattr__(self, "_by_name", by_name)
        problems = []
        if len(by_name) != len(self.fields):
            problems.append("a column is named twice")
        if not self.key or not set(self.key) <= set(by_name):
            problems.append(f"key {self.key} is not a set of its columns")
        if self.versioned != ("updated_at" in by_name):
            problems.append("versioned exactly when it has an updated_at column")
        parsed = [c.name for c in self.fields if c.parse_code]
        if self.parse_order and sorted(self.parse_order) != sorted(parsed):
            problems.append(f"parse_order {self.parse_order} must order exactly {parsed}")
        if problems:
            raise ValueError(f"contract entity {self.name}: " + "; ".join(problems))

    def __getitem__(self, column: str) -> Column:
        return self._by_name[column]

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names in file order (the raw table's order)."""
        return tuple(c.name for c in self.fields)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(c.name for c in self.fields if c.required)

    @property
    def required_columns(self) -> list[str]:
        """Required columns in column order (the order staging checks them)."""
        return [c.name for c in self.fields if c.required]

    @property
    def parsed(self) -> dict[str, str]:
        """{column: parse code} of the typed columns, in the order staging checks them."""
        order = self.parse_order or [c.name for c in self.fields if c.parse_code]
        return {name: self[name].parse_code for name in order}

    @property
    def updated_column(self) -> str | None:
        return "updated_at" if self.versioned else None

    def of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.fields if c.kind in kinds]

    def accepted_rules(self) -> list[tuple[str, str]]:
        """(SQL condition, reason) of every accepted-values column, in column order. The
        values are the spec's own constants, quoted as SQL literals."""
        rules = []
        for column in self.fields:
            if column.accepted:
                values = literal_list(column.accepted)
                present = "" if column.required else f"{column.name} is not null and "
                rules.append((f"{present}{column.name} not in ({values})",
                              f"unknown_{column.name}"))
        return rules

    def reason_codes(self) -> list[str]:
        """Every rejection_reason a row of this entity can get, first rule first (the
        precedence of dbt/macros/staging_helpers.sql `rejection_reason`)."""
        parsed = self.parsed
        return [
            "malformed_record",
            *[f"missing_required:{c}" for c in self.required_columns],
            *[f"bad_{code}:{c}" for c, code in parsed.items()],
            *[f"implausible_timestamp:{c}" for c, code in parsed.items() if code == "timestamp"],
            *[f"implausible_amount:{c.name}" for c in self.fields if c.money],
            *[reason for _, reason in self.accepted_rules()],
            *self.rules,
        ]


def col(name: str, kind: Kind = "text", **options) -> Column:
    return Column(name, kind, **options)


def req(name: str, kind: Kind = "text", **options) -> Column:
    """A required column: the file must have it and a row where it is empty is quarantined."""
    return Column(name, kind, required=True, **options)
