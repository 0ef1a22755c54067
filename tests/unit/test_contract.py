"""The typed raw contract is the one source: every copy of it is derived, or held equal here.

Copies: dbt/macros/contract.sql, the sources YAML and the docs table (generated: `make
contract`), the base models' rejection_reason calls (read the generated macros), the reason
codes and accepted values the staging YAML tests, the README's reason table, and the raw
Great Expectations suites (read the spec in Python).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

import contract
from contract import ENTITIES, generate
from contract.spec import Column, Entity, col, req
from dagster_project.ingest.load import load_entity
from expectations.suites import raw_suite
from sample_data import Config as SampleConfig
from sample_data import generate as generate_drop

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "dbt" / "models" / "staging" / "shop" / "base"


def test_generated_copies_are_what_the_contract_renders():
    for path, text in generate.rendered().items():
        assert (ROOT / path).read_text(encoding="utf-8") == text, (
            f"{path} differs from contract/__init__.py: {generate.HINT}")


def test_the_drift_check_fails_on_a_hand_edit_and_on_a_contract_change(tmp_path):
    for path in generate.rendered():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    assert generate.stale(tmp_path) == []
    sources = tmp_path / generate.SOURCES
    sources.write_text(sources.read_text().replace("name: page_url", "name: page_uri"))
    assert generate.stale(tmp_path) == [generate.SOURCES]
    events = ENTITIES["events"]
    grown = {**ENTITIES, "events": dataclasses.replace(
        events, fields=(*events.fields, col("referrer")))}
    assert "referrer" in generate.render_macros(grown)
    assert generate.render_macros(grown) != (ROOT / generate.MACROS).read_text()
    docs = (ROOT / generate.DOCS).read_text()
    assert "page_url, referrer |" in generate.render_docs(docs, grown)


def test_staging_arguments_equal_the_ones_written_by_hand_before_the_spec():
    # The literal arguments the base models passed to rejection_reason before they read the
    # generated macros (git history of dbt/models/staging/shop/base), for three entities.
    orders, customers, campaigns = (ENTITIES[e] for e in ("orders", "customers", "campaigns"))
    assert orders.required_columns == ["order_id", "customer_id", "ordered_at", "status",
                                       "currency", "subtotal_amount", "total_amount"]
    assert orders.accepted_rules() == [
        ("status not in ('placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned')",
         "unknown_status"),
        ("device is not null and device not in ('web', 'ios', 'android', 'mini_program',"
         " 'offline')", "unknown_device")]
    assert list(customers.parsed.items()) == [
        ("signup_at", "timestamp"), ("updated_at", "timestamp"), ("birth_year", "number")]
    assert [c.name for c in campaigns.fields if c.planned] == ["starts_at", "ends_at"]
    assert ENTITIES["ad_spend"].parsed == {"spend_date": "timestamp", "impressions": "number",
                                           "clicks": "number", "spend": "number"}
    assert [c.name for c in ENTITIES["order_items"].fields if c.money] == [
        "unit_price", "discount_amount"]


def _call(sql: str, macro: str) -> str:
    match = re.search(rf"\{{\{{ {macro}\((.*?)\) \}}\}}", sql, re.S)
    assert match, f"no {macro}(...) call"
    return match.group(1)


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_each_base_model_reads_the_contract(entity):
    spec = ENTITIES[entity]
    path = BASE / f"base_shop__{entity}.sql"
    sql = path.read_text()
    call = _call(sql, "contract_rejection_reason")
    assert re.match(rf"'{entity}'(,|$)", call), f"{path.name}: not its own entity's contract"
    own = re.findall(r",\s*'([a-z_]+)'\)", call)
    assert own == list(spec.rules), f"{path.name}: entity rules {own} but the contract lists "
    for column in spec.parsed:  # the macro compares <column>_text with the typed value
        assert re.search(rf"as {column}_text\b", sql), f"{path.name}: no {column}_text"
    versions = [*spec.key, *([spec.updated_column] if spec.versioned else [])]
    for macro in ("latest_version_rank", "untrusted_latest_version"):
        for call in re.findall(rf"\{{\{{ {macro}\((.*?)\) \}}\}}", sql, re.S):
            if "contract_key" not in call:
                assert re.findall(r"'(\w+)'", call) == versions, f"{path.name}: {macro}"


def test_the_rejection_macro_passes_every_part_of_the_contract():
    # contract_rejection_reason(entity, rules) is what every base model calls (above).
    macros = (ROOT / "dbt" / "macros" / "staging_helpers.sql").read_text()
    body = macros[macros.index("{% macro contract_rejection_reason(entity, rules=[]) -%}"):]
    call = _call(body[:body.index("{%- endmacro %}")], "rejection_reason")
    for part in ("required", "parsed", "amounts", "planned"):
        assert f"{part}=contract_{part}(entity)" in call, part
    assert "rules=contract_accepted_rules(entity) + rules" in call


def test_every_base_model_is_a_contract_entity():
    assert {p.stem.removeprefix("base_shop__") for p in BASE.glob("*.sql")} == set(ENTITIES)


def _staging_tests() -> dict[tuple[str, str], list]:
    models = yaml.safe_load((BASE.parent / "_shop__models.yml").read_text())["models"]
    return {(model["name"], column["name"]): test["accepted_values"]["arguments"]["values"]
            for model in models for column in model.get("columns", [])
            for test in column.get("data_tests") or []
            if isinstance(test, dict) and "accepted_values" in test}


def test_the_staging_yaml_tests_the_contracts_reason_codes_and_values():
    tests = _staging_tests()
    for name, entity in ENTITIES.items():
        assert tests[(f"stg_shop__{name}_rejected", "rejection_reason")] == \
            entity.reason_codes(), name
    for (model, column), values in tests.items():
        entity = model.removeprefix("stg_shop__")
        if column == "rejection_reason" or entity not in ENTITIES:
            continue
        spec = ENTITIES[entity][column]
        expected = list(spec.accepted) or list(range(int(spec.minimum), int(spec.maximum) + 1))
        assert values == expected, (model, column)


def test_the_staging_yaml_tests_each_entitys_key_unique():
    models = yaml.safe_load((BASE.parent / "_shop__models.yml").read_text())["models"]
    keys = {}
    for model in models:
        for test in model.get("data_tests") or []:
            if isinstance(test, dict) and "unique_combination" in test:
                keys[model["name"]] = tuple(test["unique_combination"]["arguments"]["columns"])
        for column in model.get("columns", []):
            if "unique" in (column.get("data_tests") or []):
                keys[model["name"]] = (column["name"],)
    assert {name: keys.get(f"stg_shop__{name}") for name in ENTITIES} == \
        {name: entity.key for name, entity in ENTITIES.items()}


def test_reason_codes_by_hand_for_reviews():
    assert ENTITIES["reviews"].reason_codes() == [
        "malformed_record", "missing_required:review_id", "missing_required:product_id",
        "missing_required:customer_id", "missing_required:rating", "missing_required:created_at",
        "bad_number:rating", "bad_timestamp:created_at", "implausible_timestamp:created_at",
        "rating_out_of_range"]


def test_the_readme_documents_every_reason_code():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| `rejection_reason` |"):]
    table = table[:table.index("\n\n")]
    codes = {code.split(":")[0] for e in ENTITIES.values() for code in e.reason_codes()}
    missing = [c for c in sorted(codes) if f"`{c}`" not in table and f"`{c}:" not in table]
    assert missing == []


def test_the_raw_suites_check_what_the_contract_types():
    suite = raw_suite("ad_spend", quarantine_limit=0.05, freshness_days=45,
                      base_currency="USD", rated_currencies=[])
    rules = {e.meta["rule"] for e in suite.expectations}
    assert {"spend_date is an ISO 8601 timestamp", "impressions is a number",
            "clicks is a number", "spend is a number", "|spend| < 1e+12",
            "currency has an fx rate"} <= rules
    suite = raw_suite("campaign_members", quarantine_limit=0.05, freshness_days=45,
                      base_currency="USD", rated_currencies=[])
    [accepted] = [e for e in suite.expectations
                  if e.meta["rule"] == "test_group is an accepted value"]
    assert accepted.value_set == ["treatment", "control"]


def test_the_dbt_project_keeps_no_entity_list():
    dbt_vars = yaml.safe_load((ROOT / "dbt" / "dbt_project.yml").read_text())["vars"]
    assert "entities" not in dbt_vars  # dbt reads contract_entities() (generated)
    assert tuple(dbt_vars["counted_statuses"]) == contract.COUNTED_STATUSES
    assert set(contract.COUNTED_STATUSES) <= set(contract.ORDER_STATUSES)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Entity("x", (req("x_id"),), key=("y_id",), description=""), "key"),
    (lambda: Entity("x", (req("x_id"),), key=("x_id",), description="", versioned=True),
     "updated_at"),
    (lambda: Column("n", "integer", accepted=("a",)), "accepted values need a text column"),
    (lambda: Column("t", "text", planned=True), "only a time can be planned"),
    (lambda: Column("t", "json"), "kind 'json'"),
    (lambda: Entity("x", (req("x_id"), col("a", "integer"), col("b", "date")), key=("x_id",),
                    description="", parse_order=("a",)), "parse_order"),
])
def test_an_inconsistent_spec_fails_naming_the_entity_or_column(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_the_staging_yaml_documents_the_raw_columns_of_each_quarantine():
    models = yaml.safe_load((BASE.parent / "_shop__models.yml").read_text())["models"]
    for model in models:
        entity = model["name"].removeprefix("stg_shop__").removesuffix("_rejected")
        if model["name"].endswith("_rejected"):
            raw = [c["name"].removeprefix("raw_") for c in model["columns"]
                   if c["name"].startswith("raw_")]
            assert raw == list(ENTITIES[entity].columns), model["name"]


def test_the_generator_writes_the_contracts_columns_and_values(tmp_path):
    generate_drop(SampleConfig(scale=0.001, seed=3, dirty_share=0), tmp_path,
                  log=lambda _: None)
    with duckdb.connect() as con:
        for name, entity in ENTITIES.items():
            for path in sorted(tmp_path.glob(f"{name}*.csv")):
                header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
                if path.name.startswith(name) and not path.name.startswith(f"{name}_"):
                    assert header == list(entity.columns), path.name
            load_entity(con, tmp_path, name, "t")
            for column in (c for c in entity.fields if c.accepted):
                values = {v for (v,) in con.execute(
                    f'select distinct lower(trim("{column.name}")) from raw."{name}"'
                    f" where _parse_error is null and {column.name} is not null").fetchall()}
                assert values and values <= set(column.accepted), (name, column.name, values)
