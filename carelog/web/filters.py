"""How stored values are shown in pages: template filters and globals."""

from __future__ import annotations

from flask import Flask

from carelog.accounts.roles import RoleSets
from carelog.care.versions import rating_cell, shown
from carelog.care.vocabulary import HAND_WORDS, OUTCOME_WORDS, words_for
from carelog.local_time import format_date, format_datetime, local, local_clock
from carelog.residents.vocabulary import DECIDER_WORDS

ROLE_SETS = RoleSets()  # one instance: the sets never change


def counted(number: int | None, singular: str, plural: str | None = None) -> str:
    """ "1 minute", "10 minutes": a number with its noun, singular or plural as it should be."""
    if number is None:
        return ""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def register(app: Flask) -> None:
    """Make the filters available to templates."""
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(lambda code: words_for(OUTCOME_WORDS, code), "outcome")
    app.add_template_filter(lambda code: words_for(DECIDER_WORDS, code), "decider")
    app.add_template_filter(lambda code: words_for(HAND_WORDS, code).lower(), "hands")
    app.add_template_filter(local_clock, "clock")
    app.add_template_filter(lambda moment: f"{local(moment):%A %-d %B}", "night")
    app.add_template_filter(counted, "counted")
    app.add_template_global(shown, "shown")
    app.add_template_global(rating_cell, "rating_cell")

    @app.context_processor
    def home_settings() -> dict:
        return {
            "home_name": app.config["CARELOG_HOME_NAME"],
            "idle_minutes": app.config["CARELOG_IDLE_MINUTES"],
            "role_sets": ROLE_SETS,
        }
