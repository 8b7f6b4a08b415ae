"""The Grafana example queries only metrics that Beat's services really expose."""

import json
import re
from pathlib import Path

import notifications.service  # noqa: F401 - registers the notification metrics, as the running service does
from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from surveys import demo
from surveys.service import SurveysService

DASHBOARD = Path(__file__).parents[1] / "examples" / "dashboard" / "grafana" / "dashboards" / "beat-overview.json"


def exposed_families(text: str) -> set[str]:
    return {line.split()[2].removesuffix("_total") for line in text.splitlines() if line.startswith("# TYPE ")}


def test_every_metric_on_the_dashboard_is_exposed(container_factory, beat_config, postgres_database, web_session):
    url = postgres_database("surveys")
    upgrade("surveys", url)
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        demo.seed(session)
    engine.dispose()
    container_factory(SurveysService, beat_config("surveys", SURVEYS_DATABASE_URL=url)).start()

    metrics = web_session.get("/metrics").text
    families = exposed_families(metrics)
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {
        name.removesuffix("_total")
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bbeat_[a-z_]+", target["expr"])
    }
    assert queried, "the dashboard queries nothing"
    assert queried <= families, f"not exposed: {sorted(queried - families)}"
    # The demo city has survey figures, and its suppressed beat (RV-06) has no series at all.
    assert 'beat_survey_score{beat="RV-01"' in metrics
    assert 'beat="RV-06"' not in metrics
