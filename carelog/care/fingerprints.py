"""Fingerprints of what was submitted, to tell a replay from a new entry."""

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
