"""Croston, SBA, TSB and the Syntetos-Boylan classes on tiny series worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ml.intermittent import adi_cv2, density_class, density_classes, smooth


def test_croston_sba_and_tsb_by_hand():
    # Day 2: first sale of 3 after 3 days -> size 3, interval 3, TSB probability 1/3.
    # Day 3: no sale -> Croston unchanged; TSB probability 1/3 + 0.1 (0 - 1/3) = 0.3.
    # Day 4: 1 unit, 2 days after the last -> size 3 + 0.1 (1 - 3) = 2.8,
    #        interval 3 + 0.1 (2 - 3) = 2.9; TSB probability 0.3 + 0.1 (1 - 0.3) = 0.37.
    s = smooth(np.array([[0, 0, 3, 0, 1]]), start=[0], alpha=0.1, beta=0.1)
    np.testing.assert_allclose(s.croston[0], [0, 0, 1.0, 1.0, 2.8 / 2.9])
    np.testing.assert_allclose(s.sba[0], [0, 0, 0.95, 0.95, 0.95 * 2.8 / 2.9])
    np.testing.assert_allclose(s.tsb_probability[0], [0, 0, 1 / 3, 0.3, 0.37])
    np.testing.assert_allclose(s.tsb[0], [0, 0, 1.0, 0.9, 0.37 * 2.8])


def test_days_before_availability_are_ignored_and_rows_are_independent():
    units = np.array([[5, 5, 0, 2, 0], [0, 0, 3, 0, 1]])
    s = smooth(units, start=[2, 0], alpha=0.1, beta=0.1)
    # Product 0 is available from day 2: first sale on day 3 after 2 days.
    np.testing.assert_allclose(s.croston[0], [0, 0, 0, 1.0, 1.0])
    np.testing.assert_allclose(s.tsb[0], [0, 0, 0, 1.0, 0.45 * 2])
    np.testing.assert_allclose(s.croston[1], [0, 0, 1.0, 1.0, 2.8 / 2.9])


def test_state_at_a_day_does_not_depend_on_later_days():
    rng = np.random.default_rng(3)
    units = rng.poisson(0.3, (4, 60)).astype(float)
    full = smooth(units, start=[0, 5, 10, 0])
    cut = smooth(units[:, :40], start=[0, 5, 10, 0])
    np.testing.assert_array_equal(full.tsb[:, :40], cut.tsb)
    np.testing.assert_array_equal(full.sba[:, :40], cut.sba)


def test_syntetos_boylan_classes_by_hand():
    assert density_class(np.array([1, 2, 1, 3])) == "dense"  # ADI 1
    assert adi_cv2(np.array([0, 0, 1, 0, 0, 5])) == pytest.approx((3.0, 4 / 9))
    assert density_class(np.array([0, 0, 1, 0, 0, 5])) == "intermittent"  # CV² 0.44
    assert adi_cv2(np.array([0, 0, 1, 0, 0, 7]))[1] == pytest.approx(9 / 16)
    assert density_class(np.array([0, 0, 1, 0, 0, 7])) == "lumpy"
    assert density_class(np.zeros(5)) == "no_sales"
    units = np.array([[0, 0, 1, 0, 0, 7], [9, 9, 1, 1, 1, 1]])
    # Product 1 is counted from day 2 in a 3-day window up to day 5: days 3..5 all sell.
    assert list(density_classes(units, [0, 2], origin=5, window=6)) == ["lumpy", "dense"]
