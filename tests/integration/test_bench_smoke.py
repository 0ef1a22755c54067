"""The benchmark runs end to end at a tiny scale and produces every figure (no timing goals)."""

from __future__ import annotations

import json

import pytest

from bench.run import main

pytestmark = pytest.mark.xdist_group("bench")

STAGES = ["generate", "load", "dbt_build", "dbt_run_models_only", "quality_checks",
          "engine_compiled_sql", "dagster_full_materialisation", "model_training", "report",
          "recommendations", "serving_publish", "total", "incremental_day"]


def test_benchmark_produces_every_figure(tmp_path):
    assert main(["--scales", "0.003", "0.006", "--out", str(tmp_path / "results"),
                 "--work", str(tmp_path / "work")]) == 0
    results = json.loads(next((tmp_path / "results").glob("*.json")).read_text())
    assert [run["scale"] for run in results["runs"]] == [0.003, 0.006]
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
        assert run["quality_checks"]["suites"] == 20
        assert run["engine_compiled_sql"]["models"] > 40
        assert run["report"]["charts"] > 10 and run["report"]["html_mb"] > 1
        slowest = run["dbt_build"]["slowest_nodes"]
        assert len(slowest) == 10
        assert [n["seconds"] for n in slowest] == sorted((n["seconds"] for n in slowest),
                                                         reverse=True)
    assert set(results["growth"]) == {"load", "dbt_build", "dagster_full_materialisation",
                                      "model_training", "total"}
    report = next((tmp_path / "results").glob("*.md")).read_text()
    assert "| 0.006 | dagster_full_materialisation |" in report
    assert "| 0.006 | serving_publish |" in report
    assert f"at scale 0.006: {results['runs'][1]['dbt_build']['slowest_nodes'][0]['node']} " \
        in report
