"""Every table of carelog, imported in one place so that the app and Alembic see them all."""

from carelog.accounts.models import LoginSession, User, Ward
from carelog.audit.models import AuditEntry
from carelog.care.models import CareSession, CareSessionVersion
from carelog.dashboard.models import OverrideAcknowledgement
from carelog.reports.models import ReportJob
from carelog.residents.models import Consent, Resident, ResidentPhoto
from carelog.tablets.models import Tablet

__all__ = [
    "AuditEntry",
    "CareSession",
    "CareSessionVersion",
    "Consent",
    "LoginSession",
    "OverrideAcknowledgement",
    "ReportJob",
    "Resident",
    "ResidentPhoto",
    "Tablet",
    "User",
    "Ward",
]
