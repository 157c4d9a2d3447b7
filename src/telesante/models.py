"""Every table, imported once so Alembic and the app see the whole schema."""

from telesante.audit.models import AuditEvent
from telesante.auth.models import ApiToken, LoginChallenge, User, WebAuthnCredential, WebSession
from telesante.billing.models import ActivityDeclaration, BillingLine
from telesante.consent.models import Consent
from telesante.directory.models import Organisation, Professional, professional_organisations
from telesante.documents.models import Document
from telesante.gdpr.models import ErasureRequest
from telesante.jobs.models import Job
from telesante.monitoring.models import (
    Alert,
    Device,
    Measurement,
    Program,
    ProgramRule,
    RuleChange,
    RuleStateRow,
)
from telesante.notifications.models import Notification
from telesante.patients.models import BreakGlassGrant, CareRelation, Patient
from telesante.prescriptions.models import Dispensation, Prescription
from telesante.regulation.models import (
    Bilan,
    Decision,
    HubMessage,
    MedicalNote,
    Mission,
    MissionStatus,
    RegulationCall,
    RegulationFile,
    RegulationStaff,
    Resource,
)
from telesante.regulation.video import RegulationCapture, RegulationVideoSession
from telesante.teleassistance.models import AssistanceCapture, AssistanceSession, AssistanceStep
from telesante.teleconsultation.models import (
    Absence,
    Appointment,
    ConsultationType,
    JoinToken,
    OpeningHours,
    Report,
)
from telesante.teleexpertise.models import (
    ExpertAnswer,
    ExpertAssignment,
    ExpertAttachment,
    ExpertMessage,
    ExpertRequest,
)
from telesante.timeline.models import TimelineEntry

__all__ = [
    "Absence",
    "ActivityDeclaration",
    "Alert",
    "ApiToken",
    "Appointment",
    "AssistanceCapture",
    "AssistanceSession",
    "AssistanceStep",
    "AuditEvent",
    "Bilan",
    "BillingLine",
    "BreakGlassGrant",
    "CareRelation",
    "Consent",
    "ConsultationType",
    "Decision",
    "Device",
    "Dispensation",
    "Document",
    "ErasureRequest",
    "ExpertAnswer",
    "ExpertAssignment",
    "ExpertAttachment",
    "ExpertMessage",
    "ExpertRequest",
    "HubMessage",
    "Job",
    "JoinToken",
    "LoginChallenge",
    "Measurement",
    "MedicalNote",
    "Mission",
    "MissionStatus",
    "Notification",
    "OpeningHours",
    "Organisation",
    "Patient",
    "Prescription",
    "Professional",
    "Program",
    "ProgramRule",
    "RegulationCall",
    "RegulationCapture",
    "RegulationFile",
    "RegulationStaff",
    "RegulationVideoSession",
    "Report",
    "Resource",
    "RuleChange",
    "RuleStateRow",
    "TimelineEntry",
    "User",
    "WebAuthnCredential",
    "WebSession",
    "professional_organisations",
]
