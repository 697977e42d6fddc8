"""No clinical free text in the append-only trail: only a fingerprint of it.

The trail proves who changed what and when; the words themselves (an allergy, a precaution
note, a consent note, the decision maker's name, a departure or correction reason, a session's
note) live in the clinical tables, which keep their own history (care_session_version,
resident_version, consent) and can be corrected with a new version. A trail entry that held
them could never be corrected: triggers forbid it and the hash chain would show it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

PREFIX = "sha256:"

CLINICAL_FREE_TEXT = frozenset(
    {
        # a session (care_session_version)
        "note", "outcome_reason", "override_reason", "observation_action", "observation_told",
        # a resident (resident_version)
        "allergies", "precaution_notes", "departure_reason", "defer_reason",
        # a consent decision (consent)
        "notes", "decision_maker", "scope_products",
    }
)  # fmt: skip


def fingerprint(text: object) -> str:
    """A short SHA-256 fingerprint of a text, to match against the clinical record."""
    return PREFIX + hashlib.sha256(str(text).encode()).hexdigest()[:16]


def without_free_text(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The values with every clinical free-text field replaced by its fingerprint."""
    if values is None:
        return None
    return {
        key: fingerprint(value) if key in CLINICAL_FREE_TEXT and value else value
        for key, value in values.items()
    }


def reason_for_trail(reason: str | None, resident_id: int | None) -> str | None:
    """A reason given for a change to a resident's record is clinical text: its fingerprint."""
    if reason and resident_id is not None:
        return fingerprint(reason)
    return reason
