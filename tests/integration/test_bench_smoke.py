"""The benchmark runs end to end at a tiny scale and produces every figure (no timing goals)."""

from __future__ import annotations

import json

import pytest

from bench.run import growth_exponent, main

pytestmark = pytest.mark.xdist_group("bench")

STAGES = ["generate", "load", "dbt_build", "dbt_run_models_only", "quality_checks",
          "engine_compiled_sql", "dagster_full_materialisation", "model_training", "report",
          "recommendations", "serving_publish", "total", "incremental_day"]


def test_growth_exponent_is_the_slope_in_log_log():
    # 4x the rows in 8x the time: 8 = 4^1.5; 10x the rows in 10x the time: linear.
    small = {"raw_rows": 1_000, "load": {"seconds": 2.0}, "dbt_build": {"seconds": 3.0}}
    large = {"raw_rows": 4_000, "load": {"seconds": 16.0}, "dbt_build": {"seconds": 6.0}}
    assert growth_exponent(small, large, "load") == 1.5
    assert growth_exponent(small, large, "dbt_build") == 0.5
    assert growth_exponent({"raw_rows": 10, "x": {"seconds": 1.0}},
                           {"raw_rows": 100, "x": {"seconds": 10.0}}, "x") == 1.0


def test_benchmark_produces_every_figure(tmp_path):
    # One tiny scale (the suite's time budget): the growth between two scales is the
    # formula tested above, and the full benchmark runs two.
    assert main(["--scales", "0.004", "--out", str(tmp_path / "results"),
                 "--work", str(tmp_path / "work")]) == 0
    results = json.loads(next((tmp_path / "results").glob("*.json")).read_text())
    assert [run["scale"] for run in results["runs"]] == [0.004]
    for run in results["runs"]:
        for stage in STAGES:
            assert run[stage]["seconds"] > 0 and run[stage]["rows_per_second"] > 0, stage
            assert run[stage]["peak_rss_mb"] > 50, stage  # a Python process tree is measured
        assert set(run["ratios"]) == {"dagster_over_engine", "dagster_over_load_plus_engine",
                                      "dbt_build_over_engine", "dbt_run_over_engine",
                                      "quality_share_of_full_build",
                                      "incremental_day_over_full",
                                      "serving_publish_share_of_full_build"}
        share = run["ratios"]["serving_publish_share_of_full_build"]
        assert share == round(run["serving_publish"]["seconds"]
                              / run["dagster_full_materialisation"]["seconds"], 3)
        assert run["serving_publish"]["tables"] > 40  # marts, ml and audit
        assert run["total"]["seconds"] == pytest.approx(
            run["dagster_full_materialisation"]["seconds"] + run["model_training"]["seconds"],
            abs=0.02)
        assert run["serving_publish"]["file_mb"] > 0
        assert run["recommendations"]["customers"] > 0
        assert run["incremental_day"]["orders_added"] > 0
        day = run["incremental_day"]["dbt_seconds"]
        assert 0 < day["elapsed"] < run["incremental_day"]["seconds"]
        assert day["models"] > 0 and day["tests"] > 0
        assert len(run["incremental_day"]["slowest_nodes"]) == 10
        assert run["quality_checks"]["suites"] == 20
        assert run["engine_compiled_sql"]["models"] > 40
        assert run["report"]["charts"] > 10 and run["report"]["html_mb"] > 1
        slowest = run["dbt_build"]["slowest_nodes"]
        assert len(slowest) == 10
        assert [n["seconds"] for n in slowest] == sorted((n["seconds"] for n in slowest),
                                                         reverse=True)
    report = next((tmp_path / "results").glob("*.md")).read_text()
    assert "| 0.004 | dagster_full_materialisation |" in report
    assert "| 0.004 | serving_publish |" in report
    assert f"at scale 0.004: {results['runs'][0]['dbt_build']['slowest_nodes'][0]['node']} " \
        in report
