"""Domain objects -> FHIR resources (fr-core profiles), validated before they leave."""

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole as FhirPractitionerRole

from telesante.directory.models import Organisation, Professional
from telesante.directory.professions import PROFESSION_LABELS, Profession
from telesante.identifiers import systems
from telesante.patients.models import Patient

GENDER = {"M": "male", "F": "female", "U": "unknown"}
BIRTH_PLACE_EXT = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE_EXT = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
BIRTH_LIST_GIVEN_EXT = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-birth-list-given-name"


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


def patient_resource(patient: Patient) -> dict[str, Any]:
    qualified = patient.identity_status == "QUAL" and patient.ins_matricule
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient.id,
        "meta": {"profile": [systems.PROFILE_PATIENT_INS if qualified else systems.PROFILE_PATIENT]},
        "extension": [_reliability(patient.identity_status)],
        "identifier": [],
        "name": [_official_name(patient)],
        "gender": GENDER[patient.sex],
        "birthDate": patient.birth_date.isoformat(),
        "telecom": [
            {"system": s, "value": v} for s, v in (("email", patient.email), ("phone", patient.phone)) if v
        ],
    }
    # The INS matricule may be sent only for a qualified identity (fr-core-patient-ins).
    if qualified and patient.ins_oid:
        data["identifier"].append(_ins_identifier(patient.ins_matricule or "", patient.ins_oid))
    if patient.used_family_name or patient.used_given_name:
        usual: dict[str, Any] = {
            "use": "usual",
            "family": patient.used_family_name or patient.birth_family_name,
        }
        if patient.used_given_name:
            usual["given"] = [patient.used_given_name]
        data["name"].append(usual)
    if patient.birth_place_code:
        data["extension"].append(
            {
                "url": BIRTH_PLACE_EXT,
                "valueAddress": {
                    "extension": [
                        {
                            "url": INSEE_CODE_EXT,
                            "valueCoding": {"code": patient.birth_place_code},
                        }
                    ]
                },
            }
        )
    if patient.gp_of_record_id:
        data["generalPractitioner"] = [{"reference": f"Practitioner/{patient.gp_of_record_id}"}]
    return _valid(FhirPatient, {k: v for k, v in data.items() if v != []})


def _reliability(status: str) -> dict[str, Any]:
    return {
        "url": systems.IDENTITY_RELIABILITY_EXT,
        "extension": [
            {
                "url": "identityStatus",
                "valueCoding": {"system": systems.IDENTITY_STATUS_SYSTEM, "code": status},
            }
        ],
    }


def _official_name(patient: Patient) -> dict[str, Any]:
    given = patient.birth_given_names.split()
    return {
        "use": "official",
        "family": patient.birth_family_name,
        "given": given[:1],
        "extension": [{"url": BIRTH_LIST_GIVEN_EXT, "valueString": patient.birth_given_names}],
    }


def _ins_identifier(matricule: str, oid: str) -> dict[str, Any]:
    return {
        "use": "temp" if oid == systems.INS_NIA else "official",
        "type": {"coding": [{"system": systems.INS_TYPE_SYSTEM, "code": systems.INS_TYPE_CODES[oid]}]},
        "system": oid,
        "value": matricule,
    }


def practitioner_resource(professional: Professional) -> dict[str, Any]:
    return _valid(
        FhirPractitioner,
        {
            "resourceType": "Practitioner",
            "id": professional.id,
            "meta": {"profile": [systems.PROFILE_PRACTITIONER]},
            "identifier": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                                "code": "RPPS",
                            }
                        ]
                    },
                    "system": systems.RPPS,
                    "value": professional.rpps,
                }
            ],
            "name": [
                {"use": "usual", "family": professional.family_name, "given": [professional.given_name]}
            ],
        },
    )


def practitioner_role_resource(
    role_id: str, professional: Professional, organisation: Organisation
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": role_id,
        "meta": {"profile": [systems.PROFILE_PRACTITIONER_ROLE]},
        "active": True,
        "practitioner": {
            "reference": f"Practitioner/{professional.id}",
            "display": professional.display_name,
        },
        "organization": {"reference": f"Organization/{organisation.id}", "display": organisation.name},
        "code": [
            {
                "coding": [{"system": "urn:telesante:profession", "code": professional.profession}],
                "text": PROFESSION_LABELS[Profession(professional.profession)],
            }
        ],
    }
    if professional.specialty:
        role["specialty"] = [{"text": professional.specialty}]
    return _valid(FhirPractitionerRole, role)


def organization_resource(organisation: Organisation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Organization",
        "id": organisation.id,
        "meta": {"profile": [systems.PROFILE_ORGANIZATION]},
        "name": organisation.name,
        "type": [{"coding": [{"system": "urn:telesante:organisation-kind", "code": organisation.kind}]}],
    }
    if organisation.finess:
        data["identifier"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                            "code": "FINEG",
                        }
                    ]
                },
                "system": systems.FINESS,
                "value": organisation.finess,
            }
        ]
    if organisation.city:
        data["address"] = [{"city": organisation.city, "country": "FR"}]
    return _valid(FhirOrganization, data)


def searchset(
    resources: list[dict[str, Any]], base: str, self_url: str, next_url: str | None
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return _valid(
        Bundle,
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        },
    )
