"""Fingerprints of what was submitted, to tell a replay from a new entry; audit payloads without
clinical free text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from carelog.care.vocabulary import VersionKind


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
