"""An audit entry's old and new values, field by field, in the words people use: ratings as
ratings, codes as words, a changed field with its old value beside the new."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carelog.audit.models import AuditEntry
from carelog.audit.sentences import Names
from carelog.care.vocabulary import CODED_FIELDS, FIELD_LABELS, RATINGS, rating_text, words_for
from carelog.residents.history import FACT_LABELS
from carelog.residents.plan import coded_words

HIDDEN = {"digest", "version", "id", "created_at", "recorded_at", "resident_id", "recorded_by_id"}
OTHER_LABELS = {
    "consent_given": "Consents",
    "decided_by": "Decided by",
    "decision_maker": "Who decided",
    "decided_on": "Decided on",
    "review_on": "Review by",
    "scope_hands": "Hands covered",
    "scope_products": "Products covered",
    "full_name": "Name",
    "role": "Role",
    "ward_id": "Ward",
    "active": "Active",
    "name": "Name",
    "month": "Month",
    "page": "Page",
    "why": "Why",
    "photo_id": "Photo",
    "agreed_by": "Agreed to by",
    "sha256": "Photo fingerprint (SHA-256)",
    "tablet": "Tablet",
    "from_user_id": "Took over from",
}
HIDDEN_TOO = {"tablet_id"}  # the tablet is named beside it


@dataclass(frozen=True)
class Change:
    label: str
    old: str | None  # None: the field had no earlier value in this entry
    new: str | None


def _words(key: str, value: Any, names: Names) -> str:
    if (plan_words := coded_words(key, value)) is not None:
        return plan_words
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "ward_id":
        return names.ward(value).removesuffix(" ward")
    if key == "from_user_id":
        return names.user(value)
    if key == "photo_id":
        return f"photo no. {value}"
    if key == "agreed_by":
        return {"resident": "the resident", "representative": "their representative"}.get(
            str(value), str(value)
        )
    if key in CODED_FIELDS:
        codes = str(value).split(",") if key == "observations" else [str(value)]
        return ", ".join(words_for(CODED_FIELDS[key], c) for c in codes)
    if isinstance(value, str) and value.startswith("sha256:"):
        return "kept in the record (fingerprint in the trail)"
    return str(value)


def _label(key: str) -> str:
    return FIELD_LABELS.get(key) or FACT_LABELS.get(key) or OTHER_LABELS.get(key) or key


def _rating_words(values: dict[str, Any], keys: list[str]) -> str:
    value, status, rater = (values.get(k) for k in keys)
    return rating_text(value, status, rater) or "—"


def changes(entry: AuditEntry, names: Names) -> list[Change]:
    """The entry's values as people read them: ratings as ratings, codes as words, a field that
    changed with its old value beside the new."""
    old: dict[str, Any] = entry.old or {}
    new: dict[str, Any] = entry.new or {}
    found = []
    for rating in RATINGS:
        keys = [f"{rating}_{part}" for part in ("value", "status", "rater")]
        if any(k in old or k in new for k in keys):
            before = _rating_words(old, keys) if any(k in old for k in keys) else None
            after = _rating_words(new, keys) if any(k in new for k in keys) else "—"
            found.append(Change(_label(rating), before, after))
    rated = {f"{r}_{p}" for r in RATINGS for p in ("value", "status", "rater")}
    for key in [*new, *(k for k in old if k not in new)]:
        if key in HIDDEN or key in HIDDEN_TOO or key in rated:
            continue
        before = _words(key, old[key], names) if key in old else None
        after = _words(key, new[key], names) if key in new else "—"
        found.append(Change(_label(key), before, after))
    return found
