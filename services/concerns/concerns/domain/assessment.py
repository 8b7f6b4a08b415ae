"""Assessment (SARA's last step): did concerns fall where the problem was worked, against a control?

Figures: concerns per week in two equal windows, the `days` before the response started and
the `days` after it ended, in the problem's area (its categories within its radius of its
centre, in its beat) and in the control (the same categories in the rest of the beat).

The test is the exact conditional binomial test of a rate change (the Poisson rate comparison):
if the area's concerns follow Poisson counts, then given the area's total n = before + after,
the after count is Binomial(n, p). Without a problem-specific change the area moves as the
control does, so p = control_after / (control_before + control_after); with no control concerns
at all, p = 1/2 (equal windows, unchanged rate). The two-sided p-value adds the probabilities of
every outcome no more likely than the one observed (the "minimum likelihood" rule, as R's
binom.test and SciPy's binomtest do). A p-value under 0.05 is reported as significant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import comb

SIGNIFICANCE = 0.05
# Outcomes within this relative distance of the observed one's probability count as "as likely"
# (floating-point ties, as SciPy's binomtest allows).
_RELATIVE_TIE = 1 + 1e-7


@dataclass(frozen=True)
class Windows:
    before_start: datetime
    before_end: datetime  # the response started
    after_start: datetime  # the response ended
    after_end: datetime

    @property
    def weeks(self) -> float:
        return (self.before_end - self.before_start) / timedelta(weeks=1)


@dataclass(frozen=True)
class Assessment:
    windows: Windows
    area_before: int
    area_after: int
    control_before: int
    control_after: int
    expected_share: float  # p: the after-window's expected share of the area's concerns
    p_value: float

    def per_week(self, count: int) -> float:
        return round(count / self.windows.weeks, 3)

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE


def windows(response_started: datetime, response_ended: datetime, now: datetime, days: float) -> Windows:
    """Equal windows of `days` (fewer when less time has passed since the response ended)."""
    length = min(timedelta(days=days), now - response_ended)
    return Windows(response_started - length, response_started, response_ended, response_ended + length)


def count_in(times: Iterable[datetime], start: datetime, end: datetime) -> int:
    return sum(1 for at in times if start <= at < end)


def assess(area: Iterable[datetime], control: Iterable[datetime], span: Windows) -> Assessment:
    """Before/after counts of the area's and the control's concerns (their submission times)."""
    area, control = list(area), list(control)
    a_before = count_in(area, span.before_start, span.before_end)
    a_after = count_in(area, span.after_start, span.after_end)
    c_before = count_in(control, span.before_start, span.before_end)
    c_after = count_in(control, span.after_start, span.after_end)
    share = c_after / (c_before + c_after) if c_before + c_after else 0.5
    return Assessment(
        span, a_before, a_after, c_before, c_after, share, binomial_p_value(a_after, a_before + a_after, share)
    )


def binomial_p_value(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial test of k successes in n trials with success probability p."""
    if n == 0:
        return 1.0
    probabilities = [comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    observed = probabilities[k]
    total = sum(q for q in probabilities if q <= observed * _RELATIVE_TIE)
    return round(min(1.0, total), 6)
