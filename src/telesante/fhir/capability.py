from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

SEARCH_PARAMS = {
    "Patient": [
        ("_id", "token"),
        ("identifier", "token"),
        ("name", "string"),
        ("family", "string"),
        ("birthdate", "date"),
    ],
    "Practitioner": [("_id", "token"), ("identifier", "token"), ("name", "string")],
    "PractitionerRole": [("_id", "token"), ("practitioner", "reference"), ("organization", "reference")],
    "Organization": [("_id", "token"), ("identifier", "token"), ("name", "string")],
    "AuditEvent": [("patient", "reference")],
    "Consent": [("patient", "reference")],
    "Schedule": [("_id", "token")],
    "Slot": [("schedule", "reference"), ("start", "date")],
    "Appointment": [("patient", "reference")],
    "Encounter": [("patient", "reference")],
    "Composition": [("patient", "reference"), ("encounter", "reference")],
    "DocumentReference": [("patient", "reference"), ("encounter", "reference")],
    "ServiceRequest": [("patient", "reference"), ("_id", "token")],
    "Task": [("patient", "reference"), ("focus", "reference"), ("based-on", "reference")],
    "Communication": [("patient", "reference"), ("based-on", "reference"), ("part-of", "reference")],
    "MedicationRequest": [("patient", "reference")],
    "MedicationDispense": [("prescription", "token")],
    "Observation": [("patient", "reference"), ("code", "token"), ("date", "date")],
    "DetectedIssue": [("patient", "reference")],
}
# Beyond read and search: what a connected device sends (télésurveillance, ADR 0009).
EXTRA_INTERACTIONS = {"Observation": ["create"]}


def capability_statement(base_url: str, software_version: str) -> dict[str, Any]:
    resources = [
        {
            "type": kind,
            "interaction": [
                {"code": code} for code in ["read", "search-type", *EXTRA_INTERACTIONS.get(kind, [])]
            ],
            "searchParam": [{"name": name, "type": kind_} for name, kind_ in params],
        }
        for kind, params in SEARCH_PARAMS.items()
    ]
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "kind": "instance",
        "software": {"name": "Telesante", "version": software_version},
        "implementation": {"description": "Telesante FHIR R4 façade", "url": f"{base_url}/fhir/R4"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "implementationGuide": ["https://hl7.fr/ig/fhir/core"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer API token or a logged-in session; anonymous calls get 401."
                },
                "resource": resources,
                "interaction": [{"code": "batch"}, {"code": "transaction"}],
            }
        ],
    }
    # R4B validates the same shape; the statement itself declares 4.0.1.
    CapabilityStatement.model_validate({**statement, "fhirVersion": "4.3.0"})
    return statement
