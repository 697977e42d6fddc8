"""How stored values are shown in pages: template filters and globals."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from carelog.care.vocabulary import OUTCOME_WORDS
from carelog.local_time import local
from carelog.residents.models import DECIDER_WORDS


def format_datetime(moment: datetime | None) -> str:
    """A local date and time as staff read it: 21 Nov 2026, 14:05."""
    shown = local(moment)
    return shown.strftime("%-d %b %Y, %H:%M") if shown else ""


def format_date(day: date | None) -> str:
    """A date as staff read it: 21 Nov 2026."""
    return day.strftime("%-d %b %Y") if day else ""


def register(app: Flask) -> None:
    """Make the filters available to templates."""
    from carelog.care.versions import shown

    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(lambda code: OUTCOME_WORDS.get(code, code), "outcome")
    app.add_template_filter(lambda code: DECIDER_WORDS.get(code, code), "decider")
    app.add_template_global(shown, "shown")

    @app.context_processor
    def home_settings() -> dict:
        return {
            "home_name": app.config["CARELOG_HOME_NAME"],
            "idle_minutes": app.config["CARELOG_IDLE_MINUTES"],
        }
