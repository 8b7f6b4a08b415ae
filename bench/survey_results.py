"""Benchmark 4: survey results over 1,000,000 responses, 50 beats and 8 periods, on PostgreSQL.

Times the service's own results path (`compute_results`: one SQL aggregation over the
running totals plus the statistics in Python: intervals, the city-wide cell, suppression,
change between periods) against a hand-written SQL query doing the same aggregation over
the 1,000,000 responses, in the same run. Target: under 0.3 s and within 1.5x the
hand-written query. Also printed: the same hand-written sum over the totals table (what the
service's SQL costs without its Python), and the time to rebuild the totals from scratch.

    .venv/bin/python bench/survey_results.py [--responses 1000000] [--repeat 7]

Makes a throw-away database (BEAT_TEST_POSTGRES_URL's server) and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, datetime

from common import Row, Runs, admin_sql, record
from sqlalchemy import text

from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from surveys.catalogue import ensure_bank_survey
from surveys.domain.item_bank import STANDARD_SURVEY_CODE
from surveys.results import ResultQuery, compute_results
from surveys.totals import rebuild_totals

ADMIN_URL = os.environ.get("BEAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BEATS = 50
PERIODS = [f"{year}-Q{quarter}" for year in (2024, 2025) for quarter in (1, 2, 3, 4)]
TARGET_SECONDS = 0.3
TARGET_RATIO = 1.5

# The standard survey measures six constructs (satisfaction and procedural justice are post-contact).
STANDARD_CONSTRUCTS = ("safety", "trust", "respect", "voice", "disorder", "efficacy")
HAND_WRITTEN = (
    "SELECT beat_code, period, "
    + ", ".join(f"count({c}), sum({c}), sum({c} * {c}), count(*) FILTER (WHERE {c} > 50)" for c in STANDARD_CONSTRUCTS)
    + " FROM responses WHERE survey_code = 'standard' AND beat_code IS NOT NULL GROUP BY beat_code, period"
)
OVER_TOTALS = (
    "SELECT group_code, period, code, sum(n), sum(total), sum(squares), sum(favourable) FROM result_totals "
    "WHERE survey_code = 'standard' AND grouping = 'beat' AND measure = 'construct' GROUP BY group_code, period, code"
)


def _fill(url: str, responses: int) -> None:
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        survey = ensure_bank_survey(session, STANDARD_SURVEY_CODE, datetime.now(UTC))
        scores = ", ".join(
            "CASE WHEN random() < 0.05 THEN NULL ELSE round((random() * 100)::numeric, 2)::float END"
            for _ in STANDARD_CONSTRUCTS
        )
        session.execute(
            text(
                "INSERT INTO responses (id, survey_id, survey_code, wave_id, kind, channel, beat_code, "
                f"category_code, period, language, {', '.join(STANDARD_CONSTRUCTS)}) "
                "SELECT md5(g::text)::uuid::text, :survey, 'standard', NULL, 'wave', 'invited', "
                "'RV-' || lpad((1 + g % :beats)::text, 2, '0'), NULL, (:periods)[1 + (g / :beats) % :period_count], "
                f"'en', {scores} FROM generate_series(1, :n) AS g"
            ),
            {"survey": survey.id, "n": responses, "beats": BEATS, "periods": PERIODS, "period_count": len(PERIODS)},
        )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE responses"))
    engine.dispose()


def _rebuild(url: str) -> int:
    """The responses went in by SQL, past the running totals: count them as the migration would."""
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        cells = rebuild_totals(session)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE result_totals"))
    engine.dispose()
    return cells


def _check_same_figures(service_cells: list[dict], scanned: list) -> None:
    """The service's n per beat, period and construct equals the count over the raw responses."""
    counts = {
        (row[0], row[1], name): row[2 + 4 * index] for row in scanned for index, name in enumerate(STANDARD_CONSTRUCTS)
    }
    shown = {(c["group"], c["period"], c["code"]): c["n"] for c in service_cells if c["group"] != "all"}
    assert shown == counts, "compute_results disagrees with the scan of the responses"


