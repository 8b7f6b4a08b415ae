"""One map: concerns is the single source of beats and referrals matches by the same polygons, on
SQLite and PostgreSQL. A city's newly imported beats reach referrals (RPC `concerns.beat_map`, copied
by referrals' `sync_beats` timer), which then places points in them and measures from their centres.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text

from beat_shared.auth import mint_token
from beat_shared.clock import FrozenClock
from beat_shared.config import env
from beat_shared.db import make_engine
from beat_shared.geo import boundary, distance_metres
from concerns import demo as concerns_demo
from concerns.service import ConcernsService
from referrals import demo as referrals_demo
from referrals.service import ReferralsService

# Monday 09:00 in Riverton.
START = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
SECRET = env("BEAT_JWT_SECRET")
OFFICER = {"Authorization": f"Bearer {mint_token('officer', 'officer-rv01', SECRET)}"}
ADMIN = {"Authorization": f"Bearer {mint_token('admin', 'admin-1', SECRET)}"}
IN_RV01 = (43.045, -108.405)  # Old Mill, in concerns' polygons
IN_RV05 = (43.015, -108.380)  # Southfield


def square(code: str, south: float, west: float, size: float = 0.02) -> dict[str, Any]:
    ring = [[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"New city {code}"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


# A second city, far from Riverton: two beats side by side, numbered its own way.
NEW_CITY = {"type": "FeatureCollection", "features": [square("NC-1", 40.0, -105.0), square("NC-2", 40.0, -104.98)]}
IN_NC01, IN_NC02 = (40.01, -104.99), (40.01, -104.97)


class Map:
    def __init__(self, urls: dict[str, str], referrals: Any, referrals_db: str) -> None:
        self.urls = urls
        self.referrals = referrals
        self.referrals_db = referrals_db

    def copied_beats(self) -> list[str]:
        engine = make_engine(self.referrals_db, pool_size=1)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text("SELECT code FROM beat_areas ORDER BY code")).scalars())
        finally:
            engine.dispose()

    def sync(self) -> int:
        with entrypoint_hook(self.referrals, "sync_beats") as sync_beats:
            return sync_beats()

    def match(self, **query: Any) -> list[dict[str, Any]]:
        answer = requests.get(self.urls["referrals"] + "/match", params=query, headers=OFFICER, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["contents"]

    def admin(self, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(self.urls[service] + path, json=body, headers=ADMIN, timeout=10)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()


@pytest.fixture
def city_map(running_services) -> Map:
    started = running_services(
        {
            "concerns": (ConcernsService, concerns_demo.seed, FrozenClock(START)),
            "referrals": (ReferralsService, referrals_demo.seed_directory, FrozenClock(START)),
        }
    )
    referrals = started["referrals"]
    return Map({name: service.url for name, service in started.items()}, referrals.container, referrals.database_url)


def names(matches: list[dict[str, Any]]) -> set[str]:
    return {match["service"]["name"] for match in matches}


def test_referrals_places_points_by_concerns_polygons(city_map):
    # Referrals copies Riverton's six beats as concerns draws them; unchanged, they are not copied again.
    assert city_map.sync() == 6 and city_map.sync() == 0
    assert city_map.copied_beats() == [f"RV-0{n}" for n in range(1, 7)]
    # The mobile pantry covers RV-05 and RV-06 only: a point in RV-05 is served, one in RV-01 is not.
    assert "Mobile pantry" in names(city_map.match(need_category="food", latitude=IN_RV05[0], longitude=IN_RV05[1]))
    in_rv01 = city_map.match(need_category="food", latitude=IN_RV01[0], longitude=IN_RV01[1])
    assert "Mobile pantry" not in names(in_rv01) and "Emergency food pantry" in names(in_rv01)
    # The demo agencies are on the same map: a few kilometres away, not 1,500.
    assert all(match["distance_km"] < 10 for match in in_rv01)


def test_a_city_s_newly_imported_beats_reach_referrals(city_map):
    assert city_map.sync() == 6
    imported = city_map.admin("concerns", "/beats/import", NEW_CITY)
    assert imported["imported"] == ["NC-1", "NC-2"]
    assert city_map.sync() == 8  # Riverton's six and the new city's two

    # A service of the new city working in NC-1 only, at an office inside NC-1.
    organization = city_map.admin(
        "referrals", "/organizations", {"agency_id": "agency-new-city-aid", "name": "New City Aid", "description": "x"}
    )
    location = city_map.admin(
        "referrals",
        "/locations",
        {"organization_id": organization["id"], "name": "Office", "latitude": 40.005, "longitude": -104.995},
    )
    terms = requests.get(city_map.urls["referrals"] + "/taxonomy_terms?search=Food", timeout=10).json()["contents"]
    [food] = [term for term in terms if term["code"] == "food"]
    city_map.admin(
        "referrals",
        "/services",
        {
            "organization_id": organization["id"],
            "name": "New City food parcels",
            "status": "active",
            "taxonomy_term_ids": [food["id"]],
            "location_ids": [location["id"]],
            "service_areas": [{"name": "Beat NC-1", "beat_code": "NC-1"}],
        },
    )
    in_nc01 = city_map.match(need_category="food", latitude=IN_NC01[0], longitude=IN_NC01[1])
    assert in_nc01[0]["service"]["name"] == "New City food parcels"
    assert "New City food parcels" not in names(
        city_map.match(need_category="food", latitude=IN_NC02[0], longitude=IN_NC02[1])
    )
    # Named by its code, the beat is measured from the centre of concerns' polygon.
    [first, *_] = city_map.match(need_category="food", beat_code="NC-1")
    centre = boundary("NC-1", NEW_CITY["features"][0]["geometry"]).centre()
    assert first["service"]["name"] == "New City food parcels"
    assert first["distance_km"] == pytest.approx(distance_metres(*centre, 40.005, -104.995) / 1000, abs=0.01)
