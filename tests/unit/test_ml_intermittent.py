"""Croston, SBA, TSB and the Syntetos-Boylan classes on tiny series worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ml.intermittent import adi_cv2, density_class, density_classes, pooled_interval, smooth


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


def test_pooled_interval_by_hand():
    # Group 0: product 0 available from day 0, sells on days 1 and 3; product 1 from day 2,
    # sells on day 2. Available product-days up to day t: 1, 2, 4, 6; days with a sale:
    # 0, 1, 2, 3. Group 1 (product 2) never sells: NaN. Product 3 has no group.
    units = np.array([[0, 2, 0, 1], [0, 0, 4, 0], [0, 0, 0, 0], [9, 9, 9, 9]])
    pooled = pooled_interval(units, start=[0, 2, 0, 0], group=[0, 0, 1, -1])
    np.testing.assert_allclose(pooled, [[np.nan, 2.0, 2.0, 2.0], [np.nan] * 4])


def test_first_interval_from_the_group_without_a_launch_date():
    # Product 0 (group 0) first sells 4 units on day 2; its group's pooled interval then is
    # 5 days: size 4, interval 5 -> Croston 0.8, TSB probability 1/5. Day 3: no sale ->
    # TSB probability 0.2 + 0.1 (0 - 0.2) = 0.18. Day 4: 2 units 2 days later -> size
    # 4 + 0.1 (2 - 4) = 3.8, interval 5 + 0.1 (2 - 5) = 4.7, probability 0.18 + 0.1 (1 - 0.18)
    # = 0.262, TSB size 3.8. Product 1 (no group) starts from the days since its start, 3.
    # On day 1 group 0's interval is NaN: product 2 (group 0) falls back to its 2 days.
    units = np.array([[0, 0, 4, 0, 2], [0, 0, 3, 0, 0], [0, 6, 0, 0, 0]])
    prior = np.array([[np.nan, np.nan, 5.0, 7.0, 9.0]])
    s = smooth(units, start=[2, 0, 0], alpha=0.1, beta=0.1, group=[0, -1, 0],
               group_interval=prior)
    np.testing.assert_allclose(s.croston[0], [0, 0, 0.8, 0.8, 3.8 / 4.7])
    np.testing.assert_allclose(s.tsb_probability[0], [0, 0, 0.2, 0.18, 0.262])
    np.testing.assert_allclose(s.tsb[0], [0, 0, 0.8, 0.72, 0.262 * 3.8])
    np.testing.assert_allclose(s.croston[1], [0, 0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(s.croston[2], [0, 3.0, 3.0, 3.0, 3.0])


def test_group_interval_must_cover_every_group_and_day():
    with pytest.raises(ValueError, match="group_interval"):
        smooth(np.zeros((1, 3)), start=[0], group=[1], group_interval=np.ones((1, 3)))


def test_pooled_start_does_not_read_later_days():
    rng = np.random.default_rng(3)
    units = rng.poisson(0.3, size=(6, 40)) * (rng.random((6, 40)) < 0.4)
    start, group = [0, 5, 0, 12, 3, 0], [0, 0, 1, 1, 0, -1]
    full = smooth(units, start, group=group, group_interval=pooled_interval(units, start, group))
    cut = units[:, :25]
    part = smooth(cut, start, group=group, group_interval=pooled_interval(cut, start, group))
    np.testing.assert_allclose(full.sba[:, :25], part.sba)
    np.testing.assert_allclose(full.tsb[:, :25], part.tsb)
