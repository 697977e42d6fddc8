"""The precaution and consent badges shown wherever a resident appears: one rule, in Python, so
that the board's 150 lines cost a function call each rather than a template's worth of tests."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

from carelog.residents.models import Consent, Resident
from carelog.residents.plan import communication_needs


def badges(resident: Resident, consent: Consent | None, today: date) -> list[tuple[str, str]]:
    """(kind, words) for each badge: kind "stop" forbids a massage, "warn" needs care, "info"
    says how to communicate."""
    found = []
    if resident.deferred_on(today):
        until = f" until {resident.defer_until:%-d %b}" if resident.defer_until else ""
        found.append(("stop", f"Deferred{until}"))
    if resident.avoid_left_hand:
        found.append(("warn", "Avoid left hand"))
    if resident.avoid_right_hand:
        found.append(("warn", "Avoid right hand"))
    if resident.light_pressure_only:
        found.append(("warn", "Light pressure"))
    if resident.allergies:
        found.append(("warn", f"Allergy: {resident.allergies}"))
    if consent is None:
        found.append(("stop", "No consent recorded"))
    elif not consent.consent_given:
        found.append(("stop", "Does not consent"))
    elif consent.review_on < today:
        found.append(("stop", "Consent review overdue"))
    if needs := communication_words(resident):
        found.append(("info", needs))
    return found


def communication_words(resident: Resident) -> str:
    """ "Communication: sight, language", or "" when none is recorded. The Accessible
    Information Standard asks that these needs are flagged wherever the record is opened."""
    needs = [line.label.lower() for line in communication_needs(resident)]
    return f"Communication: {', '.join(needs)}" if needs else ""


def communication_badge(resident: Resident) -> Markup:
    """The communication flag alone, for pages of the record that show no precautions."""
    words = communication_words(resident)
    if not words:
        return Markup("")
    return Markup('<span class="badges"><span class="badge info">%s</span></span>') % words  # noqa: S704


def precaution_badges(resident: Resident, consent: Consent | None, today: date) -> Markup:
    """The badges as HTML, the same on every page (the board draws 150 of them, so this is a
    function rather than a template macro)."""
    found = badges(resident, consent, today)
    # Safe: kind is one of three fixed words and every word shown is escaped. Markup's own % or
    # format escapes too, but costs five times as much, which the board would pay 150 times.
    inner = "".join(f'<span class="badge {kind}">{escape(words)}</span>' for kind, words in found)
    return Markup(f'<span class="badges">{inner}</span>')  # noqa: S704
