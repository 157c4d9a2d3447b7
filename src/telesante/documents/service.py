"""Documents and photos of a patient's record: checked, cleaned, encrypted at rest.

Every function takes a `Patient`, which only the access gate hands out. What is stored
is what was checked: images are the re-encoded pixels (no metadata), PDFs are kept as
sent once they pass the filter. The content column encrypts on flush (EncryptedBytes).
"""

import asyncio
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from telesante.auth.actor import Actor
from telesante.documents.images import ImageRefused, reencode
from telesante.documents.intake import UnsupportedType, safe_filename
from telesante.documents.models import Document
from telesante.documents.pdf import PdfRefused, check_pdf
from telesante.documents.sniff import ACCEPTED, PDF, Kind, declared_kind, media_type_of, sniff
from telesante.errors import Invalid, NotFound
from telesante.patients.models import Patient
from telesante.timeline.service import add_entry

LABELS = {PDF.media_type: "PDF", "image/jpeg": "photo JPEG", "image/png": "image PNG"}


@dataclass(frozen=True)
class CleanFile:
    kind: Kind
    content: bytes
    filename: str


def accepted_kind(content_type: str | None) -> Kind:
    """The kind the client declares; 415 before the body is read if we do not take it."""
    kind = declared_kind(content_type)
    if kind is None:
        said = media_type_of(content_type)[:60] or "absent"
        raise UnsupportedType(f"type déclaré « {said} » non accepté ; types acceptés : {ACCEPTED}")
    return kind


async def clean(data: bytes, declared: Kind, filename: str | None) -> CleanFile:
    """Check that the bytes are what was declared, and clean them (in a thread: CPU-bound)."""
    if not data:
        raise Invalid.field("content", "fichier vide")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedType(f"contenu non reconnu ; types acceptés : {ACCEPTED}")
    if kind is not declared:
        raise UnsupportedType(
            f"le type déclaré {declared.media_type} ne correspond pas au contenu ({kind.media_type})"
        )
    try:
        content = await asyncio.to_thread(_checked, data, kind)
    except (ImageRefused, PdfRefused) as refused:
        raise Invalid.field("content", str(refused)) from None
    return CleanFile(kind, content, safe_filename(filename, kind))


def _checked(data: bytes, kind: Kind) -> bytes:
    if kind is PDF:
        check_pdf(data)
        return data
    return reencode(data, kind)


async def add_document(db: AsyncSession, actor: Actor, patient: Patient, file: CleanFile) -> Document:
    return await store(
        db,
        patient.id,
        actor.user.id,
        file,
        title=f"Document ajouté ({LABELS[file.kind.media_type]})",
        summary=file.filename,
        author_professional_id=actor.professional_id,
    )


async def store(
    db: AsyncSession,
    patient_id: str,
    uploader_id: str,
    file: CleanFile,
    *,
    title: str,
    summary: str,
    author_professional_id: str | None,
    appointment_id: str | None = None,
) -> Document:
    """A checked file into the record, encrypted (on flush), and its line on the timeline.

    The file name may say what the patient has: callers put it in the (encrypted) summary,
    never in the title.
    """
    document = Document(
        patient_id=patient_id,
        appointment_id=appointment_id,
        uploaded_by_user_id=uploader_id,
        filename=file.filename,
        content_type=file.kind.media_type,
        size=len(file.content),
        sha256=await asyncio.to_thread(lambda: hashlib.sha256(file.content).hexdigest()),
        content=file.content,
    )
    db.add(document)
    await db.flush()
    add_entry(
        db,
        patient_id,
        kind="document",
        title=title,
        summary=summary,
        source_type="Document",
        source_id=document.id,
        author_professional_id=author_professional_id,
    )
    return document


async def documents_of(db: AsyncSession, patient: Patient) -> list[Document]:
    """Metadata only, newest first: the contents are not loaded, so not decrypted."""
    rows = await db.scalars(
        select(Document)
        .options(defer(Document.content, raiseload=True))
        .where(Document.patient_id == patient.id)
        .order_by(Document.created_at.desc(), Document.id)
    )
    return list(rows)


async def document_of(db: AsyncSession, patient: Patient, document_id: str) -> Document:
    """One document of this patient; 404 for another patient's, as for one that does not exist."""
    document = await db.scalar(
        select(Document).where(Document.id == document_id, Document.patient_id == patient.id)
    )
    if document is None:
        raise NotFound("document introuvable")
    return document
