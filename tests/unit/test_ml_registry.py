"""Model records: the version follows settings, data and code; artifacts load back."""

from __future__ import annotations

import json

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from ml import registry


def _record(data: pd.DataFrame, target, roc_auc: float = 0.9, **settings
            ) -> registry.ModelRecord:
    return registry.ModelRecord(
        model_name="toy", settings={"seed": 1, **settings}, training_first_date="2026-01-01",
        training_last_date="2026-01-31", training_points=["2026-01-31"],
        features=list(data.columns), data=registry.data_fingerprint(data, target),
        metrics={"lightgbm": {"roc_auc": np.float64(roc_auc), "brier": float("nan")}})


def test_version_changes_with_data_and_settings_only():
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0, 1, 0]})
    target = [0, 1, 1]
    same = _record(data, target)
    assert _record(data, target).version == same.version
    assert _record(data.assign(a=[1.0, 2.0, 3.5]), target).version != same.version
    assert _record(data, [0, 1, 0]).version != same.version
    assert _record(data, target, seed=2).version != same.version
    assert _record(data, target, roc_auc=0.5).version == same.version  # results are not inputs
    assert same.data["rows"] == 3


def test_saved_model_loads_back_with_its_record_and_registers(tmp_path):
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    target = (data["a"] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    booster = lgb.train({"objective": "binary", "verbosity": -1, "seed": 1, "num_threads": 1},
                        lgb.Dataset(data, target), num_boost_round=10)
    record = _record(data, target)
    folder = registry.save(tmp_path, record, {"model": booster})
    assert folder == tmp_path / "toy" / record.version
    assert registry.latest(tmp_path, "toy") == folder
    loaded, boosters = registry.load(folder)
    assert loaded == record
    assert loaded.metrics["lightgbm"]["brier"] is None  # NaN is stored as null
    np.testing.assert_array_equal(boosters["model"].predict(data), booster.predict(data))
    con = duckdb.connect()
    registry.register(con, record, folder)
    registry.register(con, record, folder)  # the same version is replaced, not repeated
    rows = con.execute("select model_version, training_rows, metrics_json "
                       "from ml.model_registry").fetchall()
    assert len(rows) == 1 and rows[0][:2] == (record.version, 200)
    assert json.loads(rows[0][2])["lightgbm"]["roc_auc"] == 0.9
