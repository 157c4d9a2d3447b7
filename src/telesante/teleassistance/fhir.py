"""Téléassistance over FHIR: the session as an `Encounter` (virtual), its report and captured
stills as `DocumentReference`s pointing at the API that serves them. Read through the patient
gate: the patient, their care team (the accepted doctor is in it for the act), break-glass."""

from typing import Any

from fastapi import Request
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.encounter import Encounter
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.documents.models import Document
from telesante.errors import NotFound
from telesante.fhir.reports import sha1_base64
from telesante.fhir.scheduling import FR_CORE, VIRTUAL
from telesante.patients.access import access_patient
from telesante.teleassistance.lifecycle import Status
from telesante.teleassistance.models import AssistanceCapture, AssistanceSession

ENCOUNTER_STATUS = {Status.active: "in-progress", Status.ended: "finished"}
TYPE = {"text": "Téléassistance médicale"}
MAX_COUNT = 1000


def encounter_resource(session: AssistanceSession) -> dict[str, Any] | None:
    status = ENCOUNTER_STATUS.get(Status(session.status))
    if status is None or session.accepted_at is None:  # rang, never held: no encounter
        return None
    period = {"start": session.accepted_at.isoformat()}
    if session.ended_at:
        period["end"] = session.ended_at.isoformat()
    participants = [session.assisted_id, session.doctor_id]
    return _valid(
        Encounter,
        {
            "resourceType": "Encounter",
            "id": session.id,
            "meta": {"profile": [f"{FR_CORE}/fr-core-encounter"]},
            "status": status,
            "class": VIRTUAL,
            "type": [TYPE],
            "subject": {"reference": f"Patient/{session.patient_id}"},
            "participant": [{"individual": {"reference": f"Practitioner/{p}"}} for p in participants if p],
            "period": period,
        },
    )


def document_resource(
    request: Request, session: AssistanceSession, document: Document, capture: AssistanceCapture | None
) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + f"/api/teleassistance/sessions/{session.id}"
    url = f"{base}/captures/{capture.id}" if capture else f"{base}/report.pdf"
    title = "Image annotée de téléassistance" if capture else "Compte rendu de téléassistance"
    return _valid(
        DocumentReference,
        {
            "resourceType": "DocumentReference",
            "id": document.id,
            "status": "current",
            "docStatus": "final",
            "type": {"text": title},
            "subject": {"reference": f"Patient/{session.patient_id}"},
            "date": document.created_at.isoformat(),
            "author": [{"reference": f"Practitioner/{session.doctor_id or session.assisted_id}"}],
            "description": title,
            "content": [
                {
                    "attachment": {
                        "contentType": document.content_type,
                        "language": "fr-FR",
                        "url": url,
                        "size": document.size,
                        "hash": sha1_base64(document.content),
                        "title": title,
                        "creation": document.created_at.isoformat(),
                    }
                }
            ],
            "context": {"encounter": [{"reference": f"Encounter/{session.id}"}]},
        },
    )


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


async def read_encounter(db: AsyncSession, actor: Actor, session_id: str) -> dict[str, Any] | None:
    """For Encounter/{id}: None when no session has this id (it may be a téléconsultation's)."""
    session = await db.get(AssistanceSession, session_id)
    if session is None:
        return None
    await access_patient(db, actor, session.patient_id, resource_type="Encounter", resource_id=session.id)
    resource = encounter_resource(session)
    if resource is None:
        raise NotFound("Encounter introuvable")
    return resource


async def patient_encounters(db: AsyncSession, patient_id: str) -> list[dict[str, Any]]:
    """The sessions of a patient the caller already passed the gate for."""
    rows = await db.scalars(
        select(AssistanceSession)
        .where(AssistanceSession.patient_id == patient_id)
        .order_by(AssistanceSession.created_at)
        .limit(MAX_COUNT)
    )
    return [r for s in rows if (r := encounter_resource(s))]


async def _owner(
    db: AsyncSession, document_id: str
) -> tuple[AssistanceSession, AssistanceCapture | None] | None:
    capture = await db.scalar(select(AssistanceCapture).where(AssistanceCapture.document_id == document_id))
    session_id = (
        capture.session_id
        if capture
        else await db.scalar(
            select(AssistanceSession.id).where(AssistanceSession.report_document_id == document_id)
        )
    )
    session = await db.get(AssistanceSession, session_id) if session_id else None
    return (session, capture) if session else None


async def read_document(
    request: Request, db: AsyncSession, actor: Actor, document_id: str
) -> dict[str, Any] | None:
    """For DocumentReference/{id}: None when the document is no téléassistance's."""
    owner = await _owner(db, document_id)
    if owner is None:
        return None
    session, capture = owner
    await access_patient(
        db, actor, session.patient_id, resource_type="DocumentReference", resource_id=document_id
    )
    document = await db.get(Document, document_id)
    assert document is not None
    return document_resource(request, session, document, capture)


async def patient_documents(request: Request, db: AsyncSession, patient_id: str) -> list[dict[str, Any]]:
    """Reports and captured stills of a patient the caller already passed the gate for."""
    sessions = {
        s.id: s
        for s in await db.scalars(select(AssistanceSession).where(AssistanceSession.patient_id == patient_id))
    }
    if not sessions:
        return []
    captures = {
        c.document_id: c
        for c in await db.scalars(
            select(AssistanceCapture).where(AssistanceCapture.session_id.in_(list(sessions)))
        )
    }
    reports = {s.report_document_id: s for s in sessions.values() if s.report_document_id}
    documents = await db.scalars(
        select(Document)
        .where(or_(Document.id.in_(list(captures)), Document.id.in_(list(reports))))
        .order_by(Document.created_at)
        .limit(MAX_COUNT)
    )
    out = []
    for document in documents:
        capture = captures.get(document.id)
        session = sessions[capture.session_id] if capture else reports[document.id]
        out.append(document_resource(request, session, document, capture))
    return out
