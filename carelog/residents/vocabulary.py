"""The words of consent, said once: who decided, and the scope (imports no Flask or SQLAlchemy)."""

from __future__ import annotations

import enum


class ConsentDecider(enum.StrEnum):
    """Who made a consent decision (Mental Capacity Act 2005)."""

    RESIDENT = "resident"
    BEST_INTERESTS = "best_interests"
    LASTING_POWER_OF_ATTORNEY = "lpa"


# On the form: who decided.
DECIDER_CHOICES = {
    ConsentDecider.RESIDENT: "The resident",
    ConsentDecider.BEST_INTERESTS: "Best-interests decision",
    ConsentDecider.LASTING_POWER_OF_ATTORNEY: "Lasting power of attorney",
}
# In a sentence: "decided by the resident".
DECIDER_WORDS = {
    ConsentDecider.RESIDENT: "the resident",
    ConsentDecider.BEST_INTERESTS: "best-interests decision",
    ConsentDecider.LASTING_POWER_OF_ATTORNEY: "lasting power of attorney",
}
# On the report, before the decision maker's name where there is one.
DECIDER_BASIS = {
    ConsentDecider.RESIDENT: "Decided by the resident",
    ConsentDecider.BEST_INTERESTS: "Best-interests decision; decision maker",
    ConsentDecider.LASTING_POWER_OF_ATTORNEY: "Lasting power of attorney",
}
CONSENT_SCOPE_WORDS = {"both": "Both hands", "left": "Left hand only", "right": "Right hand only"}
