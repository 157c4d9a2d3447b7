"""Every table, imported once so Alembic and the app see the whole schema."""

from telesante.audit.models import AuditEvent
from telesante.auth.models import ApiToken, User, WebSession
from telesante.directory.models import Organisation, Professional, professional_organisations
from telesante.jobs.models import Job
from telesante.notifications.models import Notification
from telesante.patients.models import CareRelation, Patient
from telesante.timeline.models import TimelineEntry

__all__ = [
    "ApiToken",
    "AuditEvent",
    "CareRelation",
    "Job",
    "Notification",
    "Organisation",
    "Patient",
    "Professional",
    "TimelineEntry",
    "User",
    "WebSession",
    "professional_organisations",
]
