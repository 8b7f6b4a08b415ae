"""What an officer's broadcast would say, in each language Beat writes in, and how many of the
beat's subscribers it would reach: shown to the officer before they send it. Nothing is stored
or sent. The templates and context are the ones the broadcast itself uses."""

from __future__ import annotations

from typing import Any

from beat_shared.rows import fields_of
from notifications.channels.sms import count_segments
from notifications.domain.broadcasts import broadcast_context
from notifications.domain.preferences import LANGUAGES
from notifications.domain.rules import BROADCASTS
from notifications.rendering import Renderer


def preview(renderer: Renderer, beat_code: str, body: dict[str, Any], subscribers: int) -> dict[str, Any]:
    context = broadcast_context(beat_code, body)
    _, template = BROADCASTS[body["kind"]]
    previews = []
    for language in LANGUAGES:
        rendered = renderer.render(template, language, context)
        segments = count_segments(rendered.sms)
        previews.append(
            {
                **fields_of(rendered, ("language", "subject", "text", "sms")),
                "sms_segments": segments.segments,
            }
        )
    return {"beat_code": beat_code, "kind": body["kind"], "subscribers": subscribers, "previews": previews}
