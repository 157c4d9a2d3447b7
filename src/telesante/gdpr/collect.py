"""Everything the platform holds about one patient, gathered once for the exports (GDPR art. 15 and 20).

Every function takes a `Patient`, which only the access gate hands out.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from telesante.audit.models import AuditEvent
from telesante.auth.models import User
from telesante.consent.models import Consent
from telesante.directory.models import Professional
from telesante.documents.models import Document
from telesante.monitoring.models import Alert, Measurement
from telesante.patients.models import CareRelation, Patient
from telesante.patients.service import care_relations
from telesante.timeline.models import TimelineEntry

# Documents up to this size travel inside the export (base64); larger ones are listed by their
# metadata only, so that one export stays a response a browser and a phone can download.
MAX_INLINE_DOCUMENT = 512 * 1024


@dataclass
class AccessLine:
    """One audit event as the patient sees it: who, when, what, and whether it was allowed."""

    event: AuditEvent
    who: str  # a display name in French
    professional_id: str | None


@dataclass
class PatientData:
    patient: Patient
    relations: list[CareRelation]
    entries: list[TimelineEntry]
    consents: list[Consent]
    documents: list[Document]
    inline_content: dict[str, bytes]  # document id -> bytes, for the small documents
    accesses: list[AccessLine]
    professionals: dict[str, Professional] = field(default_factory=dict)
    generated_at: datetime | None = None
    measurements: list[Measurement] = field(default_factory=list)  # télésurveillance
    alerts: list[Alert] = field(default_factory=list)


async def collect(db: AsyncSession, patient: Patient, now: datetime) -> PatientData:
    relations = await care_relations(db, patient)
    entries = list(
        await db.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.patient_id == patient.id)
            .order_by(TimelineEntry.occurred_at, TimelineEntry.created_at)
        )
    )
    consents = list(
        await db.scalars(
            select(Consent).where(Consent.patient_id == patient.id).order_by(Consent.recorded_at)
        )
    )
    documents, inline = await _documents(db, patient)
    accesses = await _accesses(db, patient)
    wanted = {r.professional_id for r in relations}
    wanted |= {e.author_professional_id for e in entries if e.author_professional_id}
    wanted |= {a.professional_id for a in accesses if a.professional_id}
    if patient.gp_of_record_id:
        wanted.add(patient.gp_of_record_id)
    found = await db.scalars(select(Professional).where(Professional.id.in_(wanted)))
    professionals = {p.id: p for p in found}
    measurements = list(
        await db.scalars(
            select(Measurement)
            .where(Measurement.patient_id == patient.id)
            .order_by(Measurement.effective_at, Measurement.id)
        )
    )
    alerts = list(
        await db.scalars(select(Alert).where(Alert.patient_id == patient.id).order_by(Alert.raised_at))
    )
    return PatientData(
        patient,
        relations,
        entries,
        consents,
        documents,
        inline,
        accesses,
        professionals,
        generated_at=now,
        measurements=measurements,
        alerts=alerts,
    )


async def _documents(db: AsyncSession, patient: Patient) -> tuple[list[Document], dict[str, bytes]]:
    """Metadata of every document; the (decrypted) bytes of the small ones only."""
    documents = list(
        await db.scalars(
            select(Document)
            .where(Document.patient_id == patient.id)
            .options(defer(Document.content, raiseload=True))
            .order_by(Document.created_at)
        )
    )
    small = [d.id for d in documents if d.size <= MAX_INLINE_DOCUMENT]
    inline: dict[str, bytes] = {}
    if small:
        rows = await db.execute(select(Document.id, Document.content).where(Document.id.in_(small)))
        inline = {doc_id: content for doc_id, content in rows}
    return documents, inline


async def _accesses(db: AsyncSession, patient: Patient) -> list[AccessLine]:
    rows = await db.execute(
        select(AuditEvent, User.role, Professional)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .outerjoin(Professional, Professional.id == User.professional_id)
        .where(AuditEvent.patient_id == patient.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [
        AccessLine(event, _who(event, professional), professional.id if professional else None)
        for event, _role, professional in rows
    ]


def _who(event: AuditEvent, professional: Professional | None) -> str:
    if professional is not None:
        return professional.display_name
    if event.actor_role == "patient":
        return "Vous-même"
    if event.actor_role == "admin":
        return "Un administrateur de la plateforme"
    return "La plateforme (traitement automatique)"
