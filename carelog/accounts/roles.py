"""The roles staff hold, and the sets of roles that routes and templates name."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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


# Each route and each template names one of these sets; a role is written nowhere else.
ALL_STAFF = frozenset(Role)
# Admins manage accounts, not care: they do not read clinical records (least privilege).
CLINICAL_READERS = frozenset({Role.NURSE, Role.CARE_MANAGER, Role.AUDITOR})
CARERS = frozenset({Role.NURSE, Role.CARE_MANAGER})  # those who give and log massage
REPORT_READERS = frozenset({Role.CARE_MANAGER, Role.AUDITOR})
NURSES = frozenset({Role.NURSE})
MANAGERS = frozenset({Role.CARE_MANAGER})
AUDITORS = frozenset({Role.AUDITOR})
ADMINS = frozenset({Role.ADMIN})
# Clinical access asked for by an admin is approved by a care manager or a second admin.
ACCESS_APPROVERS = frozenset({Role.ADMIN, Role.CARE_MANAGER})
# A locked-out nurse asks whoever is at hand: a care manager on the ward, or an admin.
UNLOCKERS = frozenset({Role.ADMIN, Role.CARE_MANAGER})
# Ward tablets are enrolled and revoked by whoever runs the ward or the accounts.
TABLET_KEEPERS = frozenset({Role.ADMIN, Role.CARE_MANAGER})


@dataclass(frozen=True)
class RoleSets:
    """The role sets by name, for templates: `current_user.role in role_sets.CARERS`."""

    ALL_STAFF: frozenset[Role] = ALL_STAFF
    CLINICAL_READERS: frozenset[Role] = CLINICAL_READERS
    CARERS: frozenset[Role] = CARERS
    REPORT_READERS: frozenset[Role] = REPORT_READERS
    NURSES: frozenset[Role] = NURSES
    MANAGERS: frozenset[Role] = MANAGERS
    AUDITORS: frozenset[Role] = AUDITORS
    ADMINS: frozenset[Role] = ADMINS
    ACCESS_APPROVERS: frozenset[Role] = ACCESS_APPROVERS
    UNLOCKERS: frozenset[Role] = UNLOCKERS
    TABLET_KEEPERS: frozenset[Role] = TABLET_KEEPERS
