"""Comparing the versions of a session field by field, for the record and the auditor."""

from __future__ import annotations

from dataclasses import dataclass

from carelog.care.models import CareSessionVersion
from carelog.care.vocabulary import RATINGS
from carelog.reports.document import MOOD_WORDS
from carelog.web.filters import format_datetime

FIELD_LABELS = (
    ("occurred_at", "Started"),
    ("duration_minutes", "Duration (minutes)"),
    ("outcome", "Outcome"),
    ("outcome_reason", "Why stopped early"),
    ("not_done_reason", "Why not done"),
    ("assent", "Assent"),
    ("hands", "Hands"),
    ("pressure", "Pressure"),
    ("product", "Product"),
    *((name, name.replace("_", " ").capitalize()) for name in RATINGS),
    ("observations", "Observed"),
    ("observation_action", "Action taken"),
    ("observation_told", "Who was told"),
    ("override_reason", "Precaution override"),
    ("note", "Note"),
)


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
    """A field's value as staff read it."""
    if field in RATINGS:
        value, status, rater = version.rating(field)
        if status == "answered":
            text = MOOD_WORDS[value - 1] if field.startswith("mood") else str(value)
            return text + (" (observer)" if rater == "observer" else "")
        return (status or "").replace("_", " ")
    value = getattr(version, field)
    if field == "occurred_at":
        return format_datetime(value)
    if value is None:
        return ""
    return str(value).replace("_", " ").replace(",", ", ")


def comparison(versions: list[CareSessionVersion]) -> list[FieldRow]:
    """Every field that has a value in some version, with changes marked."""
    rows = []
    for field, label in FIELD_LABELS:
        values = [shown(v, field) for v in versions]
        if not any(values):
            continue
        changed = [False] + [values[i] != values[i - 1] for i in range(1, len(values))]
        rows.append(FieldRow(label, values, changed))
    return rows
