"""A session's content fields and the fingerprints that tell a replay from a new entry."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from carelog.care.models import VersionKind
from carelog.care.vocabulary import RATINGS

CONTENT_FIELDS = (
    "occurred_at",
    "duration_minutes",
    "given_by_id",
    "precautions_confirmed",
    "override_reason",
    "hands",
    "pressure",
    "product",
    "assent",
    "outcome",
    "outcome_reason",
    "not_done_reason",
    "observations",
    "observation_action",
    "observation_told",
    "note",
    *(f"{name}_{part}" for name in RATINGS for part in ("value", "status", "rater")),
)


def content_digest(submitted: dict[str, Any]) -> str:
    """A fingerprint of what the client submitted, to tell a replay from a different entry."""
    canonical = json.dumps(submitted, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_digest(changes: dict, kind: VersionKind, reason: str | None) -> str:
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
