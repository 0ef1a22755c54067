"""Settings from environment variables, validated once when definitions are built.

| variable                  | default                  | meaning|
|---|---|---|
| SHOP_DROP_DIR             | data/drops/sample        | the export drop to load|
| SHOP_WAREHOUSE_PATH       | data/warehouse.duckdb    | the DuckDB warehouse file|
| SHOP_SERVING_PATH         | <warehouse>.serving.duckdb | copy for BI tools, swapped in by rename|
| SHOP_INBOX_DIR            | data/inbox               | new drop folders here trigger a run|
| SHOP_BASE_CURRENCY        | USD                      | ISO 4217 currency marts report money in|
| SHOP_TIMEZONE             | UTC                      | IANA zone of timestamps without an offset|
| SHOP_QUARANTINE_LIMIT     | 0.05                     | quarantined share that fails a raw check|
| SHOP_QUARANTINE_MIN_ROWS  | 10                       | bad rows always tolerated (small exports)|
| SHOP_FRESHNESS_DAYS       | 45                       | newest order/event older: a warning|
| SHOP_DUCKDB_MEMORY_LIMIT  | 2GB                      | DuckDB limit (dbt/profiles.yml)|
| SHOP_MODELS_DIR           | <warehouse>.state/models | saved ML models, one folder per version|
| SHOP_REPORT_DIR           | reports beside warehouse | KPI reports, in <dir>/<warehouse stem>/|
| SHOP_PSEUDONYM_KEY        | (a key file in state dir)| secret key of the published pseudonyms|
| SHOP_RETENTION_DAYS       | 1095                     | inactive customers' personal data kept|

Relative paths are taken from the project root, so commands work from any directory. A
bad value fails before any work with one line naming the variable and the rule
(`SettingsError`); values reach SQL only after this check, and then as quoted literals.

The serving copy defaults to a sibling of the warehouse file (`data/warehouse.duckdb` ->
`data/warehouse.serving.duckdb`): the same folder, so the rename that swaps it in is atomic
(one filesystem), and a name derived from the warehouse's own, so two warehouses never
share one copy.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEFAULTS = {  # the one place each default is written
    "SHOP_DROP_DIR": "data/drops/sample",
    "SHOP_WAREHOUSE_PATH": "data/warehouse.duckdb",
    "SHOP_INBOX_DIR": "data/inbox",
    "SHOP_BASE_CURRENCY": "USD",
    "SHOP_TIMEZONE": "UTC",
    "SHOP_QUARANTINE_LIMIT": "0.05",
    "SHOP_QUARANTINE_MIN_ROWS": "10",
    "SHOP_FRESHNESS_DAYS": "45",
    "SHOP_DUCKDB_MEMORY_LIMIT": "2GB",
    # Days without any activity after which a customer's clear personal data (name,
    # e-mail, phone) is cleared at the next build; 0 keeps it (README, "Personal data").
    "SHOP_RETENTION_DAYS": "1095",
}
CURRENCY = re.compile(r"[A-Z]{3}")
MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable and the rule."""


