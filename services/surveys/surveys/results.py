"""Results per group (beat or category), period and construct or item.

Each request runs ONE SQL aggregation over the running totals (`surveys.totals`: n, Σy,
Σy², favourable per group, period, channel and code, kept up to date as responses
arrive), so its cost does not grow with the number of responses; Python then only
combines those few rows: intervals, the city-wide cell, post-stratification weights,
suppression and change between periods.

Suppression: a cell with fewer respondents than the minimum shows no figure at all
(not even n). The city-wide cell pools only the groups that are shown, so a
suppressed beat can never be recovered by subtracting the others from the total.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from surveys.domain.item_bank import CONSTRUCTS
from surveys.domain.periods import overlaps
from surveys.domain.stats import ZERO, Moments, change_between, estimate, is_suppressed, post_stratification_weights
from surveys.models import CONSTRUCT_COLUMNS, BeatPopulation, ResultTotal, Survey
from surveys.totals import STATISTICS

ALL = "all"
MEASURES = ("construct", "item")
GROUPINGS = ("beat", "category")


@dataclass(frozen=True)
class ResultQuery:
    survey_code: str
    measure: str = "construct"
    by: str = "beat"
    periods: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    channel: str | None = None
    weighted: bool = False


@dataclass
class Cell:
    group: str
    period: str
    code: str
    moments: Moments
    pooled: list[str] = field(default_factory=list)


# --- the one SQL aggregation per request --------------------------------------------------


def totals_statement(query: ResultQuery, measure: str, codes: tuple[str, ...]) -> Select[Any]:
    """Per group, period and code: the running totals summed over channels (or one channel)."""
    statement = select(
        ResultTotal.group_code.label("grp"),
        ResultTotal.period.label("period"),
        ResultTotal.code.label("code"),
        *(func.sum(getattr(ResultTotal, name)).label(name) for name in STATISTICS),
    ).where(
        ResultTotal.survey_code == query.survey_code,
        ResultTotal.grouping == query.by,
        ResultTotal.measure == measure,
    )
    if query.channel:
        statement = statement.where(ResultTotal.channel == query.channel)
    if query.groups:
        statement = statement.where(ResultTotal.group_code.in_(query.groups))
    if codes:
        statement = statement.where(ResultTotal.code.in_(codes))
    return statement.group_by(ResultTotal.group_code, ResultTotal.period, ResultTotal.code)


def survey_constructs(session: Session, survey_code: str) -> tuple[str, ...]:
    """The constructs any version of the survey measures (only those columns are aggregated)."""
    found: set[str] = set()
    for questions in session.scalars(select(Survey.questions).where(Survey.code == survey_code)):
        found.update(q["construct"] for q in questions if q.get("construct"))
    return tuple(name for name in CONSTRUCT_COLUMNS if name in found)


def _aggregate(session: Session, query: ResultQuery) -> list[Cell]:
    codes = query.codes
    if query.measure == "construct":
        codes = codes or survey_constructs(session, query.survey_code)
        if not codes:
            return []
    cells = []
    for row in session.execute(totals_statement(query, query.measure, codes)):
        if row.n:
            moments = Moments.unweighted(int(row.n), row.total, row.squares, int(row.favourable))
        elif query.measure == "item":  # unscored choices and free text: only how many answered
            moments = Moments(int(row.answered), 0.0, 0.0, 0.0, 0.0, 0.0)
        else:
            continue
        cells.append(Cell(row.grp, row.period, row.code, moments))
    return cells


# --- from sufficient statistics to published cells -------------------------------------


@dataclass(frozen=True)
class ItemInfo:
    scored: bool
    numeric: bool
    label: dict[str, str]


def item_catalogue(session: Session, survey_code: str) -> dict[str, ItemInfo]:
    """What each item of any version of the survey is (scored? numeric?) and its text."""
    info: dict[str, ItemInfo] = {}
    for questions in session.scalars(select(Survey.questions).where(Survey.code == survey_code)):
        for q in questions:
            scored = q["type"] in ("likert_5", "scale_0_10") or (
                q["type"] == "single_choice" and any(o.get("score") is not None for o in q["options"])
            )
            info[q["item_code"]] = ItemInfo(scored, q["type"] == "numeric", q["text"])
    return info


def _pool(cells: list[Cell], threshold: int, populations: dict[str, int] | None) -> list[Cell]:
    """The all-groups cell per period and code, pooling only the groups that are shown."""
    by_key: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for cell in cells:
        if not is_suppressed(cell.moments.n, threshold):
            by_key[(cell.period, cell.code)].append(cell)
    pooled = []
    for (period, code), members in by_key.items():
        if populations is not None:
            sample = {member.group: member.moments.n for member in members}
            factors = post_stratification_weights(sample, populations)
            members = [member for member in members if member.group in factors]
            total = sum((member.moments.scaled(factors[member.group]) for member in members), ZERO)
        else:
            total = sum((member.moments for member in members), ZERO)
        if members:
            pooled.append(Cell(ALL, period, code, total, sorted(member.group for member in members)))
    return pooled


def _publish(cell: Cell, threshold: int, measure: str, info: ItemInfo | None) -> dict[str, Any]:
    scored = measure == "construct" or (info is not None and info.scored)
    valued = scored or (info is not None and info.numeric)
    body: dict[str, Any] = {
        "group": cell.group,
        "period": cell.period,
        "measure": measure,
        "code": cell.code,
        "label": CONSTRUCTS.get(cell.code) if measure == "construct" else (info.label if info else None),
        "scale": "0-100" if scored else ("raw" if valued else None),
        "suppressed": is_suppressed(cell.moments.n, threshold),
        "n": None,
        "n_eff": None,
        "mean": None,
        "mean_ci": None,
        "share_favourable": None,
        "share_ci": None,
        "change": None,
    }
    if cell.group == ALL:
        body["pooled_groups"] = cell.pooled
    if body["suppressed"]:
        return body
    body["n"] = cell.moments.n
    if not valued:
        return body
    result = estimate(cell.moments)
    body["n_eff"] = round(result.n_eff, 1)
    body["mean"] = round(result.mean, 2)
    body["mean_ci"] = [round(result.mean_low, 2), round(result.mean_high, 2)]
    body["_estimate"] = result
    if scored:
        body["share_favourable"] = round(result.share_favourable, 4)
        body["share_ci"] = [round(result.share_low, 4), round(result.share_high, 4)]
    return body


def _add_changes(published: list[dict[str, Any]]) -> None:
    """Change from the previous period of the same group and code, with a significance flag."""
    series: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for body in published:
        series[(body["group"], body["code"])].append(body)
    for bodies in series.values():
        bodies.sort(key=lambda body: body["period"])
        for previous, current in itertools.pairwise(bodies):
            if "_estimate" in previous and "_estimate" in current:
                change = change_between(previous["_estimate"], current["_estimate"])
                current["change"] = {
                    "from_period": previous["period"],
                    "difference": round(change.difference, 2),
                    "z": round(change.z, 2),
                    "significant": change.significant,
                }


def _order(body: dict[str, Any]) -> tuple[int, str, str, str]:
    return (0 if body["group"] == ALL else 1, str(body["group"]), body["period"], body["code"])


def compute_results(session: Session, query: ResultQuery, threshold: int) -> list[dict[str, Any]]:
    """Every published cell of the query, suppressed cells included as such, in a stable order."""
    cells = _aggregate(session, query)
    populations = None
    if query.weighted and query.by == "beat":
        populations = {row.beat_code: row.population for row in session.scalars(select(BeatPopulation))}
    info = item_catalogue(session, query.survey_code) if query.measure == "item" else {}
    # A filtered request (one beat) gets no city cell: it would be that beat again.
    all_cells = [*cells, *([] if query.groups else _pool(cells, threshold, populations))]
    published = [_publish(cell, threshold, query.measure, info.get(cell.code)) for cell in all_cells]
    for body in published:
        body["weighted"] = bool(populations) and body["group"] == ALL
    _add_changes(published)
    for body in published:
        body.pop("_estimate", None)
    if query.periods:
        published = [body for body in published if body["period"] in query.periods]
    return sorted(published, key=_order)


def periods_of(session: Session, survey_code: str) -> list[str]:
    return sorted(session.scalars(select(ResultTotal.period).where(ResultTotal.survey_code == survey_code).distinct()))


def periods_in_window(
    session: Session, survey_code: str, periods: tuple[str, ...], start: datetime | None, end: datetime | None
) -> tuple[str, ...]:
    """The periods asked for (all with results if none) that overlap the window [start, end)."""
    candidates = periods or tuple(periods_of(session, survey_code))
    return tuple(period for period in candidates if overlaps(period, start, end))


CSV_COLUMNS = (
    "period",
    "group",
    "measure",
    "code",
    "suppressed",
    "n",
    "n_eff",
    "mean",
    "mean_low",
    "mean_high",
    "share_favourable",
    "share_low",
    "share_high",
    "change",
    "change_significant",
    "weighted",
)


def csv_rows(published: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    """Rows for the CSV export; a suppressed cell's figures are empty."""
    yield list(CSV_COLUMNS)
    for body in published:
        mean_ci = body["mean_ci"] or [None, None]
        share_ci = body["share_ci"] or [None, None]
        change = body["change"] or {}
        yield [
            body["period"],
            body["group"],
            body["measure"],
            body["code"],
            "true" if body["suppressed"] else "false",
            body["n"],
            body["n_eff"],
            body["mean"],
            mean_ci[0],
            mean_ci[1],
            body["share_favourable"],
            share_ci[0],
            share_ci[1],
            change.get("difference"),
            "" if not change else ("true" if change["significant"] else "false"),
            "true" if body["weighted"] else "false",
        ]
