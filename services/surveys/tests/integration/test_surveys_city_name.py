"""The dashboard names the city of the settings (BEAT_CITY_NAME) and no other: the code names no city."""

from surveys.service import SurveysService


def test_the_dashboard_names_the_configured_city_and_never_the_demo_one(
    container_factory, beat_config, surveys_db, web_session
):
    config = beat_config("surveys", SURVEYS_DATABASE_URL=surveys_db, BEAT_CITY_NAME="Lakeside & Co")
    container_factory(SurveysService, config).start()
    city, beat = web_session.get("/dashboard"), web_session.get("/dashboard/beats/RV-01")
    script = web_session.get("/dashboard/app.js")
    assert '<h1 id="title">Lakeside &amp; Co — how safe and heard residents feel</h1>' in city.text
    assert 'data-city="Lakeside &amp; Co"' in beat.text  # the script's "All of …" link reads it
    assert 'getAttribute("data-city")' in script.text
    for served in (city, beat, script):
        assert "Riverton" not in served.text
