"""A demand history built by hand for the demand tests: daily units per product from
2025-01-01, gross revenue at 10 a unit, no discounts and no campaigns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.demand_data import DemandHistory


def history_of(units: np.ndarray, products: pd.DataFrame) -> DemandHistory:
    start = np.datetime64("2025-01-01")
    return DemandHistory(start=start, end=start + units.shape[1] - 1, products=products,
                         units=units, gross=units * 10, discount=np.zeros_like(units),
                         campaigns=pd.DataFrame({"start_day": np.array([], dtype=np.int64),
                                                 "end_day": np.array([], dtype=np.int64),
                                                 "is_demand_type": np.array([], dtype=bool)}))
