"""marshmallow schemas of the surveys HTTP API (requests, query strings, documented answers)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from beat_shared.fields import UtcDateTime
from beat_shared.http import PageFields
from surveys.domain.definitions import QUESTION_TYPES, SURVEY_KINDS
from surveys.domain.item_bank import STANDARD_SURVEY_CODE
from surveys.models import CONSTRUCT_COLUMNS
from surveys.results import GROUPINGS, MEASURES

CODE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$", error="lower-case letters, digits, - and _ (max 64)")
BEAT = validate.Length(min=1, max=64)
LANGUAGE = validate.OneOf(("en", "es"))


class OptionInput(Schema):
    value = fields.Raw(required=True, metadata={"description": "string or whole number"})
    label = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    score = fields.Float(allow_none=True, validate=validate.Range(0, 100))


class QuestionInput(Schema):
    item = fields.String(metadata={"description": "a code from the item bank; the other fields may override it"})
    item_code = fields.String(validate=CODE)
    type = fields.String(validate=validate.OneOf(QUESTION_TYPES))
    text = fields.Dict(keys=fields.String(), values=fields.String())
    options = fields.List(fields.Nested(OptionInput))
    construct = fields.String(allow_none=True, validate=validate.OneOf(CONSTRUCT_COLUMNS))
    reverse = fields.Boolean()
    required = fields.Boolean()
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    max_length = fields.Integer(validate=validate.Range(1, 2000))

    @validates_schema
    def _bank_or_full(self, data: dict[str, Any], **_: Any) -> None:
        if "item" not in data and not {"item_code", "type", "text"} <= set(data):
            raise ValidationError("give an item bank code as `item`, or item_code, type and text")


class SurveyInput(Schema):
    code = fields.String(required=True, validate=CODE)
    kind = fields.String(required=True, validate=validate.OneOf(SURVEY_KINDS))
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String())
    questions = fields.List(fields.Nested(QuestionInput), required=True, validate=validate.Length(min=1, max=100))


class SurveyOutput(Schema):
    id = fields.String()
    code = fields.String()
    version = fields.Integer(metadata={"description": "versions of a code are never changed; a new one is added"})
    kind = fields.String(metadata={"description": "`wave` (a run over beats) or `post_contact`"})
    title = fields.Dict()
    description = fields.Dict()
    questions = fields.List(fields.Dict())
    created_at = fields.AwareDateTime()


class OpenLinkInput(Schema):
    enabled = fields.Boolean(load_default=False)
    daily_limit_per_device = fields.Integer(load_default=3, validate=validate.Range(1, 20))
    max_responses_per_beat = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1))


class WaveInput(Schema):
    survey_code = fields.String(required=True, validate=CODE)
    survey_version = fields.Integer(validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    period = fields.String(required=True, metadata={"description": "2026-Q1 or 2026-03"})
    beat_codes = fields.List(fields.String(validate=BEAT), required=True, validate=validate.Length(min=1, max=200))
    opens_at = UtcDateTime(required=True)
    closes_at = UtcDateTime(required=True)
    open_link = fields.Nested(OpenLinkInput)


class WaveOutput(Schema):
    id = fields.String()
    survey_id = fields.String(metadata={"description": "the survey version the wave runs"})
    name = fields.String()
    period = fields.String(metadata={"description": "2026-Q1 or 2026-03"})
    beat_codes = fields.List(fields.String())
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    open_link_url = fields.String(allow_none=True, metadata={"description": "where anyone may answer; null without"})
    open_link_daily_limit = fields.Integer(metadata={"description": "answers one device may give a day by the link"})
    open_link_max_per_beat = fields.Integer(allow_none=True)


class IssuedOutput(Schema):
    created = fields.Integer()
    by_beat = fields.Dict(keys=fields.String(), values=fields.Integer())


class TokenInput(Schema):
    token = fields.String(required=True, validate=validate.Length(min=20, max=100))
    language = fields.String(load_default=None, allow_none=True, validate=LANGUAGE)


class ResponseInput(Schema):
    token = fields.String(required=True, validate=validate.Length(min=20, max=100))
    language = fields.String(load_default="en", validate=LANGUAGE)
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class OpenResponseInput(Schema):
    beat_code = fields.String(required=True, validate=BEAT)
    language = fields.String(load_default="en", validate=LANGUAGE)
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class RecordedOutput(Schema):
    status = fields.String(metadata={"description": "always `recorded`; nothing identifies the response"})


class LanguageQuery(Schema):
    language = fields.String(load_default=None, validate=LANGUAGE)


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


class ResultsQuery(Schema):
    survey = fields.String(load_default=STANDARD_SURVEY_CODE, validate=CODE)
    measure = fields.String(load_default="construct", validate=validate.OneOf(MEASURES))
    by = fields.String(load_default="beat", validate=validate.OneOf(GROUPINGS))
    period = fields.String(load_default=None, metadata={"description": "comma-separated periods"})
    group = fields.String(load_default=None, metadata={"description": "comma-separated beat (or category) codes"})
    code = fields.String(load_default=None, metadata={"description": "comma-separated constructs or item codes"})
    channel = fields.String(load_default=None, validate=validate.OneOf(("invited", "open")))
    weighted = fields.Boolean(load_default=False, metadata={"description": "post-stratify city cells"})
    window_from = UtcDateTime(
        data_key="from",
        load_default=None,
        metadata={"description": "only periods that overlap the window [from, to) (an ISO date-time)"},
    )
    window_to = UtcDateTime(data_key="to", load_default=None, metadata={"description": "the window's end"})
    page = fields.Integer(load_default=1)
    per_page = fields.Integer(load_default=50)

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("window_from"), data.get("window_to")
        if start is not None and end is not None and end <= start:
            raise ValidationError({"to": ["the window ends after it starts"]})

    @post_load
    def _split(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["periods"] = _csv(data.pop("period"))
        data["groups"] = _csv(data.pop("group"))
        data["codes"] = _csv(data.pop("code"))
        if data["measure"] == "construct":
            unknown = sorted(set(data["codes"]) - set(CONSTRUCT_COLUMNS))
            if unknown:
                raise ValidationError({"code": [f"unknown constructs {unknown}"]})
        return data


class CellOutput(Schema):
    group = fields.String(metadata={"description": "beat or category code, or `all` for the pooled cell"})
    period = fields.String()
    measure = fields.String()
    code = fields.String()
    label = fields.Dict(allow_none=True)
    scale = fields.String(allow_none=True, metadata={"description": "0-100, raw (numeric items) or null"})
    suppressed = fields.Boolean(metadata={"description": "fewer respondents than the minimum: no figures"})
    n = fields.Integer(allow_none=True)
    n_eff = fields.Float(allow_none=True, metadata={"description": "effective sample size (Σw)²/Σw²"})
    mean = fields.Float(allow_none=True)
    mean_ci = fields.List(fields.Float(), allow_none=True, metadata={"description": "95% interval"})
    share_favourable = fields.Float(allow_none=True)
    share_ci = fields.List(fields.Float(), allow_none=True, metadata={"description": "95% Wilson interval"})
    change = fields.Dict(allow_none=True, metadata={"description": "from_period, difference, z, significant"})
    weighted = fields.Boolean()
    pooled_groups = fields.List(fields.String(), metadata={"description": "groups pooled into `all`"})


class ResultsPage(PageFields):
    contents = fields.List(fields.Nested(CellOutput))
    minimum_cell = fields.Integer()
    periods = fields.List(fields.String(), metadata={"description": "periods with results, and the current one"})
    current_period = fields.String(metadata={"description": "today's quarter, e.g. 2026-Q4"})


class ReportCardQuery(Schema):
    survey = fields.String(load_default=STANDARD_SURVEY_CODE, validate=CODE)
    period = fields.String(required=True)


class ReportCardsQuery(ReportCardQuery):
    """The list of every beat's card is paged like every list."""

    page = fields.Integer(load_default=1)
    per_page = fields.Integer(load_default=20)


class ReportCardOutput(Schema):
    beat_code = fields.String()
    period = fields.String()
    survey_code = fields.String()
    minimum_cell = fields.Integer(metadata={"description": "the fewest respondents a score is shown for"})
    scores = fields.Dict(metadata={"description": "per construct: the score, or `suppressed` below minimum_cell"})
    actions = fields.Dict(metadata={"description": "what was done in the beat that period: concerns, meetings, …"})


class PopulationInput(Schema):
    population = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000_000))
