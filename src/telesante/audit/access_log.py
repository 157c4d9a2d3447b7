"""Qui a consulté mon dossier: the patient's view of the audit trail."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.models import AuditEvent
from telesante.auth.models import User
from telesante.directory.models import Professional
from telesante.directory.professions import PROFESSION_LABELS, Profession
from telesante.patients.models import Patient

ACTION_LABELS = {
    "read": "a consulté",
    "search": "a trouvé en recherche",
    "create": "a créé",
    "update": "a modifié",
    "export": "a exporté",
    "break_glass": "a ouvert en urgence",
    "download": "a téléchargé",
    "upload": "a ajouté",
}


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    who: str
    role: str
    action: str
    what: str
    purpose: str
    reason: str | None
    outcome: str


async def access_log(db: AsyncSession, patient: Patient, limit: int = 200) -> list[AccessEntry]:
    """Successful and refused accesses to `patient`'s data, newest first (from the gate's Patient)."""
    rows = await _events(db, patient.id, limit, 0)
    return [_entry(event, user, professional) for event, user, professional in rows]


async def access_log_events(
    db: AsyncSession, patient_id: str, limit: int, offset: int
) -> list[tuple[AuditEvent, str]]:
    """Events with the display name of who acted, for the FHIR AuditEvent search."""
    rows = await _events(db, patient_id, limit, offset)
    return [(event, _entry(event, user, pro).who) for event, user, pro in rows]


async def _events(
    db: AsyncSession, patient_id: str, limit: int, offset: int
) -> list[tuple[AuditEvent, User | None, Professional | None]]:
    rows = await db.execute(
        select(AuditEvent, User, Professional)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .outerjoin(Professional, Professional.id == User.professional_id)
        .where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id)
        .limit(limit)
        .offset(offset)
    )
    return [(e, u, p) for e, u, p in rows.all()]


def _entry(event: AuditEvent, user: User | None, professional: Professional | None) -> AccessEntry:
    if professional:
        who, role = professional.display_name, PROFESSION_LABELS[Profession(professional.profession)]
    elif user and user.role == "patient":
        who, role = "Vous", "patient"
    else:
        who, role = (user.email if user else "système"), event.actor_role
    return AccessEntry(
        at=event.at,
        who=who,
        role=role,
        action=ACTION_LABELS.get(event.action, event.action),
        what=event.resource_type,
        purpose=event.purpose,
        reason=event.reason,
        outcome=event.outcome,
    )
