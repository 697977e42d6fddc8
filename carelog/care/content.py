"""A session's content fields and the fingerprints that tell a replay from a new entry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from carelog.care.vocabulary import GIVEN, VersionKind


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionContent:
    """What a nurse records about one session: the typed payload from the form to the record.

    Its fields are the clinical columns of a session version, by the same names; the record
    adds who, when recorded, the version and whether it was late.
    """

    occurred_at: datetime
    duration_minutes: int | None = None
    given_by_id: int | None = None
    precautions_confirmed: bool = False  # unsaid means no
    override_reason: str | None = None
    hands: str | None = None
    pressure: str | None = None
    product: str | None = None
    assent: str | None = None
    outcome: str
    outcome_reason: str | None = None
    not_done_reason: str | None = None
    observations: str | None = None  # comma-separated codes
    observation_action: str | None = None
    observation_told: str | None = None
    note: str | None = None
    # Each rating: a value, or a status saying why there is none; and who rated (self/observer).
    relaxation_before_value: int | None = None
    relaxation_before_status: str | None = None
    relaxation_before_rater: str | None = None
    relaxation_after_value: int | None = None
    relaxation_after_status: str | None = None
    relaxation_after_rater: str | None = None
    mood_before_value: int | None = None
    mood_before_status: str | None = None
    mood_before_rater: str | None = None
    mood_after_value: int | None = None
    mood_after_status: str | None = None
    mood_after_rater: str | None = None
    sleep_before_value: int | None = None
    sleep_before_status: str | None = None
    sleep_before_rater: str | None = None
    sleep_after_value: int | None = None
    sleep_after_status: str | None = None
    sleep_after_rater: str | None = None

    def __post_init__(self) -> None:
        # Unsaid means no: the column is NOT NULL, and a Core insert applies no default.
        object.__setattr__(self, "precautions_confirmed", bool(self.precautions_confirmed))

    @classmethod
    def from_columns(cls, source: Mapping[str, Any] | object) -> SessionContent:
        """The content of a saved version, or of a mapping of column names to values."""
        if isinstance(source, Mapping):
            return cls(**{name: source[name] for name in CONTENT_FIELDS if name in source})
        return cls(**{name: getattr(source, name) for name in CONTENT_FIELDS})

    def columns(self) -> dict[str, Any]:
        """The content as column values, for an insert."""
        return {name: getattr(self, name) for name in CONTENT_FIELDS}

    def changed(self, **changes: Any) -> SessionContent:
        """A copy with some fields changed (a follow-up or a correction)."""
        unknown = set(changes) - set(CONTENT_FIELDS)
        if unknown:
            raise TypeError(f"not session content: {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def rating(self, name: str) -> tuple[int | None, str | None, str | None]:
        """(value, status, rater) of one rating."""
        return (
            getattr(self, f"{name}_value"),
            getattr(self, f"{name}_status"),
            getattr(self, f"{name}_rater"),
        )

    @property
    def given(self) -> bool:
        """True if a massage took place (completed or stopped early)."""
        return self.outcome in GIVEN


CONTENT_FIELDS = tuple(field.name for field in fields(SessionContent))


def content_digest(submitted: Mapping[str, Any]) -> str:
    """A fingerprint of what the client submitted, to tell a replay from a different entry."""
    canonical = json.dumps(submitted, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_digest(changes: Mapping[str, Any], kind: VersionKind, reason: str | None) -> str:
    """The fingerprint of a follow-up, correction or void, for recognising its replay."""
    return content_digest({**changes, "kind": kind.value, "reason": reason})


FREE_TEXT_FIELDS = frozenset(
    {"note", "outcome_reason", "override_reason", "observation_action", "observation_told"}
)


def without_free_text(values: dict) -> dict:
    """Audit payloads carry a digest of clinical free text, never the text itself."""
    return {
        key: (
            "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:16]
            if key in FREE_TEXT_FIELDS and value
            else value
        )
        for key, value in values.items()
    }
