"""Statistical functions against values computed by hand."""

import math

import pytest

from surveys.domain.stats import (
    Moments,
    change_between,
    effective_sample_size,
    estimate,
    is_suppressed,
    post_stratification_weights,
    suppression_threshold,
    wilson_interval,
)
from surveys.settings import SurveySettings


def test_wilson_interval_for_8_of_10():
    # p = .8, z² = 3.8415: centre = (.8 + .19207)/1.38415 = .71682,
    # half = 1.96·sqrt(.016 + .0096037)/1.38415 = .22658
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9434, abs=1e-4)


def test_wilson_interval_at_the_edges_stays_inside_zero_and_one():
    low, high = wilson_interval(0, 20)
    assert low == 0.0
    assert high == pytest.approx(0.1611, abs=1e-4)  # z²/(n+z²) = 3.8415/23.8415
    low, high = wilson_interval(20, 20)
    assert low == pytest.approx(1 - 0.1611, abs=1e-4)
    assert high == 1.0
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def test_effective_sample_size_is_kish():
    assert effective_sample_size([1, 1, 2, 2]) == pytest.approx(3.6)  # 6² / 10
    assert effective_sample_size([1.0] * 25) == pytest.approx(25)
    assert effective_sample_size([]) == 0.0


def test_unweighted_mean_interval():
    # y = 0, 50, 100: mean 50, s² = 5000/2 = 2500, SE = 50/√3 = 28.8675
    moments = Moments.unweighted(3, 150, 12500, 1)
    result = estimate(moments)
    assert result.mean == pytest.approx(50)
    assert result.standard_error == pytest.approx(28.8675, abs=1e-4)
    assert result.mean_low == pytest.approx(50 - 1.96 * 28.8675, abs=0.01)
    assert result.share_favourable == pytest.approx(1 / 3)
    assert (result.share_low, result.share_high) == pytest.approx(wilson_interval(1, 3))


def test_weighted_estimate_uses_the_effective_sample_size():
    # Two strata: 10 respondents all scoring 100 with weight 2, 30 scoring 0 with weight 2/3.
    heavy = Moments.unweighted(10, 1000, 100000, 10).scaled(2)
    light = Moments.unweighted(30, 0, 0, 0).scaled(2 / 3)
    pooled = heavy + light
    # Σw = 20 + 20 = 40; Σw² = 10·4 + 30·4/9 = 53.333; n_eff = 1600/53.333 = 30
    assert pooled.n == 40
    assert pooled.n_eff == pytest.approx(30)
    result = estimate(pooled)
    assert result.mean == pytest.approx(50)  # 2000 / 40
    assert result.share_favourable == pytest.approx(0.5)
    # weighted variance 2500, Bessel on n_eff: 2500·30/29; SE = sqrt(that/30)
    assert result.standard_error == pytest.approx(math.sqrt(2500 * 30 / 29 / 30))
    assert (result.share_low, result.share_high) == pytest.approx(wilson_interval(15, 30))


def test_post_stratification_weights_follow_population_shares():
    weights = post_stratification_weights({"A": 10, "B": 30}, {"A": 500, "B": 500})
    assert weights["A"] == pytest.approx(2.0)  # (.5)/(.25)
    assert weights["B"] == pytest.approx(2 / 3)  # (.5)/(.75)
    assert post_stratification_weights({"A": 10, "C": 5}, {"A": 100}) == {"A": 1.0}


def test_suppression_exactly_at_the_threshold():
    assert is_suppressed(29, 30)
    assert not is_suppressed(30, 30)
    assert is_suppressed(9, 10)
    assert not is_suppressed(10, 10)


def test_the_minimum_cell_can_never_be_set_below_ten():
    assert suppression_threshold(None) == 30
    assert suppression_threshold("10") == 10
    with pytest.raises(ValueError):
        suppression_threshold("9")
    with pytest.raises(ValueError):
        SurveySettings.from_config({"SURVEYS_MIN_CELL": "5"})
    assert SurveySettings.from_config({"SURVEYS_MIN_CELL": "12"}).min_cell == 12


def test_change_is_flagged_significant_only_beyond_the_interval():
    before = estimate(Moments.unweighted(100, 5000, 5000 * 50 + 99 * 100, 50))  # mean 50
    small = estimate(Moments.unweighted(100, 5100, 5100 * 51 + 99 * 100, 50))  # mean 51
    large = estimate(Moments.unweighted(100, 6000, 6000 * 60 + 99 * 100, 50))  # mean 60
    assert not change_between(before, small).significant
    change = change_between(before, large)
    assert change.significant
    assert change.difference == pytest.approx(10)
