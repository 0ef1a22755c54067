"""The growth run's disk estimate: sizes per raw row of a built scale, scaled linearly."""

import json
import subprocess

import pytest

from bench import growth


@pytest.fixture
def reference(tmp_path):
    """A fake built scale 0.5: 1,000 raw rows, a 3,000-byte drop, 5,000-byte warehouse and
    1,000-byte serving copy."""
    ref = tmp_path / "scale-0.5"
    (ref / "drop").mkdir(parents=True)
    truth = {"config": {"scale": 0.5},
             "entities": {"orders": {"rows": 400}, "events": {"rows": 600}}}
    (ref / "drop" / "_truth.json").write_text(json.dumps(truth))
    truth_bytes = (ref / "drop" / "_truth.json").stat().st_size
    (ref / "drop" / "orders.csv").write_bytes(b"x" * (3000 - truth_bytes))
    (ref / "warehouse.duckdb").write_bytes(b"w" * 5000)
    (ref / "warehouse.serving.duckdb").write_bytes(b"s" * 1000)
    return ref


def test_footprint_is_bytes_per_raw_row(reference):
    per_row = growth.footprint(reference)
    assert per_row == {"scale": 0.5, "raw_rows": 1000, "drop": 3.0, "warehouse": 5.0,
                       "serving": 1.0}


def test_estimate_scales_the_reference_rows_linearly(reference):
    need = growth.disk_estimate(growth.footprint(reference), 10)
    # scale 10 is 20 times scale 0.5: 20,000 rows; 9 bytes a row, plus 15% headroom.
    assert need == {"raw_rows_estimate": 20_000, "drop": 60_000, "warehouse": 100_000,
                    "serving": 20_000, "total": 207_000}


def test_a_reference_that_was_not_built_is_refused(reference):
    (reference / "warehouse.serving.duckdb").unlink()
    with pytest.raises(SystemExit, match="not a built bench scale"):
        growth.footprint(reference)


def test_a_run_that_does_not_fit_says_so_without_generating(reference, tmp_path, monkeypatch):
    monkeypatch.setattr(growth.shutil, "disk_usage", lambda _: type("U", (), {"free": 10})())
    monkeypatch.setattr(growth, "generate", lambda *a, **k: pytest.fail("generated"))
    out = tmp_path / "results"
    assert growth.main(["--scale", "10", "--reference", str(reference),
                        "--work", str(tmp_path / "work"), "--out", str(out)]) == 0
    result = json.loads(next(out.glob("*-growth-10.json")).read_text())
    assert result["fits"] is False and result["disk_needed"]["total"] == 207_000
    assert "Not run: the disk cannot hold it" in next(out.glob("*.md")).read_text()


def test_a_failed_build_is_recorded_with_its_time_and_memory(reference, tmp_path, monkeypatch):
    monkeypatch.setattr(growth.shutil, "disk_usage",
                        lambda _: type("U", (), {"free": 10**12})())
    truth = {"entities": {"orders": {"rows": 30}, "events": {"rows": 70}}}
    monkeypatch.setattr(growth, "generate", lambda *a, **k: truth)
    jobs = []

    def build(env, only):
        jobs.append(only)
        raise subprocess.CalledProcessError(1, ["python", "-m", "dagster_project.build"])

    monkeypatch.setattr(growth, "_build", build)
    out = tmp_path / "results"
    code = growth.main(["--scale", "3", "--reference", str(reference),
                        "--work", str(tmp_path / "work"), "--out", str(out)])
    assert code == 1 and jobs == ["warehouse"]  # no model job on a failed warehouse
    result = json.loads(next(out.glob("*-growth-3.json")).read_text())
    stage = result["dagster_full_materialisation"]
    assert stage["failed"] == "exit status 1" and stage["seconds"] >= 0
    assert result["raw_rows"] == 100 and "model_training" not in result
    assert "| dagster_full_materialisation (failed) |" in next(out.glob("*.md")).read_text()