def _path(value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


def valid_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return bool(re.fullmatch(r"[A-Za-z0-9_+\-/]+", name))
def default_serving_path(warehouse_path: str) -> str:
    """`<folder>/<stem>.serving.duckdb` beside the warehouse file."""
    warehouse = Path(warehouse_path)
    return str(warehouse.with_name(f"{warehouse.stem}.serving.duckdb"))


@dataclass(frozen=True)
class Settings:
    drop_dir: str
    warehouse_path: str
    inbox_dir: str
    base_currency: str = DEFAULTS["SHOP_BASE_CURRENCY"]
    timezone: str = DEFAULTS["SHOP_TIMEZONE"]
    quarantine_limit: float = float(DEFAULTS["SHOP_QUARANTINE_LIMIT"])
    quarantine_min_rows: int = int(DEFAULTS["SHOP_QUARANTINE_MIN_ROWS"])
    freshness_days: int = int(DEFAULTS["SHOP_FRESHNESS_DAYS"])
    memory_limit: str = DEFAULTS["SHOP_DUCKDB_MEMORY_LIMIT"]
    models_dir: str = ""  # empty: <warehouse>.state/models
    report_root: str = ""  # empty: a `reports` folder beside the warehouse file
    serving_path_override: str = ""  # SHOP_SERVING_PATH; empty: beside the warehouse
    retention_days: int = int(DEFAULTS["SHOP_RETENTION_DAYS"])
    # SHOP_PSEUDONYM_KEY; empty: <warehouse>.state/pseudonym.key (never printed: repr=False)
    pseudonym_key: str = field(default="", repr=False)

    @property
    def serving_path(self) -> str:
        """The BI copy of the warehouse (see the module docstring for the default)."""
        return self.serving_path_override or default_serving_path(self.warehouse_path)

    def __post_init__(self) -> None:
        if not self.models_dir:
            from .state import state_dir

            object.__setattr__(self, "models_dir", str(state_dir(self.warehouse_path) / "models"))
        self.validate()

    def for_warehouse(self, path: str | None, env: dict[str, str] | None = None) -> Settings:
        """These settings for the warehouse file `path` as the command lines take it
        (`--warehouse`, resolved), the models folder following the warehouse unless
        SHOP_MODELS_DIR names one; unchanged without a path."""
        if not path:
            return self
        models = (os.environ if env is None else env).get("SHOP_MODELS_DIR", "").strip()
        return replace(self, warehouse_path=str(Path(path).resolve()),
                       models_dir=self.models_dir if models else "")

    def validate(self) -> None:
        """Every rule at once, before any work: a bad setting never reaches SQL."""
        problems = []
        if not CURRENCY.fullmatch(self.base_currency):
            problems.append(f"SHOP_BASE_CURRENCY={self.base_currency!r}: not an ISO 4217 code "
                            f"(three letters, e.g. USD, EUR, CNY)")
        if not valid_timezone(self.timezone):
            problems.append(f"SHOP_TIMEZONE={self.timezone!r}: not an IANA time zone name "
                            f"(e.g. UTC, Europe/Berlin, Asia/Shanghai)")
        if not 0 <= self.quarantine_limit < 1:
            problems.append(f"SHOP_QUARANTINE_LIMIT={self.quarantine_limit!r}: a share in "
                            f"[0, 1), e.g. 0.05")
        if self.quarantine_min_rows < 0:
            problems.append(f"SHOP_QUARANTINE_MIN_ROWS={self.quarantine_min_rows!r}: a count "
                            f">= 0")
        if self.freshness_days < 1:
            problems.append(f"SHOP_FRESHNESS_DAYS={self.freshness_days!r}: days >= 1")
        if not MEMORY.fullmatch(self.memory_limit):
            problems.append(f"SHOP_DUCKDB_MEMORY_LIMIT={self.memory_limit!r}: a size such as "
                            f"3GB or 512MB")
        if self.retention_days < 0:
            problems.append(f"SHOP_RETENTION_DAYS={self.retention_days!r}: days >= 0 "
                            f"(0 keeps personal data)")
        if self.pseudonym_key and (len(self.pseudonym_key) < 32
                                   or not self.pseudonym_key.isprintable()):
            problems.append("SHOP_PSEUDONYM_KEY: at least 32 printable characters (e.g. "
                            "python -c 'import secrets; print(secrets.token_hex(32))'); "
                            "the value is not shown")
        if Path(self.warehouse_path).suffix.lower() not in (".duckdb", ".db"):
            problems.append(f"SHOP_WAREHOUSE_PATH={self.warehouse_path!r}: a file ending in "
                            f".duckdb")
        if Path(self.serving_path).resolve() == Path(self.warehouse_path).resolve():
            problems.append(f"SHOP_SERVING_PATH={self.serving_path!r}: must not be the "
                            f"warehouse file itself")
        if problems:
            raise SettingsError("; ".join(problems))

    @property
    def report_dir(self) -> str:
        """Where this warehouse's KPI reports go: `<root>/<warehouse stem>/`, so two
        warehouses never overwrite each other's report (data/warehouse.duckdb:
        data/reports/warehouse/)."""
        warehouse = Path(self.warehouse_path)
        root = Path(self.report_root) if self.report_root else warehouse.parent / "reports"
        return str(root / warehouse.stem)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)

        def get(name: str) -> str:
            return env.get(name, DEFAULTS.get(name, "")).strip()

        def number(name: str, kind: type):
            try:
                return kind(get(name))
            except ValueError:
                what = "an integer" if kind is int else "a number"
                raise SettingsError(f"{name}={get(name)!r}: not {what}") from None

        return cls(
            drop_dir=_path(get("SHOP_DROP_DIR")),
            warehouse_path=_path(get("SHOP_WAREHOUSE_PATH")),
            inbox_dir=_path(get("SHOP_INBOX_DIR")),
            base_currency=get("SHOP_BASE_CURRENCY").upper(),
            timezone=get("SHOP_TIMEZONE"),
            quarantine_limit=number("SHOP_QUARANTINE_LIMIT", float),
            quarantine_min_rows=number("SHOP_QUARANTINE_MIN_ROWS", int),
            freshness_days=number("SHOP_FRESHNESS_DAYS", int),
            memory_limit=get("SHOP_DUCKDB_MEMORY_LIMIT"),
            retention_days=number("SHOP_RETENTION_DAYS", int),
            pseudonym_key=get("SHOP_PSEUDONYM_KEY"),
            models_dir=_path(get("SHOP_MODELS_DIR")) if get("SHOP_MODELS_DIR") else "",
            report_root=_path(get("SHOP_REPORT_DIR")) if get("SHOP_REPORT_DIR") else "",
            serving_path_override=_path(get("SHOP_SERVING_PATH"))
            if get("SHOP_SERVING_PATH") else "",
        )

    def results_settings(self) -> dict:
        """The settings that change what a build computes (part of its inputs digest)."""
        keep = {"base_currency", "timezone", "quarantine_limit", "quarantine_min_rows",
                "freshness_days", "retention_days"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in keep}
