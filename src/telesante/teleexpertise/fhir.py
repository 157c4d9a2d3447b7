"""A téléexpertise request as FHIR R4: the ServiceRequest (what was asked), one Task per expert
asked (where their part stands), the thread as Communications, and each answer's PDF report as
a DocumentReference. fr-core profiles none of them: base R4, validated with fhir.resources R4B.

Attachments are referenced by type, size and hash, never by file name (names stay encrypted).
"""

from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.directory.models import Organisation, Professional
from telesante.documents.models import Document
from telesante.documents.service import LABELS
from telesante.fhir.reports import CONSULT_NOTE, pdf_content
from telesante.monitoring.models import Measurement
from telesante.teleexpertise import attachments
from telesante.teleexpertise.lifecycle import OPEN, Status
from telesante.teleexpertise.models import ExpertAnswer, ExpertAssignment, ExpertMessage, ExpertRequest
from telesante.teleexpertise.report_pdf import TITLE

ACTS = "https://telesante.fr/fhir/CodeSystem/act"
TELEEXPERTISE = {"system": ACTS, "code": "teleexpertise", "display": "Téléexpertise"}
REQUEST_STATUS = {Status.completed: "completed", Status.cancelled: "revoked"}
TASK_STATUS = {
    Status.requested: "requested",
    Status.accepted: "accepted",
    Status.in_progress: "in-progress",
    Status.completed: "completed",
    Status.cancelled: "cancelled",
}


@dataclass(frozen=True)
class Loaded:
    """A request with what its resources name: the people, the pool, the attachments."""

    request: ExpertRequest
    assignments: list[ExpertAssignment]
    people: dict[str, Professional]
    pool: Organisation | None
    documents: list[Document]
    measurements: list[Measurement]


async def load(db: AsyncSession, request: ExpertRequest) -> Loaded:
    assignments = list(
        await db.scalars(
            select(ExpertAssignment)
            .where(ExpertAssignment.request_id == request.id)
            .order_by(ExpertAssignment.created_at, ExpertAssignment.id)
        )
    )
    ids = {a.professional_id for a in assignments} | {request.requester_id}
    people = {p.id: p for p in await db.scalars(select(Professional).where(Professional.id.in_(ids)))}
    pool = await db.get(Organisation, request.pool_organisation_id) if request.pool_organisation_id else None
    return Loaded(
        request,
        assignments,
        people,
        pool,
        await attachments.attached_documents(db, request),
        await attachments.attached_measurements(db, request),
    )


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


def practitioner(professional_id: str, people: dict[str, Professional]) -> dict[str, str]:
    reference = {"reference": f"Practitioner/{professional_id}"}
    if found := people.get(professional_id):
        reference["display"] = found.display_name
    return reference


def _pool(loaded: Loaded) -> dict[str, str] | None:
    request = loaded.request
    if request.pool_specialty is None or request.pool_organisation_id is None:
        return None
    where = loaded.pool.name if loaded.pool else ""
    return {
        "reference": f"Organization/{request.pool_organisation_id}",
        "display": f"Équipe de {request.pool_specialty} — {where}".rstrip(" —"),
    }


def _supporting(loaded: Loaded) -> list[dict[str, Any]]:
    documents = [
        {
            "type": "DocumentReference",
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{d.id}"},
            "display": f"{LABELS.get(d.content_type, 'fichier')}, {d.size} octets, SHA-256 {d.sha256}",
        }
        for d in loaded.documents
    ]
    measures = [
        {"reference": f"Observation/{m.panel_id or m.id}", "display": f"{m.kind} : {m.value}"}
        for m in loaded.measurements
    ]
    return documents + measures


