"""The generator: seeded, complete, and with the structure models must learn from."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from contract import ENTITIES
from sample_data import Config, generate
from sample_data.calendar import black_friday, festival_boost


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.name != "_truth.json"}


def test_same_seed_same_drop_and_every_entity_is_written(tmp_path):
    cfg = Config(scale=0.001, seed=3)
    first = generate(cfg, tmp_path / "a", log=lambda _: None)
    generate(cfg, tmp_path / "b", log=lambda _: None)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    written = {p.name.split(".")[0].split("-")[0] for p in (tmp_path / "a").iterdir()}
    assert set(ENTITIES) <= written
    assert first["entities"]["orders"]["quarantine"]  # dirty rows were injected
    other = generate(Config(scale=0.001, seed=4), tmp_path / "c", log=lambda _: None)
    assert other["entities"]["orders"]["rows"] != first["entities"]["orders"]["rows"] or \
        _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_festivals_and_weekly_pattern_show_in_orders(tmp_path):
    generate(Config(scale=0.02, seed=5), tmp_path, log=lambda _: None)
    orders = pd.concat(pd.read_csv(p, dtype=str) for p in sorted(tmp_path.glob("orders-*.csv")))
    day = pd.to_datetime(orders["ordered_at"], utc=True, format="ISO8601",
                         errors="coerce").dt.date
    per_day = day.value_counts()
    typical = per_day.median()
    singles_day = per_day.get(pd.Timestamp("2025-11-11").date(), 0)
    assert singles_day > 2.5 * typical, (singles_day, typical)


def test_festival_calendar():
    assert black_friday(2025).isoformat() == "2025-11-28"
    assert black_friday(2026).isoformat() == "2026-11-27"
    assert festival_boost(pd.Timestamp("2026-06-18").date()) > 2


def test_truth_records_campaign_uplifts(tmp_path):
    truth = generate(Config(scale=0.002, seed=9), tmp_path, log=lambda _: None)
    uplifts = truth["campaign_uplift"]
    assert uplifts and all(0 < u["true_uplift"] <= u["true_lift"] for u in uplifts.values())
    assert json.loads((tmp_path / "_truth.json").read_text())["config"]["seed"] == 9
