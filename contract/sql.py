"""Writing names and values into SQL where DuckDB takes no parameter (identifiers, ATTACH,
COMMENT ON, a query handed to Great Expectations). Every name or value that comes from a
file, a setting or the contract goes through one of these, never pasted in bare."""

from __future__ import annotations

from collections.abc import Iterable


def identifier(name: str) -> str:
    """A SQL identifier, double-quoted with embedded double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal, single-quoted with embedded single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def literal_list(values: Iterable[str]) -> str:
    """Comma-separated string literals, for `in (...)`."""
    return ", ".join(literal(value) for value in values)
