"""`fields_of` (what an event or view copies off a row) and `assign_fields` (a partial edit of a row)."""

from __future__ import annotations

from dataclasses import dataclass

from beat_shared.rows import assign_fields, fields_of


@dataclass
class Referral:
    id: str = "r-1"
    status: str = "sent"
    beat_code: str | None = "RV-03"
    client_name: str | None = None
    client_phone: str | None = None


def test_fields_of_copies_the_named_columns_and_the_renamed_ones():
    assert fields_of(Referral(), ("status", "beat_code"), referral_id="id") == {
        "referral_id": "r-1",
        "status": "sent",
        "beat_code": "RV-03",
    }
    assert fields_of(Referral(), ()) == {}


def test_assign_fields_sets_only_what_the_data_holds_and_can_name_the_column():
    referral = Referral()
    assign_fields(referral, {"status": "accepted", "other": 1}, ("status", "beat_code"))
    assert (referral.status, referral.beat_code) == ("accepted", "RV-03")  # beat_code absent: kept

    assign_fields(referral, {"name": "Ana", "phone": None}, ("name", "phone"), to=lambda field: f"client_{field}")
    assert (referral.client_name, referral.client_phone) == ("Ana", None)
