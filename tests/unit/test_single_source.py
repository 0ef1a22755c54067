"""Each default is written once; the copies that cannot import it are held equal here.

Settings: `DEFAULTS` in dagster_project/settings.py (Python code derives from it: Settings,
the resources, the report, the check specs). Model settings: the dataclasses in ml/. Copies
that cannot import them: dbt vars and profile, the Makefile, the generator's CLI defaults,
and the documentation (README, settings docstring, docs/).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from dagster_project import settings
from dagster_project.settings import DEFAULTS
from ml.churn import ChurnSettings
from ml.demand import DemandSettings, required_days
from sample_data.world import Config

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "ml" / "README.md",
        ROOT / "dbt" / "DECISIONS.md"]


def _same(written: str, default: str) -> bool:
    """A default as documented: the value itself, or a share written as a percentage."""
    written = written.strip().strip("`")
    if written.endswith("%"):
        return abs(float(written[:-1]) / 100 - float(default)) < 1e-12
    return written == default


def _table_defaults(text: str) -> dict[str, str]:
    """{variable: default} of every `| SHOP_X | default | ... |` table row."""
    rows = re.findall(r"^\|\s*`?(SHOP_[A-Z_]+)`?\s*\|\s*([^|]*?)\s*\|", text, re.M)
    return dict(rows)


def test_the_settings_tables_show_the_defaults():
    for name, text in [("README.md", (ROOT / "README.md").read_text()),
                       ("settings.py docstring", settings.__doc__)]:
        table = _table_defaults(text)
        assert set(DEFAULTS) <= set(table), f"{name}: settings missing from the table"
        wrong = {k: table[k] for k in DEFAULTS if not _same(table[k], DEFAULTS[k])}
        assert wrong == {}, f"{name}: defaults differ from settings.DEFAULTS"


def test_prose_states_the_defaults():
    pattern = re.compile(r"`(SHOP_[A-Z_]+)`((?:(?!SHOP_)[^\n]){0,60}?)default `?([\w.%/-]+)`?")
    short = re.compile(r"`(SHOP_[A-Z_]+)`, (\d+(?:\.\d+)?%)\)")
    found = []
    for path in DOCS:
        text = path.read_text()
        found += [(path.name, m.group(1), m.group(3)) for m in pattern.finditer(text)]
        found += [(path.name, m.group(1), m.group(2)) for m in short.finditer(text)]
    assert len(found) >= 5, found  # the check is not vacuous
    wrong = [f for f in found if f[1] in DEFAULTS and not _same(f[2], DEFAULTS[f[1]])]
    assert wrong == []


def test_dbt_reads_the_same_defaults():
    dbt_vars = yaml.safe_load((ROOT / "dbt" / "dbt_project.yml").read_text())["vars"]
    assert dbt_vars["base_currency"] == DEFAULTS["SHOP_BASE_CURRENCY"]
    assert dbt_vars["shop_timezone"] == DEFAULTS["SHOP_TIMEZONE"]
    assert dbt_vars["churn_horizon_days"] == ChurnSettings().horizon_days
    profile = (ROOT / "dbt" / "profiles.yml").read_text()
    env = dict(re.findall(r"env_var\('(SHOP_[A-Z_]+)', '([^']*)'\)", profile))
    assert env["SHOP_DUCKDB_MEMORY_LIMIT"] == DEFAULTS["SHOP_DUCKDB_MEMORY_LIMIT"]
    assert env["SHOP_WAREHOUSE_PATH"] == "../" + DEFAULTS["SHOP_WAREHOUSE_PATH"]  # from dbt/


def test_the_makefile_and_the_generator_default_to_the_settings():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^DROP \?= (\S+)$", makefile, re.M).group(1) == DEFAULTS["SHOP_DROP_DIR"]
    assert re.search(r"^WAREHOUSE \?= (\S+)$", makefile, re.M).group(1) == \
        DEFAULTS["SHOP_WAREHOUSE_PATH"]
    # The sample shop is priced in the warehouse's default base currency, so `make demo`
    # needs no fx conversion setting.
    assert Config().base_currency == DEFAULTS["SHOP_BASE_CURRENCY"]
    assert Config().timezone == DEFAULTS["SHOP_TIMEZONE"]


def test_the_churn_horizon_is_one_number_in_the_docs():
    horizon = ChurnSettings().horizon_days
    phrases = [
        (ROOT / "README.md", r"no counted order in the next (\d+) days"),
        (ROOT / "docs" / "metrics.md", r"none in\s+the (\d+) days after it"),
        (ROOT / "docs" / "raw_exports.md", r"the (\d+)-day\s+churn horizon"),
        (ROOT / "ml" / "README.md",
         r"the\s+evaluation\s+cutoff\s+is\s+(\d+)\s+days\s+before\s+each"),
    ]
    found = {str(path.relative_to(ROOT)): re.findall(pattern, path.read_text())
             for path, pattern in phrases}
    assert all(found.values()), found  # each document still states it
    assert {int(n) for numbers in found.values() for n in numbers} == {horizon}


def test_the_documented_history_needs_follow_the_model_settings():
    # What each model needs of a small drop, as docs/raw_exports.md states it, recomputed from
    # the settings the way ml/churn.py and ml/demand.py count it (their NotEnoughData).
    text = " ".join((ROOT / "docs" / "raw_exports.md").read_text().split())
    churn, demand = ChurnSettings(), DemandSettings()
    needs = re.search(r"churn model needs (\d+) days of orders \((\d+) before a training "
                      r"cutoff, then the (\d+)-day churn horizon", text)
    step, horizon = churn.cutoff_step_days, churn.horizon_days
    assert [int(n) for n in needs.groups()] == [2 * horizon + step, step, horizon]
    needs = re.search(r"demand forecast needs (\d+) days of demand \((\d+) to learn from, "
                      r"(\d+) to its first training origin, (\d+) to backtest\); with less "
                      r"than the (\d+) backtest origins' worth \((\d+) days\)", text)
    assert [int(n) for n in needs.groups()] == [
        required_days(demand), demand.min_history_days, demand.origin_step_days,
        demand.horizon_days, demand.backtest_origins,
        required_days(demand, demand.backtest_origins)]


def test_the_documented_failure_message_uses_the_default_limits():
    text = " ".join((ROOT / "docs" / "raw_exports.md").read_text().split())
    limit, rows = re.search(r"over the limit of (\d+%) or (\d+) rows", text).groups()
    assert _same(limit, DEFAULTS["SHOP_QUARANTINE_LIMIT"])
    assert rows == DEFAULTS["SHOP_QUARANTINE_MIN_ROWS"]