def _time(function: object, repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    name = f"beat_bench_surveys_{uuid.uuid4().hex[:8]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade("surveys", url)
        started = time.perf_counter()
        _fill(url, args.responses)
        load_seconds = time.perf_counter() - started
        print(f"loaded {args.responses:,} responses in {load_seconds:.1f}s", flush=True)
        started = time.perf_counter()
        total_cells = _rebuild(url)
        rebuild_seconds = time.perf_counter() - started
        print(f"rebuilt {total_cells:,} running-total cells in {rebuild_seconds:.1f}s", flush=True)
        engine = make_engine(url, pool_size=1)
        query = ResultQuery(survey_code=STANDARD_SURVEY_CODE)
        published: list[list[dict]] = []
        scanned: list[list] = []

        def service() -> None:
            with unit_of_work(engine) as session:
                cells = compute_results(session, query, 30)
            published.append(cells)
            assert cells

        def hand_written() -> None:
            with engine.connect() as connection:
                rows = connection.execute(text(HAND_WRITTEN)).all()
                connection.rollback()
            scanned.append(rows)
            assert len(rows) == BEATS * len(PERIODS)

        def over_totals() -> None:
            with engine.connect() as connection:
                rows = connection.execute(text(OVER_TOTALS)).all()
                connection.rollback()
            assert len(rows) == BEATS * len(PERIODS) * len(STANDARD_CONSTRUCTS)

        service()
        hand_written()
        over_totals()  # warm all three
        _check_same_figures(published[-1], scanned[-1])
        ours, theirs, totals_sql = (Runs(higher_is_better=False) for _ in range(3))
        for _ in range(args.repeat):  # interleaved, so that all see the same background load
            ours.add(_time(service, 1)[0])
            theirs.add(_time(hand_written, 1)[0])
            totals_sql.add(_time(over_totals, 1)[0])
        engine.dispose()
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ratio = ours.best / theirs.best
    print(f"surveys results (compute_results): best {ours.best * 1000:.1f} ms, {ours.spread('{:.3f}')} s")
    print(f"hand-written SQL aggregation:      best {theirs.best * 1000:.1f} ms, {theirs.spread('{:.3f}')} s")
    print(f"hand-written SQL over the totals:  best {totals_sql.best * 1000:.1f} ms, {totals_sql.spread('{:.4f}')} s")
    rows = [
        Row(
            f"survey results: {args.responses:,} responses, {BEATS} beats x {len(PERIODS)} periods",
            ours.best,
            "s",
            f"< {TARGET_SECONDS} s and <= {TARGET_RATIO}x",
            ours.best < TARGET_SECONDS and ratio <= TARGET_RATIO,
            reference=theirs.best,
            ratio=ratio,
            spread=f"Beat {ours.spread('{:.3f}')}; SQL {theirs.spread('{:.3f}')}",
        ),
        Row(
            "survey results: the same sum over the running totals (SQL)",
            totals_sql.best,
            "s",
            "-",
            None,
            spread=f"{totals_sql.spread('{:.4f}')}; rebuild from responses {rebuild_seconds:.1f} s",
        ),
    ]
    details = {
        "responses": args.responses,
        "beats": BEATS,
        "periods": PERIODS,
        "load_seconds": round(load_seconds, 1),
        "rebuild_totals_seconds": round(rebuild_seconds, 1),
        "total_cells": total_cells,
        "cells_published": len(published[-1]),
        "compute_results_s": ours.as_dict(),
        "hand_written_sql_s": theirs.as_dict(),
        "hand_written_sql": HAND_WRITTEN,
        "over_totals_sql_s": totals_sql.as_dict(),
        "over_totals_sql": OVER_TOTALS,
    }
    record("surveys", rows, details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
