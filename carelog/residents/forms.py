"""Forms for admitting and updating residents, departures and consent."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
    ValidationError,
)

from carelog.care.vocabulary import choices
from carelog.residents.plan import (
    HAND_PREFERENCE_WORDS,
    PLAN_FIELDS,
    TIMES_OF_DAY_WORDS,
    WEEKDAY_WORDS,
    WEEKDAYS,
    codes,
    stored,
)
from carelog.residents.vocabulary import CONSENT_SCOPE_WORDS, DECIDER_CHOICES, ConsentDecider
from carelog.web.fields import MultiCheckboxField, date_field, max_length, options, required


class ResidentForm(FlaskForm):
    """A resident's details and precautions, set by a care manager."""

    given_name = StringField("Given name", validators=[required(), max_length(80)])
    family_name = StringField("Family name", validators=[required(), max_length(80)])
    preferred_name = StringField("Preferred name", validators=[Optional(), max_length(80)])
    room = StringField("Room", validators=[required(), max_length(20)])
    ward_id = SelectField("Ward", coerce=int, validate_choice=True)
    date_of_birth = date_field("Date of birth")
    local_identifier = StringField(
        "Local identifier (optional)", validators=[Optional(), max_length(40)]
    )
    admitted_on = date_field("Admission date")
    preferred_product = StringField(
        "Preferred product",
        default="Own fragrance-free emollient",
        validators=[required(), max_length(120)],
    )
    sessions_per_week = IntegerField(
        "Target sessions per week",
        default=3,
        validators=[
            InputRequired(message="Give a number from 0 to 14."),
            NumberRange(min=0, max=14, message="Give a number from 0 to 14."),
        ],
    )
    defer_sessions = BooleanField("Defer all sessions (fever, infection, suspected DVT, distress)")
    defer_reason = StringField(
        "Why sessions are deferred", validators=[Optional(), max_length(200)]
    )
    defer_until = date_field("Deferred until (optional: the last day)", required=False)
    avoid_left_hand = BooleanField("Avoid the left hand")
    avoid_right_hand = BooleanField("Avoid the right hand")
    light_pressure_only = BooleanField(
        "Light pressure only (anticoagulants, fragile skin, osteoporosis, lymphoedema)"
    )
    allergies = StringField(
        "Allergies (e.g. nut oil, fragrance)", validators=[Optional(), max_length(300)]
    )
    precaution_notes = TextAreaField("Precaution notes", validators=[Optional(), max_length(2000)])
    reason = StringField("Reason for the change", validators=[Optional(), max_length(300)])


class DepartureForm(FlaskForm):
    """The day a resident left and why."""

    departed_on = date_field("Date of departure")
    departure_reason = StringField(
        "Reason (e.g. moved to hospital, died, returned home)",
        validators=[required(), max_length(200)],
    )


class ConsentForm(FlaskForm):
    """A consent decision for hand massage."""

    decided_by = RadioField(
        "Who decided",
        choices=options(choices(DECIDER_CHOICES)),
        validators=[InputRequired(message="Choose who decided.")],
    )
    # No Optional() here: it would stop the chain before validate_decision_maker runs.
    decision_maker = StringField("Name of the decision maker", validators=[max_length(120)])
    consent_given = RadioField(
        "Decision",
        choices=options([("yes", "Consents to hand massage"), ("no", "Does not consent")]),
        validators=[InputRequired(message="Choose the decision.")],
    )
    decided_on = date_field("Date of the decision")
    review_on = date_field("Review by")
    scope_hands = RadioField(
        "Hands",
        choices=options(choices(CONSENT_SCOPE_WORDS)),
        default="both",
        validators=[InputRequired(message="Choose which hands.")],
    )
    scope_products = StringField("Products agreed", validators=[Optional(), max_length(200)])
    notes = TextAreaField("Notes", validators=[Optional(), max_length(2000)])

    def validate_decision_maker(self, field):
        someone_else = self.decided_by.data not in (None, "", ConsentDecider.RESIDENT)
        if someone_else and not (field.data or "").strip():
            raise ValidationError("Name the person who made the decision.")


class PlanForm(FlaskForm):
    """The person-centred plan, kept by a care manager; every change says why."""

    plan_days = MultiCheckboxField(
        "Preferred days", choices=options(WEEKDAY_WORDS.items()), validators=[Optional()]
    )
    plan_times = MultiCheckboxField(
        "Preferred times of day",
        choices=options(TIMES_OF_DAY_WORDS.items()),
        validators=[Optional()],
    )
    plan_hand = RadioField(
        "Preferred hand",
        choices=options([("", "No preference"), *HAND_PREFERENCE_WORDS.items()]),
        default="",
        validators=[Optional()],
    )
    plan_likes = TextAreaField("Likes", validators=[Optional(), max_length(1000)])
    plan_dislikes = TextAreaField("Dislikes", validators=[Optional(), max_length(1000)])
    plan_at_ease = TextAreaField(
        "How to help me feel at ease", validators=[Optional(), max_length(1000)]
    )
    plan_discomfort = TextAreaField(
        "How I show discomfort or pain", validators=[Optional(), max_length(1000)]
    )
    communication_hearing = StringField("Hearing", validators=[Optional(), max_length(300)])
    communication_sight = StringField("Sight", validators=[Optional(), max_length(300)])
    communication_language = StringField("Language", validators=[Optional(), max_length(300)])
    communication_understanding = StringField(
        "Understanding", validators=[Optional(), max_length(300)]
    )
    reason = StringField(
        "Reason for the change",
        validators=[InputRequired(message="Say why the plan changes."), max_length(300)],
    )

    def plan_values(self) -> dict:
        """The plan as the record stores it: chosen days and times as codes in their order."""
        values = {name: self[name].data for name in PLAN_FIELDS}
        values["plan_days"] = stored(self.plan_days.data or [], WEEKDAYS)
        values["plan_times"] = stored(self.plan_times.data or [], TIMES_OF_DAY_WORDS)
        values["plan_hand"] = self.plan_hand.data or None
        return values

    def show_plan(self, resident) -> None:
        """Fill the form from the record (days and times stored as codes)."""
        for name in PLAN_FIELDS:
            self[name].data = getattr(resident, name)
        self.plan_days.data = codes(resident.plan_days)
        self.plan_times.data = codes(resident.plan_times)
        self.plan_hand.data = resident.plan_hand or ""
