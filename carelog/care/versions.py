"""Comparing the versions of a session field by field, for the record and the auditor."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from carelog.care.models import CareSessionVersion
from carelog.care.vocabulary import (
    CODED_FIELDS,
    FIELD_LABELS,
    RATINGS,
    RatingStatus,
    rating_text,
    scale_of,
    words_for,
)
from carelog.local_time import format_datetime


@dataclass(frozen=True)
class FieldRow:
    """One field across all versions, and whether it changed in each."""

    label: str
    values: list[str]
    changed: list[bool]

    @property
    def ever_changed(self) -> bool:
        """True if any version changed this field."""
        return any(self.changed)


def shown(version: CareSessionVersion, field: str) -> str:
    """A field's value as staff read it: words from the session vocabulary, never a code."""
    if field in RATINGS:
        return rating_text(*version.rating(field), scale=scale_of(field))
    value = getattr(version, field)
    if field == "occurred_at":
        return format_datetime(value)
    if isinstance(value, bool):
        return "yes" if value else ""
    if field == "observations":
        words = CODED_FIELDS[field]
        return ", ".join(words_for(words, code).lower() for code in version.observation_list)
    if field in CODED_FIELDS:
        return words_for(CODED_FIELDS[field], value).lower()
    return "" if value is None else str(value)


def comparison(versions: list[CareSessionVersion]) -> list[FieldRow]:
    """Every field that has a value in some version, with changes marked."""
    rows = []
    for field, label in FIELD_LABELS.items():
        values = [shown(v, field) for v in versions]
        if not any(values):
            continue
        changed = [False] + [values[i] != values[i - 1] for i in range(1, len(values))]
        rows.append(FieldRow(label, values, changed))
    return rows


def rating_cell(version: CareSessionVersion, field: str) -> Markup:
    """A rating in a history table: the value, "o" for staff observing, a dash saying why none."""
    value, status, rater = version.rating(field)
    if status == RatingStatus.ANSWERED:
        mark = Markup('<abbr title="rated by staff observing">o</abbr>')
        return Markup("{}{}").format(value, mark if rater == "observer" else "")
    if status:
        return Markup('<abbr title="{}">–</abbr>').format(escape(status.replace("_", " ")))
    return Markup("")
