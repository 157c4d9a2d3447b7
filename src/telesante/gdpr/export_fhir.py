"""The patient's data as one FHIR R4 Bundle of type `collection` (GDPR art. 15 and 20).

Resources, each validated with the R4B models (same shape as R4 for these, ADR 0004):
- Patient: the façade's fr-core mapping, unchanged.
- Practitioner: every professional the other resources name (care team, authors, accesses).
- CareTeam: one, listing each care relation (médecin traitant, équipe, acte) with its period.
- DocumentReference, category `timeline-entry`: each timeline entry. An entry is a dated,
  authored piece of text written into the record, which is what DocumentReference carries
  (a clinical note, inline content); Communication would claim a message was sent, Basic
  keeps only a date without time, and not every entry is an Encounter (identity, consent).
  The title is `description`, the free-text summary the inline text/plain attachment.
- DocumentReference, category `document`: each uploaded document; its bytes are inline
  (base64 `Attachment.data`) up to collect.MAX_INLINE_DOCUMENT, else metadata only. The
  SHA-256 travels as an identifier, since `Attachment.hash` is SHA-1 in R4.
- Consent: each consent or refusal; a withdrawn one is `inactive`.
- AuditEvent: each access to the record, who made it, and whether it was allowed.
"""

import base64
from datetime import datetime
from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.documentreference import DocumentReference

from telesante.consent.models import Consent
from telesante.documents.models import Document
from telesante.fhir.mapping import patient_resource, practitioner_resource
from telesante.gdpr.collect import AccessLine, PatientData
from telesante.gdpr.labels import ACT_LABELS, AUDIT_ACTION_LABELS, CARE_REASON_LABELS
from telesante.monitoring.fhir_out import detected_issue_resource, group, observation_resource
from telesante.timeline.models import TimelineEntry

FHIR_JSON = "application/fhir+json"
CATEGORY_SYSTEM = "urn:telesante:document-category"
KIND_SYSTEM = "urn:telesante:timeline-kind"
AUDIT_ACTION_SYSTEM = "urn:telesante:audit-action"
SHA256_SYSTEM = "urn:telesante:sha256"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
# FHIR AuditEvent.action: C create, R read/view/print, U update, D delete, E execute (search...).
FHIR_ACTIONS = {"create": "C", "read": "R", "export": "R", "update": "U", "delete": "D", "search": "E"}
REST = {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"}


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _text_attachment(text: str, title: str) -> dict[str, Any]:
    return {
        "contentType": "text/plain; charset=utf-8",
        "data": base64.b64encode(text.encode()).decode(),
        "title": title,
    }


def export_bundle(data: PatientData, fhir_base: str) -> dict[str, Any]:
    patient_ref = f"Patient/{data.patient.id}"
    resources = [patient_resource(data.patient)]
    resources += [practitioner_resource(p) for p in data.professionals.values()]
    if data.relations:
        resources.append(care_team(data, patient_ref))
    resources += [timeline_entry(e, patient_ref) for e in data.entries]
    resources += [document(d, data.inline_content.get(d.id), patient_ref) for d in data.documents]
    resources += [consent(c, patient_ref) for c in data.consents]
    resources += [audit_event(a, patient_ref) for a in data.accesses]
    resources += [observation_resource(parts) for parts in group(data.measurements)]
    by_id = {m.id: m for m in data.measurements}
    resources += [
        detected_issue_resource(a, [by_id[i] for i in a.evidence if i in by_id]) for a in data.alerts
    ]
    return _valid(
        Bundle,
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": _instant(data.generated_at) if data.generated_at else None,
            "entry": [
                {"fullUrl": f"{fhir_base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
            ],
        },
    )


def care_team(data: PatientData, patient_ref: str) -> dict[str, Any]:
    participants = []
    for relation in data.relations:
        period = {"start": _instant(relation.starts_at)}
        if relation.ends_at:
            period["end"] = _instant(relation.ends_at)
        participants.append(
            {
                "role": [{"text": CARE_REASON_LABELS.get(relation.reason, relation.reason)}],
                "member": {
                    "reference": f"Practitioner/{relation.professional_id}",
                    "display": relation.professional.display_name,
                },
                "period": period,
            }
        )
    return _valid(
        CareTeam,
        {
            "resourceType": "CareTeam",
            "id": f"careteam-{data.patient.id}",
            "status": "active",
            "name": "Équipe de soins",
            "subject": {"reference": patient_ref},
            "participant": participants,
        },
    )


def timeline_entry(entry: TimelineEntry, patient_ref: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": entry.id,
        "status": "current",
        "type": {"coding": [{"system": KIND_SYSTEM, "code": entry.kind}], "text": entry.kind},
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "timeline-entry"}]}],
        "subject": {"reference": patient_ref},
        "date": _instant(entry.occurred_at),
        "description": entry.title,
        "content": [
            {
                "attachment": _text_attachment(entry.summary, entry.title)
                if entry.summary
                else {"contentType": "text/plain; charset=utf-8", "title": entry.title}
            }
        ],
    }
    if entry.author_professional_id:
        resource["author"] = [{"reference": f"Practitioner/{entry.author_professional_id}"}]
    return _valid(DocumentReference, resource)


