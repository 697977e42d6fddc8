"""How stored values are shown in pages: template filters and globals."""

from __future__ import annotations

from flask import Flask

from carelog.accounts.roles import RoleSets
from carelog.care.versions import rating_cell, shown
from carelog.care.vocabulary import OUTCOME_WORDS, words_for
from carelog.local_time import format_date, format_datetime
from carelog.residents.vocabulary import DECIDER_WORDS

ROLE_SETS = RoleSets()  # one instance: the sets never change


def register(app: Flask) -> None:
    """Make the filters available to templates."""
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(lambda code: words_for(OUTCOME_WORDS, code), "outcome")
    app.add_template_filter(lambda code: words_for(DECIDER_WORDS, code), "decider")
    app.add_template_global(shown, "shown")
    app.add_template_global(rating_cell, "rating_cell")

    @app.context_processor
    def home_settings() -> dict:
        return {
            "home_name": app.config["CARELOG_HOME_NAME"],
            "idle_minutes": app.config["CARELOG_IDLE_MINUTES"],
            "role_sets": ROLE_SETS,
        }
