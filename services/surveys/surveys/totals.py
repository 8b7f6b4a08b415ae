"""Running totals per results cell: the sufficient statistics results are computed from.

Every stored response adds its construct scores and answers to `result_totals` in the
same transaction, once per grouping it belongs to (its beat; its category for a
post-contact survey). Results then read a few thousand rows, whatever the number of
responses. `rebuild_totals` recomputes them from `responses` and `answers` (after a bulk
load, or to check them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, literal, select
from sqlalchemy.orm import Session

from beat_shared.db import adding_upsert
from surveys.domain.definitions import ScoredAnswer
from surveys.models import CONSTRUCT_COLUMNS, Answer, Response, ResultTotal

STATISTICS = ("answered", "n", "total", "squares", "favourable")
FAVOURABLE_ABOVE = 50.0


@dataclass(frozen=True)
class Placement:
    """Where a response counts: its survey, period, channel and groups."""

    survey_code: str
    period: str
    channel: str
    beat_code: str | None
    category_code: str | None

    def groups(self) -> list[tuple[str, str]]:
        candidates = (("beat", self.beat_code), ("category", self.category_code))
        return [(grouping, code) for grouping, code in candidates if code]


def _statistics(value: float | None, answered: bool = True) -> dict[str, Any]:
    has_value = value is not None
    return {
        "answered": int(answered),
        "n": int(has_value),
        "total": value if has_value else 0.0,
        "squares": value * value if has_value else 0.0,
        "favourable": int(has_value and value > FAVOURABLE_ABOVE),
    }


def response_rows(
    placement: Placement, constructs: dict[str, float], scored: Iterable[ScoredAnswer]
) -> list[dict[str, Any]]:
    """The increments one response makes, one row per group and construct or item."""
    measures: list[tuple[str, str, dict[str, Any]]] = [
        ("construct", name, _statistics(score)) for name, score in constructs.items()
    ]
    for answer in scored:
        # An item's favourable count is by its 0-100 score; a numeric item has a value but no score.
        value = answer.score if answer.score is not None else answer.value_num
        statistics = _statistics(value)
        statistics["favourable"] = int(answer.score is not None and answer.score > FAVOURABLE_ABOVE)
        measures.append(("item", answer.item_code, statistics))
    rows = [
        {
            "survey_code": placement.survey_code,
            "grouping": grouping,
            "group_code": group_code,
            "period": placement.period,
            "channel": placement.channel,
            "measure": measure,
            "code": code,
            **statistics,
        }
        for grouping, group_code in placement.groups()
        for measure, code, statistics in measures
    ]
    # One order for every transaction, so two responses to the same cells cannot deadlock.
    return sorted(rows, key=lambda row: (row["grouping"], row["group_code"], row["measure"], row["code"]))


def add_to_totals(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add the increments to their cells in one atomic statement."""
    if rows:
        session.execute(adding_upsert(session, ResultTotal, rows, STATISTICS))


def _construct_source(grouping: str, name: str) -> Select[Any]:
    group = Response.beat_code if grouping == "beat" else Response.category_code
    score = getattr(Response, name)
    return (
        select(
            Response.survey_code,
            literal(grouping),
            group,
            Response.period,
            Response.channel,
            literal("construct"),
            literal(name),
            func.count(score),
            func.count(score),
            func.coalesce(func.sum(score), 0.0),
            func.coalesce(func.sum(score * score), 0.0),
            func.count().filter(score > FAVOURABLE_ABOVE),
        )
        .where(group.is_not(None), score.is_not(None))
        .group_by(Response.survey_code, group, Response.period, Response.channel)
    )


def _item_source(grouping: str) -> Select[Any]:
    group = Answer.beat_code if grouping == "beat" else Answer.category_code
    value = func.coalesce(Answer.score, Answer.value_num)
    return (
        select(
            Answer.survey_code,
            literal(grouping),
            group,
            Answer.period,
            Response.channel,
            literal("item"),
            Answer.item_code,
            func.count(),
            func.count(value),
            func.coalesce(func.sum(value), 0.0),
            func.coalesce(func.sum(value * value), 0.0),
            func.count().filter(Answer.score > FAVOURABLE_ABOVE),
        )
        .join(Response, Response.id == Answer.response_id)
        .where(group.is_not(None))
        .group_by(Answer.survey_code, group, Answer.period, Response.channel, Answer.item_code)
    )


def rebuild_totals(session: Session) -> int:
    """Recompute every cell from the stored responses; returns the number of cells."""
    session.execute(delete(ResultTotal))
    columns = ["survey_code", "grouping", "group_code", "period", "channel", "measure", "code", *STATISTICS]
    sources = [_construct_source(grouping, name) for grouping in ("beat", "category") for name in CONSTRUCT_COLUMNS]
    sources += [_item_source(grouping) for grouping in ("beat", "category")]
    for source in sources:
        session.execute(ResultTotal.__table__.insert().from_select(columns, source))
    return session.scalar(select(func.count()).select_from(ResultTotal)) or 0
