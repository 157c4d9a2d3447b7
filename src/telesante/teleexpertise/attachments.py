"""What the requérant attaches: new photos and PDFs (through the documents intake: sniffed,
re-encoded without EXIF/GPS, encrypted), and documents or measurements already in the record.

Experts read attachments only through the request (`attached_document`), never the record.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from telesante.auth.actor import Actor
from telesante.documents import service as documents
from telesante.documents.models import Document
from telesante.errors import Invalid, NotFound
from telesante.monitoring.models import Measurement
from telesante.patients.models import Patient
from telesante.teleexpertise.models import ExpertAttachment, ExpertRequest


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str | None
    filename: str | None


async def cleaned(uploads: list[Upload]) -> list[documents.CleanFile]:
    """Every file checked and cleaned before anything is written: one bad file refuses them all."""
    return [
        await documents.clean(u.data, documents.accepted_kind(u.content_type), u.filename) for u in uploads
    ]


async def attach_files(
    db: AsyncSession, actor: Actor, patient: Patient, request: ExpertRequest, files: list[documents.CleanFile]
) -> list[ExpertAttachment]:
    attached = []
    for file in files:
        document = await documents.add_document(db, actor, patient, file)
        attached.append(ExpertAttachment(request_id=request.id, document_id=document.id))
    db.add_all(attached)
    return attached


async def attach_existing(
    db: AsyncSession,
    patient: Patient,
    request: ExpertRequest,
    document_ids: list[str],
    measurement_ids: list[str],
) -> None:
    """Items of this patient's record, which the requérant sees through the patient gate."""
    for document_id in dict.fromkeys(document_ids):
        owner = await db.scalar(select(Document.patient_id).where(Document.id == document_id))
        if owner != patient.id:
            raise Invalid.field("document_ids", f"document {document_id} absent du dossier de ce patient")
        db.add(ExpertAttachment(request_id=request.id, document_id=document_id))
    for measurement_id in dict.fromkeys(measurement_ids):
        owner = await db.scalar(select(Measurement.patient_id).where(Measurement.id == measurement_id))
        if owner != patient.id:
            raise Invalid.field(
                "measurement_ids", f"mesure {measurement_id} absente du dossier de ce patient"
            )
        db.add(ExpertAttachment(request_id=request.id, measurement_id=measurement_id))


async def attached_documents(db: AsyncSession, request: ExpertRequest) -> list[Document]:
    """Metadata of the attached documents; contents are not loaded (so not decrypted)."""
    rows = await db.scalars(
        select(Document)
        .options(defer(Document.content, raiseload=True))
        .join(ExpertAttachment, ExpertAttachment.document_id == Document.id)
        .where(ExpertAttachment.request_id == request.id)
        .order_by(ExpertAttachment.created_at, Document.id)
    )
    return list(rows)


async def attached_measurements(db: AsyncSession, request: ExpertRequest) -> list[Measurement]:
    rows = await db.scalars(
        select(Measurement)
        .join(ExpertAttachment, ExpertAttachment.measurement_id == Measurement.id)
        .where(ExpertAttachment.request_id == request.id)
        .order_by(Measurement.effective_at)
    )
    return list(rows)


async def attached_document(db: AsyncSession, request: ExpertRequest, document_id: str) -> Document:
    """One document attached to this request; 404 for any other, even of the same patient."""
    document = await db.scalar(
        select(Document)
        .join(ExpertAttachment, ExpertAttachment.document_id == Document.id)
        .where(ExpertAttachment.request_id == request.id, Document.id == document_id)
    )
    if document is None:
        raise NotFound("pièce jointe introuvable")
    return document
