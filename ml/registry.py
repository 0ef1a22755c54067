"""Model artifacts: `<models dir>/<model name>/<version>/` holds each LightGBM booster as
text and `record.json` (settings and seed, training window, cutoffs or origins, features,
metrics, and a fingerprint of the training data).

The version is a hash of the model name, the settings, the training data's fingerprint and
the code of the `ml` package, so the same data, settings and code give the same version
(and the same directory): with fixed seeds and `deterministic=True`, retraining from a
record gives the same model (tests/integration/test_ml_assets.py proves it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from .warehouse import describe

ML_PACKAGE = Path(__file__).resolve().parent


def code_version() -> str:
    """Hash of the `ml` package's source files."""
    digest = hashlib.sha256()
    for path in sorted(ML_PACKAGE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def data_fingerprint(features: pd.DataFrame, target) -> dict:
    """Row count and a hash of the training frame's values, column names and target."""
    digest = hashlib.sha256()
    digest.update(json.dumps(list(map(str, features.columns))).encode())
    digest.update(pd.util.hash_pandas_object(features, index=False).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(np.asarray(target, dtype=np.float64)).tobytes())
    return {"rows": int(len(features)), "sha256": digest.hexdigest()}


@dataclass
class ModelRecord:
    model_name: str
    settings: dict
    training_first_date: str
    training_last_date: str
    training_points: list[str]  # forecast origins or churn cutoffs trained on
    features: list[str]
    data: dict  # data_fingerprint()
    metrics: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # e.g. categories of categorical features
    code: str = field(default_factory=code_version)
    version: str = ""
    created_at: str = ""

    def __post_init__(self) -> None:
        self.metrics = plain(self.metrics)
        if not self.version:
            identity = {"model_name": self.model_name, "settings": self.settings,
                        "data": self.data, "code": self.code}
            self.version = hashlib.sha256(
                json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:12]
        if not self.created_at:
            self.created_at = datetime.now(UTC).isoformat(timespec="seconds")


def plain(value):
    """JSON-ready: numpy numbers as Python numbers, NaN as None (null)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def save(models_dir: str | Path, record: ModelRecord, boosters: dict[str, lgb.Booster]) -> Path:
    folder = Path(models_dir) / record.model_name / record.version
    folder.mkdir(parents=True, exist_ok=True)
    for name, booster in boosters.items():
        booster.save_model(str(folder / f"{name}.txt"))
    payload = {**asdict(record), "artifacts": sorted(f"{name}.txt" for name in boosters)}
    (folder / "record.json").write_text(json.dumps(payload, indent=2, sort_keys=True,
                                                   default=str, allow_nan=False))
    return folder


def load(folder: str | Path) -> tuple[ModelRecord, dict[str, lgb.Booster]]:
    folder = Path(folder)
    payload = json.loads((folder / "record.json").read_text())
    artifacts = payload.pop("artifacts")
    boosters = {Path(name).stem: lgb.Booster(model_file=str(folder / name)) for name in artifacts}
    return ModelRecord(**payload), boosters


def latest(models_dir: str | Path, model_name: str) -> Path:
    """The folder of the most recently created version of a model."""
    records = sorted((Path(models_dir) / model_name).glob("*/record.json"),
                     key=lambda p: json.loads(p.read_text())["created_at"])
    if not records:
        raise FileNotFoundError(f"no saved version of model {model_name!r} in {models_dir}")
    return records[-1].parent


def register(con: duckdb.DuckDBPyConnection, record: ModelRecord, folder: Path) -> None:
    """Upsert the record into ml.model_registry, the models' table for BI tools."""
    con.execute("create schema if not exists ml")
    con.execute("""
        create table if not exists ml.model_registry (
            model_name varchar, model_version varchar, created_at timestamp,
            training_first_date date, training_last_date date, training_points varchar,
            training_rows bigint, training_data_sha256 varchar, code_version varchar,
            settings_json varchar, metrics_json varchar, artifact_path varchar,
            primary key (model_name, model_version))""")
    describe(con, "model_registry")
    con.execute("delete from ml.model_registry where model_name = ? and model_version = ?",
                [record.model_name, record.version])
    con.execute("insert into ml.model_registry values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        record.model_name, record.version,
        datetime.fromisoformat(record.created_at).replace(tzinfo=None),
        record.training_first_date, record.training_last_date,
        ",".join(record.training_points), record.data["rows"], record.data["sha256"],
        record.code, json.dumps(record.settings, sort_keys=True, default=str),
        json.dumps(record.metrics, sort_keys=True, allow_nan=False), str(folder)])
