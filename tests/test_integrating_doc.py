"""docs/integrating.md tells agencies what their webhook endpoint receives: the body the
notifications service really sends (Standard Webhooks' id, type, timestamp, data), not a CloudEvent."""

import json
import re
from pathlib import Path

from beat_shared.contracts import contract_for
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.contracts.jsonschema import event_json_schema
from notifications.domain.rules import webhook_payload

ROOT = Path(__file__).parents[1]
GUIDE = (ROOT / "docs" / "integrating.md").read_text()
CLOUDEVENT_ONLY = {"specversion", "source", "time", "subject", "datacontenttype", "dataschema"}


def webhook_section() -> str:
    return GUIDE.split("### Option 2: webhooks", 1)[1].split("\n### ", 1)[0]


def documented_body() -> dict:
    [example] = re.findall(r"```json\n(.*?)\n```", webhook_section(), flags=re.DOTALL)
    return json.loads(example)


def test_the_documented_webhook_body_is_the_one_notifications_sends():
    documented = documented_body()
    contract = contract_for(documented["type"])
    event = CloudEvent(
        id=documented["id"],
        source=contract.source,
        type=contract.type,
        time=documented["timestamp"],
        subject="ref-1",
        dataschema=contract.dataschema,
        data={"referral_id": "ref-1"},
    )
    sent = webhook_payload(event)
    assert set(documented) == set(sent)
    assert not CLOUDEVENT_ONLY & set(documented)
    assert (sent["id"], sent["type"], sent["timestamp"]) == (documented["id"], documented["type"], event.time)
    fields = set(event_json_schema(contract)["properties"]["data"]["properties"])
    assert set(documented["data"]) - {"…"} <= fields, "the example's data has fields the event does not"


def test_the_guide_does_not_call_the_webhook_body_a_cloudevent():
    section = webhook_section()
    assert "CloudEvent as the JSON body" not in section
    assert "not as a CloudEvent" in section