def document(doc: Document, content: bytes | None, patient_ref: str) -> dict[str, Any]:
    attachment: dict[str, Any] = {
        "contentType": doc.content_type,
        "size": doc.size,
        "title": doc.filename,
        "creation": _instant(doc.created_at),
    }
    if content is not None:
        attachment["data"] = base64.b64encode(content).decode()
    return _valid(
        DocumentReference,
        {
            "resourceType": "DocumentReference",
            "id": doc.id,
            "status": "current",
            "identifier": [{"system": SHA256_SYSTEM, "value": doc.sha256}],
            "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "document"}]}],
            "subject": {"reference": patient_ref},
            "date": _instant(doc.created_at),
            "description": doc.filename,
            "content": [{"attachment": attachment}],
        },
    )


def consent(item: Consent, patient_ref: str) -> dict[str, Any]:
    act = ACT_LABELS.get(item.act, item.act)
    provision: dict[str, Any] = {
        "type": "permit" if item.decision == "granted" else "deny",
        "period": {"start": _instant(item.recorded_at)},
        "action": [{"coding": [{"system": "urn:telesante:act", "code": item.act}], "text": act}],
    }
    if item.withdrawn_at:
        provision["period"]["end"] = _instant(item.withdrawn_at)
    return _valid(
        FhirConsent,
        {
            "resourceType": "Consent",
            "id": item.id,
            "status": "inactive" if item.withdrawn_at else "active",
            "scope": {"coding": [{"system": CONSENT_SCOPE_SYSTEM, "code": "treatment"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": patient_ref},
            "dateTime": _instant(item.recorded_at),
            "sourceAttachment": _text_attachment(item.information, f"Information délivrée ({item.method})"),
            "provision": provision,
        },
    )


def audit_event(line: AccessLine, patient_ref: str) -> dict[str, Any]:
    event = line.event
    who: dict[str, Any] = {"display": line.who}
    if line.professional_id:
        who["reference"] = f"Practitioner/{line.professional_id}"
    return _valid(
        FhirAuditEvent,
        {
            "resourceType": "AuditEvent",
            "id": event.id,
            "type": REST,
            "subtype": [
                {
                    "system": AUDIT_ACTION_SYSTEM,
                    "code": event.action,
                    "display": AUDIT_ACTION_LABELS.get(event.action, event.action),
                }
            ],
            "action": FHIR_ACTIONS.get(event.action, "E"),
            "recorded": _instant(event.at),
            # 0 success; 4 minor failure: the gate refused the access, nothing was shown.
            "outcome": "0" if event.outcome == "success" else "4",
            "purposeOfEvent": [{"text": event.purpose}],
            "agent": [{"type": {"text": event.actor_role}, "who": who, "requestor": True}],
            "source": {"observer": {"display": "Telesante"}},
            "entity": [{"what": {"reference": patient_ref}, "name": event.resource_type}],
        },
    )
