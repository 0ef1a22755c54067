"""`make dbt-parse` parses with the vars the Dagster dbt step passes for the warehouse, so
that warehouse's first build reuses the parse (dagster_project/transform/parse.py)."""

from __future__ import annotations

import json
from dataclasses import replace

from dagster_project.resources import ShopSettings
from dagster_project.settings import PROJECT_ROOT, Settings
from dagster_project.transform import parse
from dagster_project.transform.parse import step_vars


def _calls(monkeypatch) -> list[tuple[list[str], object]]:
    calls = []
    monkeypatch.setattr(parse.subprocess, "call",
                        lambda args, cwd: calls.append((args, cwd)) or 0)
    return calls


def test_the_parse_uses_the_vars_of_the_steps_builds_of_that_warehouse(monkeypatch, tmp_path):
    calls = _calls(monkeypatch)
    monkeypatch.setenv("SHOP_BASE_CURRENCY", "eur")
    monkeypatch.setenv("SHOP_TIMEZONE", "Europe/Berlin")
    monkeypatch.chdir(tmp_path)
    assert parse.main(["--warehouse", "data/wh.duckdb"]) == 0
    [(args, cwd)] = calls
    assert cwd == PROJECT_ROOT / "dbt"
    assert args[1:5] == ["parse", "--profiles-dir", ".", "--quiet"]
    assert args[5] == "--vars"
    # Resolved from the working directory, as `python -m dagster_project.build` does.
    assert json.loads(args[6]) == {"warehouse_path": str(tmp_path / "data" / "wh.duckdb"),
                                   "base_currency": "EUR", "shop_timezone": "Europe/Berlin",
                                   "shop_incremental": True}
    # What the dbt step passes for the same warehouse and settings.
    shop = ShopSettings(drop_dir=str(tmp_path), base_currency="EUR", timezone="Europe/Berlin")
    assert step_vars(str(tmp_path / "data" / "wh.duckdb"), shop.dbt_vars()) == json.loads(
        args[6])


def test_a_bad_setting_stops_the_parse_before_dbt(monkeypatch, capsys):
    calls = _calls(monkeypatch)
    monkeypatch.setenv("SHOP_TIMEZONE", "Mars/Olympus")
    assert parse.main([]) == 2
    assert calls == []
    assert "SHOP_TIMEZONE='Mars/Olympus'" in capsys.readouterr().err


def test_a_commands_warehouse_resolves_and_takes_its_own_models_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = Settings(drop_dir=str(tmp_path), warehouse_path=str(tmp_path / "a.duckdb"),
                    inbox_dir=str(tmp_path / "inbox"))
    assert base.for_warehouse(None) is base and base.for_warehouse("") is base
    moved = base.for_warehouse("data/b.duckdb", env={})
    assert moved.warehouse_path == str(tmp_path / "data" / "b.duckdb")
    assert moved.models_dir == str(tmp_path / "data" / "b.state" / "models")
    assert moved.base_currency == base.base_currency
    # SHOP_MODELS_DIR names the folder: it stays whatever the warehouse.
    named = replace(base, models_dir=str(tmp_path / "models"))
    kept = named.for_warehouse("data/b.duckdb", env={"SHOP_MODELS_DIR": str(tmp_path / "models")})
    assert kept.models_dir == str(tmp_path / "models")
