"""marshmallow schemas of the problem-solving and tips API (they also generate /openapi.json).

Beside schemas.py so that problems and tips read in one place; the same strict rules apply.
"""

from __future__ import annotations

from marshmallow import fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from concerns.domain.problems import NOTE_SIDES, OUTCOMES, OWNER_KINDS, Stage
from concerns.schemas import LANGUAGES, ReferralRequestInput, StrictSchema

_ID = validate.Length(min=1, max=36)


class PointInput(StrictSchema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    long = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class ProblemInput(StrictSchema):
    """Open a problem: a candidate's `open_with` as it is, or written by hand."""

    beat_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    summary = fields.String(load_default="", validate=validate.Length(max=4000))
    categories = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)), required=True, validate=validate.Length(min=1, max=10)
    )
    centre = fields.Nested(PointInput, load_default=None, allow_none=True)
    radius_metres = fields.Integer(load_default=150, validate=validate.Range(min=10, max=2000))
    concern_ids = fields.List(fields.String(validate=_ID), load_default=list, validate=validate.Length(max=500))
    origin = fields.String(load_default="manual", validate=validate.OneOf(("candidate", "manual")))
    # Each newly linked open concern gets a public note saying so: its reporter is told (notifications).
    tell_reporters = fields.Boolean(load_default=False)


class ProblemConcernsInput(StrictSchema):
    concern_ids = fields.List(fields.String(validate=_ID), required=True, validate=validate.Length(min=1, max=500))
    # Each newly linked open concern gets a public note saying so: its reporter is told (notifications).
    tell_reporters = fields.Boolean(load_default=False)


class StageInput(StrictSchema):
    stage = fields.String(
        required=True, validate=validate.OneOf([stage.value for stage in Stage if stage is not Stage.CLOSED])
    )


class ProblemNoteInput(StrictSchema):
    side = fields.String(required=True, validate=validate.OneOf(NOTE_SIDES))
    party = fields.String(load_default="", validate=validate.Length(max=200))  # landlord, business, agency
    text = fields.String(required=True, validate=validate.Length(min=1, max=8000))


class ProblemActionInput(StrictSchema):
    """A new action of the response plan, or `agreed_action_id`: an action a meeting agreed."""

    agreed_action_id = fields.String(load_default=None, allow_none=True, validate=_ID)
    description = fields.String(load_default=None, validate=validate.Length(min=1, max=2000))
    owner = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    owner_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(OWNER_KINDS))
    due_date = fields.Date(load_default=None)

    @validates_schema
    def _one_kind(self, data: dict, **kwargs: object) -> None:
        if data.get("agreed_action_id") and data.get("description"):
            raise ValidationError("give agreed_action_id or a new action, not both", "agreed_action_id")


class ReferralLinkInput(StrictSchema):
    referral_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ProblemReferralInput(ReferralRequestInput):
    """A referral request made for a problem: its beat is the problem's, no concern is named."""

    class Meta(ReferralRequestInput.Meta):
        exclude = ("concern_id", "beat_code")


class AssessmentInput(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))


class ProblemListQuery(StrictSchema):
    stage = fields.String(validate=validate.OneOf(["open", *(stage.value for stage in Stage)]), load_default=None)


class TipInput(StrictSchema):
    """A tip for a beat's officers. `contact` only if a call-back is wanted."""

    beat_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=320))
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


class TipProblemInput(StrictSchema):
    problem_id = fields.String(required=True, allow_none=True, validate=_ID)
