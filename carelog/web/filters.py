"""How stored values are shown in pages: template filters and globals."""

from __future__ import annotations

from datetime import date

from flask import Flask
from wtforms import Field
from wtforms.validators import InputRequired

from carelog.accounts.roles import RoleSets
from carelog.audit import sentences
from carelog.audit.changes import changes
from carelog.care.forms import day_choices, when_parts
from carelog.care.versions import rating_cell, shown
from carelog.care.vocabulary import HAND_WORDS, OUTCOME_WORDS, RATER_WORDS, words_for
from carelog.local_time import format_date, format_datetime, local, local_clock, local_today
from carelog.reports.pdf.formatting import number, signed
from carelog.residents.badges import communication_badge, precaution_badges
from carelog.residents.plan import communication_needs, days_short, plan_lines
from carelog.residents.vocabulary import DECIDER_WORDS
from carelog.tablets.enrolment import has_tablet_cookie

ROLE_SETS = RoleSets()  # one instance: the sets never change


def counted(number: int | None, singular: str, plural: str | None = None) -> str:
    """ "1 minute", "10 minutes": a number with its noun, singular or plural as it should be."""
    if number is None:
        return ""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def required_message(field: Field) -> str:
    """What the server says when a required answer is missing, for the page's own check."""
    for validator in field.validators:
        if isinstance(validator, InputRequired):
            return str(validator.message or "")
    return ""


def register(app: Flask) -> None:
    """Make the filters available to templates."""
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(lambda code: words_for(OUTCOME_WORDS, code), "outcome")
    app.add_template_filter(lambda code: words_for(DECIDER_WORDS, code), "decider")
    app.add_template_filter(lambda code: words_for(HAND_WORDS, code).lower(), "hands")
    app.add_template_filter(lambda moment: f"{local(moment):%A %-d %B}", "night")
    app.add_template_filter(counted, "counted")
    app.add_template_filter(local_clock, "clock")
    app.add_template_filter(number, "median")
    app.add_template_filter(signed, "signed")
    app.add_template_global(shown, "shown")
    app.add_template_global(precaution_badges, "precaution_badges")
    app.add_template_global(days_short, "plan_days_short")
    app.add_template_global(plan_lines, "plan_lines")
    app.add_template_global(communication_badge, "communication_badge")
    app.add_template_global(communication_needs, "communication_needs")
    app.add_template_global(required_message, "required_message")
    app.add_template_global(when_parts, "when_parts")
    app.add_template_global(
        lambda chosen: day_choices(local_today(), date.fromisoformat(chosen) if chosen else None),
        "day_choices",
    )
    app.add_template_global(rating_cell, "rating_cell")
    app.add_template_global(sentences.sentence, "audit_sentence")
    app.add_template_global(changes, "audit_changes")
    app.add_template_global(has_tablet_cookie, "on_tablet")

    @app.context_processor
    def home_settings() -> dict:
        return {
            "home_name": app.config["CARELOG_HOME_NAME"],
            "idle_minutes": app.config["CARELOG_IDLE_MINUTES"],
            "role_sets": ROLE_SETS,
            "rater_words": RATER_WORDS,
        }
