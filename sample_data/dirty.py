"""Deliberately dirty rows, one defect per row, counted for `_truth.json`.

Reason codes are the ones staging writes to `*_rejected.rejection_reason`, so tests can
compare quarantine counts with what was injected. Exact duplicates and older versions
are appended (they are not quarantined); orphans are kept and joined to "unknown".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BAD_TIMESTAMPS = ["2025-13-45T10:00:00Z", "not a date", "31/02/2025 10:00"]
BAD_NUMBERS = ["abc", "12.3.4", "N/A"]


@dataclass
class Defect:
    kind: str  # reason code family, e.g. "missing_required"
    column: str | None = None
    value: str | None = None

    @property
    def reason(self) -> str:
        return f"{self.kind}:{self.column}" if self.kind in (
            "missing_required", "bad_timestamp", "bad_number") else self.kind


# Defects injected per entity (exact duplicates are added for every entity).
PLAN: dict[str, list[Defect]] = {
    "customers": [Defect("missing_required", "signup_at"), Defect("bad_timestamp", "signup_at"),
                  Defect("newer_version")],
    "products": [Defect("missing_required", "category"), Defect("bad_number", "list_price"),
                 Defect("newer_version")],
    "orders": [Defect("missing_required", "customer_id"), Defect("bad_timestamp", "ordered_at"),
               Defect("bad_number", "subtotal_amount"), Defect("unknown_status", "status"),
               Defect("currency_without_rate", "currency"), Defect("orphan", "customer_id"),
               Defect("newer_version")],
    "order_items": [Defect("missing_required", "product_id"),
                    Defect("negative_quantity", "quantity"), Defect("orphan", "product_id")],
    "events": [Defect("bad_timestamp", "occurred_at"), Defect("missing_required", "event_type"),
               Defect("unknown_event_type", "event_type")],
    "campaign_members": [Defect("missing_required", "customer_id"),
                         Defect("unknown_test_group", "test_group")],
    "ad_spend": [Defect("bad_number", "spend"), Defect("bad_timestamp", "spend_date")],
    "reviews": [Defect("rating_out_of_range", "rating"), Defect("missing_required", "product_id"),
                Defect("bad_timestamp", "created_at")],
    "inventory_snapshots": [Defect("bad_number", "on_hand_qty")],
}
VALUES = {
    "unknown_status": ["shipping_pending", "lost"],
    "currency_without_rate": ["KRW"],
    "negative_quantity": ["-1", "-3"],
    "rating_out_of_range": ["0", "6", "9"],
    "unknown_event_type": ["hover", "scroll"],
    "unknown_test_group": ["holdout"],
}


@dataclass
class Tally:
    """What was injected into one entity."""

    exact_duplicates: int = 0
    newer_versions: int = 0
    quarantine: Counter = field(default_factory=Counter)
    orphans: Counter = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.exact_duplicates += other.exact_duplicates
        self.newer_versions += other.newer_versions
        self.quarantine.update(other.quarantine)
        self.orphans.update(other.orphans)

    def as_dict(self) -> dict:
        return {"exact_duplicates": self.exact_duplicates, "newer_versions": self.newer_versions,
                "quarantine": dict(sorted(self.quarantine.items())),
                "orphans": dict(sorted(self.orphans.items()))}


def inject(entity: str, frame: pd.DataFrame, rng: np.random.Generator,
           share: float) -> tuple[pd.DataFrame, pd.DataFrame, Tally]:
    """Corrupt about `share` of the rows of a contract-formatted (all text) frame.

    Returns (frame with victims corrupted in place, rows to append, tally).
    """
    tally = Tally()
    plan = [*PLAN.get(entity, []), Defect("exact_duplicate")]
    per_kind = int(len(frame) * share / len(plan))
    if per_kind == 0 and len(frame) >= 2 * len(plan) and share > 0:
        per_kind = 1
    if per_kind == 0:
        return frame, frame.iloc[0:0], tally
    frame = frame.copy()
    victims = rng.choice(len(frame), per_kind * len(plan), replace=False)
    appended = []
    for k, defect in enumerate(plan):
        rows = victims[k * per_kind : (k + 1) * per_kind]
        idx = frame.index[rows]
        if defect.kind == "exact_duplicate":
            appended.append(frame.loc[idx])
            tally.exact_duplicates += len(idx)
        elif defect.kind == "newer_version":
            appended.append(_older_versions(entity, frame.loc[idx]))
            tally.newer_versions += len(idx)
        elif defect.kind == "orphan":
            frame.loc[idx, defect.column] = [f"X{rng.integers(10**6, 10**7)}" for _ in idx]
            tally.orphans[defect.column] += len(idx)
        else:
            frame.loc[idx, defect.column] = _bad_values(defect, len(idx), rng)
            tally.quarantine[defect.reason] += len(idx)
    extra = pd.concat(appended) if appended else frame.iloc[0:0]
    return frame, extra.sample(frac=1.0, random_state=int(rng.integers(1 << 31))), tally


def _bad_values(defect: Defect, n: int, rng: np.random.Generator) -> list[str]:
    if defect.kind == "missing_required":
        return [""] * n
    pool = {"bad_timestamp": BAD_TIMESTAMPS, "bad_number": BAD_NUMBERS}.get(
        defect.kind, VALUES.get(defect.kind))
    return list(rng.choice(pool, n))


def _older_versions(entity: str, rows: pd.DataFrame) -> pd.DataFrame:
    """An earlier export of the same rows: earlier updated_at and a since-changed field."""
    older = rows.copy()
    older["updated_at"] = (pd.to_datetime(rows["updated_at"], utc=True, format="ISO8601")
                           - pd.Timedelta(days=1)).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if entity == "orders":
        older["status"] = np.where(rows["status"] == "cancelled", "placed", "paid")
    elif entity == "customers":
        older["membership_level"] = "bronze"
        older["email"] = "old." + rows["email"].fillna("")
    elif entity == "products":
        older["product_name"] = rows["product_name"] + " (old)"
    return older
