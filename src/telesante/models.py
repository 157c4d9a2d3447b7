"""Every table, imported once so Alembic and the app see the whole schema."""

from telesante.audit.models import AuditEvent
from telesante.auth.models import ApiToken, LoginChallenge, User, WebAuthnCredential, WebSession
from telesante.consent.models import Consent
from telesante.directory.models import Organisation, Professional, professional_organisations
from telesante.documents.models import Document
from telesante.gdpr.models import ErasureRequest
from telesante.jobs.models import Job
from telesante.notifications.models import Notification
from telesante.patients.models import BreakGlassGrant, CareRelation, Patient
from telesante.timeline.models import TimelineEntry

__all__ = [
    "ApiToken",
    "AuditEvent",
    "BreakGlassGrant",
    "CareRelation",
    "Consent",
    "Document",
    "ErasureRequest",
    "Job",
    "LoginChallenge",
    "Notification",
    "Organisation",
    "Patient",
    "Professional",
    "TimelineEntry",
    "User",
    "WebAuthnCredential",
    "WebSession",
    "professional_organisations",
]
