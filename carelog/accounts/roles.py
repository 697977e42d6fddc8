"""The roles staff hold, and the sets of roles that routes and templates name."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a member of staff may do; each route names the roles it admits."""

    NURSE = "nurse"
    CARE_MANAGER = "care_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as staff say it."""
        return self.value.replace("_", " ").capitalize()


ALL_STAFF = frozenset(Role)


# Admins manage accounts, not care: they do not read clinical records (least privilege).
CLINICAL_READERS = frozenset({Role.NURSE, Role.CARE_MANAGER, Role.AUDITOR})
