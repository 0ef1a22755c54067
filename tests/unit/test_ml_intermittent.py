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


def test_first_interval_counted_from_the_history_start_without_a_launch_date():
    # Product 0 is available from its first sale (day 3, 4 units) but counts its first
    # interval from day 0: interval 4, size 4 -> Croston 1.0, TSB probability 1/4. Day 4: no
    # sale -> probability 0.25 + 0.1 (0 - 0.25) = 0.225. Day 5: 2 units 2 days after the last
    # -> size 4 + 0.1 (2 - 4) = 3.8, interval 4 + 0.1 (2 - 4) = 3.8 -> Croston 1.0;
    # probability 0.225 + 0.1 (1 - 0.225) = 0.3025. Product 1 counts from its start (day 3):
    # interval 1, Croston 3.
    units = np.array([[0, 0, 0, 4, 0, 2], [0, 0, 0, 3, 0, 0]])
    s = smooth(units, start=[3, 3], alpha=0.1, beta=0.1, counted_from=[0, 3])
    np.testing.assert_allclose(s.croston[0], [0, 0, 0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(s.tsb_probability[0], [0, 0, 0, 0.25, 0.225, 0.3025])
    np.testing.assert_allclose(s.tsb[0], [0, 0, 0, 1.0, 0.9, 0.3025 * 3.8])
    np.testing.assert_allclose(s.croston[1], [0, 0, 0, 3.0, 3.0, 3.0])
    np.testing.assert_allclose(s.sba[1], [0, 0, 0, 2.85, 2.85, 2.85])


def test_counted_from_after_the_start_is_refused():
    with pytest.raises(ValueError, match="counted_from"):
        smooth(np.zeros((1, 3)), start=[0], counted_from=[1])


def test_counted_from_does_not_read_later_days():
    rng = np.random.default_rng(3)
    units = rng.poisson(0.3, size=(6, 40)) * (rng.random((6, 40)) < 0.4)
    start, counted = [0, 5, 0, 12, 3, 0], [0, 0, 0, 0, 3, 0]
    full = smooth(units, start, counted_from=counted)
    part = smooth(units[:, :25], start, counted_from=counted)
    np.testing.assert_array_equal(full.sba[:, :25], part.sba)
    np.testing.assert_array_equal(full.tsb[:, :25], part.tsb)


def test_classes_of_all_products_at_once_equal_each_products_own():
    # The vectorised classes against `density_class` of each product's own window, on
    # random sparse and dense whole-unit demand with launch days before, inside and after
    # the window (no sales, one sale, one selling day, equal sizes, lumpy sizes).
    rng = np.random.default_rng(11)
    products, days, origin, window = 400, 90, 79, 60
    rate = rng.choice([0.0, 0.02, 0.1, 0.5, 0.9], size=(products, 1))
    units = (rng.random((products, days)) < rate) * rng.choice([1, 1, 2, 7, 30],
                                                               size=(products, days))
    start = rng.integers(0, origin + 5, size=products)
    first = origin - window + 1
    expected = [density_class(units[p, max(first, start[p]):origin + 1])
                for p in range(products)]
    assert list(density_classes(units, start, origin, window)) == expected
    assert set(expected) == {"no_sales", "dense", "intermittent", "lumpy"}
