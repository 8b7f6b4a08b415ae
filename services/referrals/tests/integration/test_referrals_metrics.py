"""The referrals service's own gauge on /metrics: sent referrals whose answer-by time is near (the
alert BeatReferralsDueSoon in deploy/k8s/components/monitoring)."""

from __future__ import annotations

from referrals_testkit import CLIENT, FOOD_BANK_USER, OFFICER, PANTRY, consent


def gauge(web_session, name: str) -> float:
    text = web_session.get("/metrics").text
    [value] = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(f"{name} ")]
    return value


def send(web_session) -> str:
    body = {"service_id": PANTRY, "need_category": "food", "urgency": "soon", "beat_code": "RV-01", "client": CLIENT}
    referral = web_session.post("/referrals", json={**body, "consent": consent()}, headers=OFFICER).json()
    assert web_session.post(f"/referrals/{referral['id']}/send", headers=OFFICER).status_code == 200
    return referral["id"]


def test_the_due_soon_gauge_counts_unanswered_referrals_within_six_hours_of_their_answer_by(
    referrals, web_session, clock
):
    first, _ = send(web_session), send(web_session)  # 48 hours to answer (REFERRALS_RESPONSE_HOURS)
    assert gauge(web_session, "beat_referrals_due_soon") == 0
    clock.advance(hours=43)
    assert gauge(web_session, "beat_referrals_due_soon") == 2
    assert web_session.post(f"/referrals/{first}/accept", headers=FOOD_BANK_USER).status_code == 200
    assert gauge(web_session, "beat_referrals_due_soon") == 1  # answered: no longer waiting
    clock.advance(hours=6)
    assert gauge(web_session, "beat_referrals_due_soon") == 0  # past its answer-by: the expiry's business
