"""Survey statistics: intervals, effective sample size, suppression, trends.

Plain functions over the sufficient statistics of a cell (n, sums, sums of squares)
so that the database does the per-row work and Python only combines a few numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

Z_95 = 1.959963984540054
MIN_CELL_FLOOR = 10
DEFAULT_MIN_CELL = 30


def suppression_threshold(configured: int | str | None) -> int:
    """The minimum cell size in force; refuses anything below the floor of 10.

    Raises ValueError for a value below 10 (NCHS/BJS small-cell rules: never publish
    fewer than 10 respondents), so a misconfiguration cannot weaken the rule.
    """
    value = DEFAULT_MIN_CELL if configured in (None, "") else int(configured)
    if value < MIN_CELL_FLOOR:
        raise ValueError(f"the minimum cell size must be at least {MIN_CELL_FLOOR}, not {value}")
    return value


def is_suppressed(n: float, threshold: int) -> bool:
    """A cell is published only with at least `threshold` respondents (n == threshold is shown)."""
    return n < threshold


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion; `n` may be an effective (weighted) size."""
    if n <= 0:
        raise ValueError("the interval needs n > 0")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def effective_sample_size(weights: Iterable[float]) -> float:
    """Kish's n_eff = (Σw)² / Σw²."""
    total = 0.0
    squares = 0.0
    for weight in weights:
        total += weight
        squares += weight * weight
    return total * total / squares if squares else 0.0


@dataclass(frozen=True)
class Moments:
    """Weighted sufficient statistics of one cell: Σw, Σw², Σwy, Σwy², Σw·favourable and raw n.

    Unweighted data has every w = 1, so Σw = Σw² = n.
    """

    n: int
    sum_w: float
    sum_w2: float
    sum_wy: float
    sum_wy2: float
    sum_wfav: float

    @classmethod
    def unweighted(cls, n: int, total: float, squares: float, favourable: float) -> Moments:
        return cls(n, float(n), float(n), float(total), float(squares), float(favourable))

    def scaled(self, weight: float) -> Moments:
        """The same cell with every respondent carrying `weight`."""
        w = weight
        return Moments(
            self.n, self.sum_w * w, self.sum_w2 * w * w, self.sum_wy * w, self.sum_wy2 * w, self.sum_wfav * w
        )

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.n + other.n,
            self.sum_w + other.sum_w,
            self.sum_w2 + other.sum_w2,
            self.sum_wy + other.sum_wy,
            self.sum_wy2 + other.sum_wy2,
            self.sum_wfav + other.sum_wfav,
        )

    @property
    def n_eff(self) -> float:
        return self.sum_w * self.sum_w / self.sum_w2 if self.sum_w2 else 0.0

    @property
    def mean(self) -> float:
        return self.sum_wy / self.sum_w

    @property
    def share(self) -> float:
        return self.sum_wfav / self.sum_w


ZERO = Moments(0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Estimate:
    n: int
    n_eff: float
    mean: float
    mean_low: float
    mean_high: float
    standard_error: float
    share_favourable: float
    share_low: float
    share_high: float


def estimate(moments: Moments, z: float = Z_95) -> Estimate:
    """Mean with a normal interval (SE from the weighted variance and n_eff) and the
    favourable share with a Wilson interval on n_eff."""
    if moments.n == 0 or moments.sum_w <= 0:
        raise ValueError("no respondents in this cell")
    n_eff = moments.n_eff
    mean = moments.mean
    variance = max(0.0, moments.sum_wy2 / moments.sum_w - mean * mean)
    if n_eff > 1:
        variance *= n_eff / (n_eff - 1)  # the unbiased (Bessel-corrected) variance
    standard_error = math.sqrt(variance / n_eff)
    share = moments.share
    low, high = wilson_interval(share * n_eff, n_eff, z)
    return Estimate(
        n=moments.n,
        n_eff=n_eff,
        mean=mean,
        mean_low=mean - z * standard_error,
        mean_high=mean + z * standard_error,
        standard_error=standard_error,
        share_favourable=share,
        share_low=low,
        share_high=high,
    )


@dataclass(frozen=True)
class Change:
    difference: float
    z: float
    significant: bool


def change_between(previous: Estimate, current: Estimate, z: float = Z_95) -> Change:
    """Difference of two independent means; significant when |diff| > z·SE(diff)."""
    se = math.sqrt(previous.standard_error**2 + current.standard_error**2)
    difference = current.mean - previous.mean
    if se == 0:
        return Change(difference, math.inf if difference else 0.0, difference != 0)
    statistic = difference / se
    return Change(difference, statistic, abs(statistic) > z)


def post_stratification_weights(sample: dict[str, int], population: dict[str, int]) -> dict[str, float]:
    """Weight per stratum (beat) so each stratum counts by its population share.

    w_b = (N_b / N) / (n_b / n). Strata without a population are left out (weight 0
    would silently drop respondents, so the caller decides); strata without
    respondents get no weight.
    """
    strata = [key for key in sample if sample[key] > 0 and population.get(key, 0) > 0]
    n = sum(sample[key] for key in strata)
    big_n = sum(population[key] for key in strata)
    if not n or not big_n:
        return {}
    return {key: (population[key] / big_n) / (sample[key] / n) for key in strata}