def service_request_resource(loaded: Loaded) -> dict[str, Any]:
    request = loaded.request
    performers = [practitioner(a.professional_id, loaded.people) for a in loaded.assignments]
    if pool := _pool(loaded):
        performers.append(pool)
    status = "active" if request.status in OPEN else REQUEST_STATUS[Status(request.status)]
    return _valid(
        ServiceRequest,
        {
            "resourceType": "ServiceRequest",
            "id": request.id,
            "status": status,
            "intent": "order",
            "category": [{"coding": [TELEEXPERTISE], "text": "Téléexpertise"}],
            "code": {"text": "Avis de téléexpertise"},
            "priority": "urgent" if request.urgency == "urgent" else "routine",
            "subject": {"reference": f"Patient/{request.patient_id}"},
            "occurrenceDateTime": request.due_at.isoformat(),
            "authoredOn": request.created_at.isoformat(),
            "requester": practitioner(request.requester_id, loaded.people),
            "performer": performers or None,
            "reasonCode": [{"text": request.question}],
            "note": [{"text": request.question, "time": request.created_at.isoformat()}],
            "supportingInfo": _supporting(loaded) or None,
        },
    )


def task_status(request: ExpertRequest, assignment: ExpertAssignment) -> str:
    """The expert's part: done once answered, rejected once given to someone else, otherwise
    the request's state (a request closed without their answer cancels their part)."""
    if assignment.status == "answered":
        return "completed"
    if assignment.status == "reassigned":
        return "rejected"
    if request.status == Status.completed:
        return "cancelled"
    return TASK_STATUS[Status(request.status)]


def task_resource(loaded: Loaded, assignment: ExpertAssignment) -> dict[str, Any]:
    request = loaded.request
    return _valid(
        Task,
        {
            "resourceType": "Task",
            "id": assignment.id,
            "status": task_status(request, assignment),
            "intent": "order",
            "priority": "urgent" if request.urgency == "urgent" else "routine",
            "code": {"coding": [TELEEXPERTISE], "text": "Donner un avis de téléexpertise"},
            "basedOn": [{"reference": f"ServiceRequest/{request.id}"}],
            "focus": {"reference": f"ServiceRequest/{request.id}"},
            "for": {"reference": f"Patient/{request.patient_id}"},
            "authoredOn": assignment.created_at.isoformat(),
            "requester": practitioner(request.requester_id, loaded.people),
            "owner": practitioner(assignment.professional_id, loaded.people),
            "restriction": {"period": {"end": request.due_at.isoformat()}},
        },
    )


def communication_resource(loaded: Loaded, message: ExpertMessage) -> dict[str, Any]:
    """A message of the thread: from the requérant to the experts asked, or from an expert back."""
    request = loaded.request
    if message.author_professional_id == request.requester_id:
        recipients = [a.professional_id for a in loaded.assignments if a.status != "reassigned"]
    else:
        recipients = [request.requester_id]
    about = {"reference": f"ServiceRequest/{request.id}"}
    return _valid(
        Communication,
        {
            "resourceType": "Communication",
            "id": message.id,
            "status": "completed",
            "category": [{"coding": [TELEEXPERTISE]}],
            "basedOn": [about],
            "partOf": [about],
            "about": [about],
            "subject": {"reference": f"Patient/{request.patient_id}"},
            "sent": message.created_at.isoformat(),
            "sender": practitioner(message.author_professional_id, loaded.people),
            "recipient": [practitioner(r, loaded.people) for r in recipients] or None,
            "payload": [{"contentString": message.body}],
        },
    )


def document_reference_resource(
    request: ExpertRequest, answer: ExpertAnswer, pdf: bytes, pdf_url: str
) -> dict[str, Any]:
    author = {"reference": f"Practitioner/{answer.professional_id}"}
    signed = answer.signed_at.isoformat()
    return _valid(
        DocumentReference,
        {
            "resourceType": "DocumentReference",
            "id": answer.id,
            "status": "current",
            "docStatus": "final",
            "type": {"coding": [CONSULT_NOTE], "text": TITLE},
            "category": [{"coding": [TELEEXPERTISE]}],
            "subject": {"reference": f"Patient/{request.patient_id}"},
            "date": signed,
            "author": [author],
            "authenticator": author,
            "description": TITLE,
            "content": pdf_content(pdf, pdf_url, f"{TITLE}.pdf", signed),
            "context": {"related": [{"reference": f"ServiceRequest/{request.id}"}]},
        },
    )
