"""FHIR AuditEvent and Consent: the traces and the consents of a patient."""

from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.consent import Consent as FhirConsent

from telesante.audit.models import AuditEvent
from telesante.consent.models import Consent

ACTION_CODES = {
    "create": "C",
    "read": "R",
    "search": "E",
    "update": "U",
    "export": "R",
    "break_glass": "E",
    "download": "R",
    "upload": "C",
}
DCM = "http://dicom.nema.org/resources/ontology/DCM"
PURPOSE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PURPOSES = {"care": "TREAT", "break_glass": "ETREAT", "export": "PATRQT"}


def audit_event_resource(event: AuditEvent, who: str) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "who": {
            "display": who,
            "identifier": {"system": "urn:telesante:user", "value": event.actor_user_id or "-"},
        },
        "requestor": True,
        "type": {"text": event.actor_role},
    }
    if code := PURPOSES.get(event.purpose):
        agent["purposeOfUse"] = [{"coding": [{"system": PURPOSE_SYSTEM, "code": code}], "text": event.reason}]
    data = {
        "resourceType": "AuditEvent",
        "id": event.id,
        "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": "urn:telesante:audit-action", "code": event.action}],
        "action": ACTION_CODES.get(event.action, "E"),
        "recorded": event.at.isoformat(),
        "outcome": "0" if event.outcome == "success" else "4",
        "agent": [agent],
        "source": {"observer": {"display": "Telesante"}},
        "entity": [
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "detail": [{"type": "resource", "valueString": event.resource_type}],
            }
        ],
    }
    return FhirAuditEvent.model_validate(data).model_dump(mode="json", exclude_none=True)


def consent_resource(consent: Consent, in_force: bool) -> dict[str, Any]:
    status = "rejected" if consent.decision == "refused" else ("active" if in_force else "inactive")
    data = {
        "resourceType": "Consent",
        "id": consent.id,
        "status": status,
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{consent.patient_id}"},
        "dateTime": consent.recorded_at.isoformat(),
        "policyRule": {
            "text": "CSP L1111-4 et R6316-2 : consentement libre et éclairé à l'acte de télémédecine"
        },
        "verification": [
            {
                "verified": True,
                "verificationDate": consent.recorded_at.isoformat(),
            }
        ]
        if consent.method == "in_person"
        else [],
        "provision": {
            "type": "permit" if consent.decision == "granted" else "deny",
            "code": [{"coding": [{"system": "urn:telesante:act", "code": consent.act}]}],
            "period": {
                "start": consent.recorded_at.isoformat(),
                **({"end": consent.withdrawn_at.isoformat()} if consent.withdrawn_at else {}),
            },
        },
    }
    data = {k: v for k, v in data.items() if v != []}
    return FhirConsent.model_validate(data).model_dump(mode="json", exclude_none=True)
