"""Categories and beat boundaries, held in memory by each process.

Nearly every submission reads its category and the beats around its place; both change a few
times a year, when an administrator saves a category or imports beats. Read from the database
they were two of a submission's round trips and a fifth of its time (py-spy, issue 10).

How a change reaches every process:
- every flush that writes a category or a beat also bumps the one row of `reference_versions`,
  in the same transaction (mapper events, so no write path can forget it);
- a process re-reads that counter at most every `max_age` seconds and reloads everything when
  it moved; the process that committed the change re-reads it on its next use;
- a category the snapshot does not know, or knows as inactive, is looked up in the database,
  so a new or reactivated category is usable at once everywhere.
So another replica may use a changed category's rules, a deactivated category or the old beat
boundaries for up to `max_age` (CONCERNS_REFERENCE_MAX_AGE_SECONDS, default 1 s).

The open problems (a new concern joins those of its beat at its place) are kept the same way
with a counter of their own, `problems_version`, bumped by every flush that writes a problem,
but with no max_age: a submission reads the counter with its likely duplicates (one query,
store.likely_duplicates_and_problems_version) and reloads them when it moved, so a concern never
misses a problem another process opened before it arrived, and a beat with none costs no query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached, object_session
from sqlalchemy.orm.util import identity_key

from concerns import store
from concerns.domain.geo import BeatBoundary, boundary
from concerns.domain.problems import OpenProblem
from concerns.models import REFERENCE_VERSION_ROW, Beat, Category, Problem, ReferenceVersion

VERSION_ROW = REFERENCE_VERSION_ROW
READ_VERSION = select(ReferenceVersion.version).where(ReferenceVersion.id == VERSION_ROW)
BUMP_VERSION = (
    update(ReferenceVersion).where(ReferenceVersion.id == VERSION_ROW).values(version=ReferenceVersion.version + 1)
)
BUMP_PROBLEMS_VERSION = (
    update(ReferenceVersion)
    .where(ReferenceVersion.id == VERSION_ROW)
    .values(problems_version=ReferenceVersion.problems_version + 1)
)
ALL_CATEGORIES = select(*(getattr(Category, column.key) for column in inspect(Category).column_attrs))
ALL_BOUNDARIES = select(Beat.code, Beat.boundary)
CHANGED = "reference_changed"  # a session.info flag: this transaction wrote reference data
PROBLEMS_CHANGED = "problems_changed"  # a session.info flag: this transaction wrote a problem


class _LocalChanges:
    """How many transactions of this process changed reference data (each cache remembers the
    count it last saw, so the committing process need not wait for max_age)."""

    count = 0


@dataclass(frozen=True)
class Snapshot:
    version: int | None
    categories: dict[str, Category]  # detached and whole; merged into a session before use
    beats: tuple[BeatBoundary, ...]


@dataclass(frozen=True)
class OpenProblems:
    version: int
    by_beat: dict[str, tuple[OpenProblem, ...]]


class ReferenceCache:
    """One per process; greenlets share it (a snapshot is replaced whole, never changed)."""

    def __init__(self, max_age: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self._monotonic = monotonic
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._local_changes_seen = _LocalChanges.count
        self._open_problems: OpenProblems | None = None

    def category(self, session: Session, code: str, field: str = "category") -> Category:
        """An active category, as `store.category`: InvalidInput when unknown or inactive."""
        cached = self._fresh(session).categories.get(code)
        if cached is None or not cached.active:
            return store.category(session, code, field)  # new or reactivated since the snapshot
        return _attach(session, cached)

    def any_category(self, session: Session, code: str) -> Category | None:
        """A category, active or not (a stored concern's), or None."""
        cached = self._fresh(session).categories.get(code)
        if cached is None:
            return session.get(Category, code)
        return _attach(session, cached)

    def boundaries_around(self, session: Session, lat: float, long: float) -> list[BeatBoundary]:
        """As `store.boundaries_around`: the beats whose bounding box holds the point."""
        return [beat for beat in self._fresh(session).beats if beat.box_holds(lat, long)]

    def open_problems(self, session: Session, beat_code: str, version: int | None) -> Sequence[OpenProblem]:
        """The open problems of a beat as of the problems' `version`, which the caller read in this
        transaction: from memory when that is the version held, else all reloaded."""
        if version is None or session.info.get(PROBLEMS_CHANGED):  # no counter, or this transaction's own view
            return store.open_problems(session, beat_code)
        held = self._open_problems
        if held is None or held.version != version:
            by_beat: dict[str, tuple[OpenProblem, ...]] = {}
            for problem in store.open_problems(session):
                by_beat[problem.beat_code] = (*by_beat.get(problem.beat_code, ()), problem)
            held = self._open_problems = OpenProblems(version, by_beat)
        return held.by_beat.get(beat_code, ())

    def _fresh(self, session: Session) -> Snapshot:
        if session.info.get(CHANGED):  # this transaction changed them: its own view, not cached
            return _load(session, None)
        snapshot = self._snapshot
        now = self._monotonic()
        local_changes = _LocalChanges.count
        if snapshot is not None and now - self._checked_at < self.max_age and local_changes == self._local_changes_seen:
            return snapshot
        version = session.execute(READ_VERSION).scalar()
        if snapshot is None or version is None or version != snapshot.version:
            snapshot = self._snapshot = _load(session, version)
        self._checked_at, self._local_changes_seen = now, local_changes
        return snapshot


def _load(session: Session, version: int | None) -> Snapshot:
    """Everything, read in the caller's transaction (a second connection could wait on a full
    pool) as plain rows, made into detached objects that merge into a session without a query."""
    categories = {}
    for row in session.execute(ALL_CATEGORIES).mappings():
        category = Category(**row)
        make_transient_to_detached(category)
        categories[category.code] = category
    beats = tuple(boundary(row.code, row.boundary) for row in session.execute(ALL_BOUNDARIES))
    return Snapshot(version, categories, beats)


def _attach(session: Session, cached: Category) -> Category:
    """The session's own copy: the one it already holds (perhaps changed in this transaction),
    else the cached object merged in without a query."""
    held = session.identity_map.get(identity_key(Category, cached.code))
    return held if held is not None else session.merge(cached, load=False)


# --- keeping the version ------------------------------------------------------------------


def _bump(_mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    if connection.execute(BUMP_VERSION).rowcount == 0:  # a database made without the migration's row
        connection.execute(insert(ReferenceVersion).values(id=VERSION_ROW, version=1))
    session = object_session(target)
    if session is not None:
        session.info[CHANGED] = True


def _bump_problems(_mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    if connection.execute(BUMP_PROBLEMS_VERSION).rowcount == 0:  # a database made without the migration's row
        connection.execute(insert(ReferenceVersion).values(id=VERSION_ROW, version=0, problems_version=1))
    session = object_session(target)
    if session is not None:
        session.info[PROBLEMS_CHANGED] = True


for _moment in ("after_insert", "after_update", "after_delete"):
    for _model in (Category, Beat):
        event.listen(_model, _moment, _bump)
    event.listen(Problem, _moment, _bump_problems)


@event.listens_for(Session, "after_commit")
def _count_local_change(session: Session) -> None:
    session.info.pop(PROBLEMS_CHANGED, None)  # committed: the counter it bumped now tells everyone
    if session.info.pop(CHANGED, False):
        _LocalChanges.count += 1


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back_change(session: Session) -> None:
    session.info.pop(CHANGED, None)
    session.info.pop(PROBLEMS_CHANGED, None)
