"""Benchmark: results for every beat and construct over 1,000,000 responses on PostgreSQL.

Times the service's own results path (`compute_results`: one SQL aggregation plus the
statistics in Python) against a hand-written SQL query doing the same aggregation, in
the same run, and prints both. Target: under 0.3 s and within 1.5x the hand-written query.

    .venv/bin/python services/surveys/bench_results.py [--responses 1000000] [--repeat 7]

Uses BEAT_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) to
create a throw-away database, which it drops at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

import psycopg2
from sqlalchemy import text

from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from surveys.catalogue import ensure_bank_survey
from surveys.item_bank import STANDARD_SURVEY_CODE
from surveys.results import ResultQuery, compute_results

ADMIN_URL = os.environ.get("BEAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_SECONDS = 0.3
TARGET_RATIO = 1.5

# The standard survey measures six constructs (satisfaction and procedural justice are post-contact).
STANDARD_CONSTRUCTS = ("safety", "trust", "respect", "voice", "disorder", "efficacy")
HAND_WRITTEN = (
    "SELECT beat_code, period, "
    + ", ".join(f"count({c}), sum({c}), sum({c} * {c}), count(*) FILTER (WHERE {c} > 50)" for c in STANDARD_CONSTRUCTS)
    + " FROM responses WHERE survey_code = 'standard' AND beat_code IS NOT NULL GROUP BY beat_code, period"
)


def _admin(statement: str) -> None:
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


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
                "'RV-0' || (1 + g % 6), NULL, (ARRAY['2025-Q2','2025-Q3','2025-Q4','2026-Q1'])[1 + (g / 7) % 4], "
                f"'en', {scores} FROM generate_series(1, :n) AS g"
            ),
            {"survey": survey.id, "n": responses},
        )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE responses"))
    engine.dispose()


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
    _admin(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade("surveys", url)
        started = time.perf_counter()
        _fill(url, args.responses)
        print(f"loaded {args.responses:,} responses in {time.perf_counter() - started:.1f}s")
        engine = make_engine(url, pool_size=1)
        query = ResultQuery(survey_code=STANDARD_SURVEY_CODE)

        def service() -> None:
            with unit_of_work(engine) as session:
                cells = compute_results(session, query, 30)
            assert cells

        def hand_written() -> None:
            with engine.connect() as connection:
                rows = connection.execute(text(HAND_WRITTEN)).all()
                connection.rollback()
            assert rows

        service()
        hand_written()  # warm both
        ours = statistics.median(_time(service, args.repeat))
        theirs = statistics.median(_time(hand_written, args.repeat))
        engine.dispose()
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ratio = ours / theirs
    print(f"surveys results (compute_results): {ours * 1000:.1f} ms (median of {args.repeat})")
    print(f"hand-written SQL aggregation:      {theirs * 1000:.1f} ms (median of {args.repeat})")
    print(f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x); target < {TARGET_SECONDS * 1000:.0f} ms")
    ok = ours < TARGET_SECONDS and ratio <= TARGET_RATIO
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
