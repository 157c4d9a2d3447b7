"""Files shared during a call: documents of the patient's record, attached to the encounter.

The bytes arrive over HTTP (file_routes.py) and go through the documents' intake (size cap,
type sniffed from the bytes, PDF filter, images re-encoded), then into an encrypted
``Document`` of the patient with ``appointment_id`` set. The call only hears that a file was
shared: an announcement on the call's bus channel after the commit. The signaling server
never carries, nor reads, a file's contents.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from telesante.auth.models import User
from telesante.db import after_commit, utcnow
from telesante.documents.models import Document
from telesante.documents.service import LABELS, CleanFile, store
from telesante.errors import NotFound
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.teleconsultation.call.participants import professional_name
from telesante.teleconsultation.call.signaling import channel
from telesante.teleconsultation.call.tokens import Role
from telesante.teleconsultation.models import Appointment, JoinToken


@dataclass(frozen=True)
class Sharer:
    """Who shares a file. ``record_id`` is what ``Document.uploaded_by_user_id`` keeps: the user's
    id, or for a guest (who has no user) the id of the join token that admitted them, which
    keeps their shown name and the appointment (as report.py lists the companions)."""

    record_id: str
    name: str
    role: Role
    professional_id: str | None = None


@dataclass(frozen=True)
class SharedFile:
    document: Document
    shared_by: str
    shared_by_role: str


def file_url(appointment_id: str, document_id: str) -> str:
    return f"/api/teleconsultations/{appointment_id}/files/{document_id}"


async def share(
    db: AsyncSession, bus: Bus, appointment: Appointment, sharer: Sharer, file: CleanFile
) -> Document:
    """Store the checked file encrypted in the patient's record, and announce it after commit."""
    label = LABELS[file.kind.media_type]
    document = await store(
        db,
        appointment.patient_id,
        sharer.record_id,
        file,
        title=(
            f"Document partagé pendant la téléconsultation ({label})"
            if appointment.status == "in_call"
            else f"Document envoyé pour la téléconsultation ({label})"
        ),
        summary=f"{file.filename} (par {sharer.name})",
        author_professional_id=sharer.professional_id,
        appointment_id=appointment.id,
    )
    message = announcement(appointment.id, document, sharer.name, sharer.role, utcnow())
    after_commit(db, lambda: bus.publish(channel(appointment.id), message))
    return document


def announcement(
    appointment_id: str, document: Document, name: str, role: str, at: datetime
) -> dict[str, object]:
    """What every leg shows in its chat; with no "from", the sharer's own leg gets it too."""
    return {
        "type": "file",
        "name": name,
        "role": role,
        "text": f"a partagé {document.filename}",
        "at": at.isoformat(),
        "file": {
            "id": document.id,
            "filename": document.filename,
            "contentType": document.content_type,
            "size": document.size,
            "url": file_url(appointment_id, document.id),
        },
    }


async def files_of(db: AsyncSession, appointment: Appointment) -> list[SharedFile]:
    """The files shared during the call, oldest first, with who shared them (contents not loaded)."""
    rows = list(
        await db.scalars(
            select(Document)
            .options(defer(Document.content, raiseload=True))
            .where(Document.appointment_id == appointment.id, Document.patient_id == appointment.patient_id)
            .order_by(Document.created_at, Document.id)
        )
    )
    names = await _sharers(db, appointment, {d.uploaded_by_user_id for d in rows})
    unknown = ("participant inconnu", "unknown")
    return [SharedFile(d, *names.get(d.uploaded_by_user_id, unknown)) for d in rows]


async def file_of(db: AsyncSession, appointment: Appointment, document_id: str) -> Document:
    """One file of this call; 404 for any other document, as for one that does not exist."""
    document = await db.scalar(
        select(Document).where(
            Document.id == document_id,
            Document.appointment_id == appointment.id,
            Document.patient_id == appointment.patient_id,
        )
    )
    if document is None:
        raise NotFound("fichier introuvable")
    return document


async def _sharers(db: AsyncSession, appointment: Appointment, ids: set[str]) -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    for user in await db.scalars(select(User).where(User.id.in_(ids))):
        if user.professional_id:
            names[user.id] = (await professional_name(db, user.professional_id), Role.professional)
        elif user.patient_id and (patient := await db.get(Patient, user.patient_id)):
            names[user.id] = (patient.display_name, Role.patient)
    guests = await db.execute(
        select(JoinToken.id, JoinToken.display_name).where(
            JoinToken.id.in_(ids - names.keys()), JoinToken.appointment_id == appointment.id
        )
    )
    names.update({token_id: (name, Role.companion) for token_id, name in guests.all()})
    return names
