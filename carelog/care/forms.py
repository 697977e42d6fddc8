"""The nurse's forms: a full session, a decline, a not-done, and next-morning sleep."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from carelog.care.models import CONTENT_FIELDS, CareSessionVersion, SessionContent
from carelog.care.vocabulary import (
    ABSENCE_WORDS,
    ASSENT_ON_THE_FORM,
    ASSENT_WORDS,
    GIVEN,
    HAND_WORDS,
    MOOD,
    NOT_DONE_REASON_WORDS,
    OBSERVATION_WORDS,
    OUTCOME_WORDS,
    PRESSURE_WORDS,
    RATED_ON_THE_FORM,
    RATER_WORDS,
    RELAXATION,
    SLEEP,
    RatingStatus,
    choices,
)
from carelog.local_time import home_zone, local
from carelog.web.fields import MultiCheckboxField, max_length, options

NO_RATING = choices(ABSENCE_WORDS)
TEN_POINT = [(str(n), str(n)) for n in range(11)]
MOOD_CHOICES = [(str(n), word.capitalize()) for n, word in enumerate(MOOD.words, start=MOOD.low)]
PICK_A_RATING = "Choose a rating, or say why there is none."


def check_version_number(field) -> None:
    """The version a form was drawn from: a small whole number in ASCII digits ("²" is a digit
    to Python, not to int()); anything else means the page was tampered with or is stale."""
    raw = field.data or ""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
        raise ValidationError("This form is out of date. Reload the page and try again.")


def new_submission_key() -> str:
    """A one-time key for a form, saved with the record it creates."""
    return str(uuid.uuid4())


class SubmissionKeyMixin:
    """Every form that creates a record carries a server-issued one-time key."""

    submission_key = HiddenField()

    def validate_submission_key(self, field):
        try:
            field.data = str(uuid.UUID(field.data or ""))
        except ValueError:
            raise ValidationError(
                "This form is out of date. Reload the page and try again."
            ) from None


class RepeatConfirmMixin:
    """Shown only when the server asks "already recorded at 13:05: record another?"."""

    repeat_confirmed = BooleanField("Yes, this is another one: record it")


def rating_field(label: str, scale: list[tuple[str, str]]) -> RadioField:
    """A rating as big buttons plus the three ways of having no rating; nothing pre-selected."""
    return RadioField(
        label,
        choices=options(scale + NO_RATING),
        validators=[InputRequired(message=PICK_A_RATING)],
        validate_choice=True,
    )


def rater_field() -> RadioField:
    """Who gave the rating: the resident or staff observing."""
    return RadioField("Rated by", choices=options(choices(RATER_WORDS)), validators=[Optional()])


class SessionForm(SubmissionKeyMixin, RepeatConfirmMixin, FlaskForm):
    """A full session: before, the massage, after."""

    occurred_at = DateTimeLocalField(
        "When it started",
        # A day and a 24-hour time from two controls (WTForms joins them with a space), or one
        # datetime-local value from other clients.
        format=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(message="Give the time the session started.")],
    )
    precautions_confirmed = BooleanField("I have read the precautions and consent above")
    override_reason = StringField(
        "Why you went ahead despite a precaution", validators=[Optional(), max_length(300)]
    )

    relaxation_before = rating_field(RELAXATION.question, TEN_POINT)
    relaxation_before_rater = rater_field()
    mood_before = rating_field(MOOD.question, MOOD_CHOICES)
    mood_before_rater = rater_field()
    sleep_before = rating_field(SLEEP.question, TEN_POINT)
    sleep_before_rater = rater_field()

    duration_minutes = IntegerField(
        "Duration (minutes)",
        validators=[
            InputRequired(message="Give the duration in minutes."),
            NumberRange(min=1, max=120, message="Give a duration from 1 to 120 minutes."),
        ],
    )

    relaxation_after = rating_field(RELAXATION.question, TEN_POINT)
    relaxation_after_rater = rater_field()
    mood_after = rating_field(MOOD.question, MOOD_CHOICES)
    mood_after_rater = rater_field()

    hands = RadioField(
        "Hands",
        choices=options(choices(HAND_WORDS)),
        validators=[InputRequired(message="Choose which hands.")],
    )
    pressure = RadioField(
        "Pressure",
        choices=options(choices(PRESSURE_WORDS)),
        validators=[InputRequired(message="Choose the pressure used.")],
    )
    product = StringField(
        "Product", validators=[InputRequired(message="Name the product used."), max_length(120)]
    )
    assent = RadioField(
        "Assent",
        choices=options(choices(ASSENT_WORDS, only=ASSENT_ON_THE_FORM)),
        validators=[InputRequired(message="Choose how the resident took part.")],
    )
    outcome = RadioField(
        "Outcome",
        choices=options(choices(OUTCOME_WORDS, only=GIVEN)),
        validators=[InputRequired(message="Choose the outcome.")],
    )
    outcome_reason = StringField("Why it stopped early", validators=[Optional(), max_length(300)])
    observations = MultiCheckboxField(
        "Anything observed", choices=options(choices(OBSERVATION_WORDS)), validators=[Optional()]
    )
    observation_action = StringField("Action taken", validators=[Optional(), max_length(500)])
    observation_told = StringField("Who was told", validators=[Optional(), max_length(200)])
    note = TextAreaField("Note", validators=[Optional(), max_length(2000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name in RATED_ON_THE_FORM:
            rating = getattr(self, name)
            rater = getattr(self, f"{name}_rater")
            if rating.data and rating.data.isdigit() and not rater.data:
                rater.errors = [*rater.errors, "Say who gave this rating."]
                ok = False
        if not self.precautions_confirmed.data:
            # Also enforced by care.record_session; checked here so all errors show at once.
            self.precautions_confirmed.errors = [
                *self.precautions_confirmed.errors,
                "Confirm you have read the precautions.",
            ]
            ok = False
        if self.outcome.data == "stopped_early" and not (self.outcome_reason.data or "").strip():
            self.outcome_reason.errors = [*self.outcome_reason.errors, "Say why it stopped early."]
            ok = False
        if self.assent.data == "withdrew" and self.outcome.data == "completed":
            self.outcome.errors = [
                *self.outcome.errors,
                "The resident withdrew part way: choose Stopped early.",
            ]
            ok = False
        if self.observations.data and not (self.observation_action.data or "").strip():
            self.observation_action.errors = [
                *self.observation_action.errors,
                "Say what you did about what you observed.",
            ]
            ok = False
        return ok


class DeclinedForm(SubmissionKeyMixin, RepeatConfirmMixin, FlaskForm):
    """The resident declined: a complete record in two taps."""

    decline_note = StringField("Note (optional)", validators=[Optional(), max_length(300)])


class NotDoneForm(SubmissionKeyMixin, RepeatConfirmMixin, FlaskForm):
    """The session did not happen, and why."""

    not_done_reason = RadioField(
        "Why not",
        choices=options(choices(NOT_DONE_REASON_WORDS)),
        validators=[InputRequired(message="Choose why the session was not done.")],
    )
    other_reason = StringField("Other reason", validators=[Optional(), max_length(300)])

    def validate(self, extra_validators=None) -> bool:
        # Not validate_other_reason: Optional() stops the chain before it would run.
        ok = super().validate(extra_validators)
        if self.not_done_reason.data == "other" and not (self.other_reason.data or "").strip():
            self.other_reason.errors = [*self.other_reason.errors, "Say why, in a few words."]
            ok = False
        return ok


class SleepFollowUpForm(SubmissionKeyMixin, FlaskForm):
    """Next morning: how the resident slept the night after a massage."""

    expected_version = HiddenField()
    sleep_after = rating_field(SLEEP.question, TEN_POINT)
    sleep_after_rater = rater_field()

    def validate_expected_version(self, field):
        check_version_number(field)

    def validate(self, extra_validators=None) -> bool:
        # Not validate_sleep_after_rater: Optional() stops the chain before it would run.
        ok = super().validate(extra_validators)
        if (self.sleep_after.data or "").isdigit() and not self.sleep_after_rater.data:
            self.sleep_after_rater.errors = [
                *self.sleep_after_rater.errors,
                "Say who gave this rating.",
            ]
            ok = False
        return ok


def rating_content(form: FlaskForm, name: str) -> dict:
    """Turn a rating field (and its rater) into value, status and rater columns."""
    raw = getattr(form, name).data
    rater_field_ = getattr(form, f"{name}_rater", None)
    if raw is not None and raw.isdigit():
        return {
            f"{name}_value": int(raw),
            f"{name}_status": RatingStatus.ANSWERED.value,
            f"{name}_rater": rater_field_.data if rater_field_ else None,
        }
    return {f"{name}_value": None, f"{name}_status": raw, f"{name}_rater": None}


def _text_or_none(value: str | None) -> str | None:
    return (value or "").strip() or None


def session_content(
    form: SessionForm, given_by_id: int | None, base: SessionContent | None = None
) -> SessionContent:
    """A session's content from a valid SessionForm (times in the home's zone).

    For a correction, `base` is the current version: what the form does not cover (the
    next-morning sleep) carries over from it.
    """
    answers: dict[str, Any] = {
        "occurred_at": form.occurred_at.data.replace(tzinfo=home_zone()),
        "given_by_id": given_by_id,
        "observations": ",".join(form.observations.data) or None,
    }
    for name in CONTENT_FIELDS:
        field = getattr(form, name, None)
        if name not in answers and field is not None:
            answers[name] = _text_or_none(field.data) if isinstance(field.data, str) else field.data
    for name in RATED_ON_THE_FORM:
        answers.update(rating_content(form, name))
    return base.changed(**answers) if base else SessionContent(**answers)


def form_data_from(version: CareSessionVersion) -> dict:
    """Prefill a SessionForm with a saved version, for a correction."""
    plain = set(CONTENT_FIELDS) - {"occurred_at", "given_by_id", "observations"}  # set apart
    data = {field: getattr(version, field) for field in plain if field in SessionForm.__dict__}
    occurred: datetime = local(version.occurred_at)
    data["occurred_at"] = occurred.replace(tzinfo=None, second=0, microsecond=0)
    data["observations"] = version.observation_list
    for name in RATED_ON_THE_FORM:
        value, status, rater = version.rating(name)
        data[name] = str(value) if status == RatingStatus.ANSWERED else status
        data[f"{name}_rater"] = rater
    return data


class CorrectionForm(SessionForm):
    """The session form again, with the reason for the correction."""

    expected_version = HiddenField()

    def validate_expected_version(self, field):
        check_version_number(field)

    reason = StringField(
        "Reason for the correction",
        validators=[
            InputRequired(message="Say why you are correcting this entry."),
            max_length(300),
        ],
    )


class VoidForm(SubmissionKeyMixin, FlaskForm):
    """Mark an entry as entered in error."""

    expected_version = HiddenField()

    def validate_expected_version(self, field):
        check_version_number(field)

    reason = StringField(
        "Why this entry is in error",
        validators=[InputRequired(message="Say why this entry is in error."), max_length(300)],
    )


DAYS_OFFERED = 7


def day_choices(today: date, chosen: date | None) -> list[tuple[str, str, bool]]:
    """The days a session can be logged for without typing a date: today and the six before
    (and the session's own day, for a correction), as (ISO date, words, chosen)."""
    days = [today - timedelta(days=n) for n in range(DAYS_OFFERED)]
    if chosen and chosen not in days:
        days.append(chosen)
    named = {today: "Today", today - timedelta(days=1): "Yesterday"}
    chosen = chosen or today
    return [
        (
            day.isoformat(),
            f"{named[day]}, {day:%a %-d %b}" if day in named else f"{day:%a %-d %b %Y}",
            day == chosen,
        )
        for day in days
    ]


def when_parts(field: DateTimeLocalField) -> tuple[str, str]:
    """The day (ISO) and 24-hour time to show in the two "When it started" controls: what was
    sent, even when it could not be read, or else the field's value."""
    if field.raw_data:
        sent = " ".join(str(part) for part in field.raw_data).replace("T", " ").strip()
        day, _, time_of_day = sent.partition(" ")
        try:
            date.fromisoformat(day)
        except ValueError:
            return "", sent  # not a day: show it all in the time box, beside its error
        return day, time_of_day.strip()[:5]
    if field.data:
        return field.data.strftime("%Y-%m-%d"), field.data.strftime("%H:%M")
    return "", ""
