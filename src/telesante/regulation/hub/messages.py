"""Hub Santé contents built from the room's rows, and the reverse for a DRM another SAMU shares.

Each builder returns the use case's root ({"createCaseHealth": {…}}); the outbox validates it
against its hubsante-model model before anything is queued. Codes the room keeps as free text
(the motive, what happens) travel where the models allow free text; only Hub codes go into coded
fields.
"""

import re
from datetime import datetime
from typing import Any

from telesante.regulation.codes import PERIMETERS
from telesante.regulation.hub.envelope import hub_time
from telesante.regulation.hub.kinds import Failure
from telesante.regulation.models import Bilan, Decision, MedicalNote, RegulationFile, Resource

# ANS's converter uses this code when a system has no "nature de fait" of its own to send.
UNKNOWN_WHATS_HAPPEN = {"code": "C11.06.00", "label": "Autre nature de fait"}
# The CISU nomenclatures the 0.1.1 models' codes come from (the Hub's own RC-EDA samples say 1.3).
NOMENCLATURE_VERSION = "1.3"
MOTIVE_KEY = "motif"
HEALTH_MOTIVE = re.compile(r"^(M\d{2}\.\d{2})\s*(.*)$")  # "M03.03 Saignements…" is a Hub code
# The room's caller types that the Hub spells differently.
CALLER_TO_HUB = {"PROFSANTE": "SANTE"}
CALLER_FROM_HUB = {"SUJET": "SUJET", "FAMILLE": "FAMILLE", "TIERS": "TIERS", "SANTE": "PROFSANTE"}
COMMUNICATION = frozenset(
    {"AUCUNE", "MUET", "VISION", "LANGUE", "PANIQUE", "HOSTILE", "AGITE", "AUTRE", "IMPOSS"}
)
# hubsante-model 0.1.1 spells the private ambulance "TSU " (ANS's converter maps it so too).
RESOURCE_TYPE_TO_HUB = {"TSU": "TSU "}
CREW_ROLES = {"MED": "MEDECIN", "PARAMED": "INFIRMIER", "SECOURS": "AMBULANCIER"}
# The crew's vitals (missions.BilanIn) as RS-BPV parameters, with their unit.
VITALS = {
    "heart_rate": ("FREQUENCE_CARDIAQUE", "/min"),
    "respiratory_rate": ("FREQUENCE_RESPIRATOIRE", "/min"),
    "spo2": ("SATURATION_OXYGENE", "%"),
    "temperature": ("TEMPERATURE", "°C"),
    "glasgow": ("GLASGOW", None),
    "glucose_mg_dl": ("HEMOGLOCOTEST", "mg/dL"),
}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Without the empty parts: the models' optional fields are left out, not sent as null."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _clean(value)
        elif isinstance(value, list):
            value = [_clean(item) if isinstance(item, dict) else item for item in value]
        if value not in (None, {}, []):
            out[key] = value
    return out


def local_case_number(case_id: str) -> str:
    return case_id.rsplit(".", 1)[-1]


def patient_id(file: RegulationFile, sender: str) -> str:
    return f"{sender}.patient.{local_case_number(file.case_id)}.1"


def phone(number: str | None) -> str | None:
    """+{country code}{number}, as the Hub wants it; French numbers get +33."""
    if not number:
        return None
    digits = re.sub(r"[\s.]", "", number)
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0") and len(digits) == 10:
        return "+33" + digits[1:]
    return digits


def create_case_health(
    file: RegulationFile, notes: list[MedicalNote], decisions: list[Decision], *, sender: str
) -> dict[str, Any]:
    """RS-EDA: the whole DRM for another SAMU."""
    has_patient = any((file.patient_name, file.patient_age is not None, file.patient_sex))
    patient = patient_id(file, sender) if has_patient else None
    case = {
        "caseId": file.case_id,
        "senderCaseId": local_case_number(file.case_id),
        "creation": hub_time(file.created_at),
        "perimeter": file.perimeter,
        "qualification": _qualification(file),
        "location": _location(file),
        "initialAlert": _alert(file),
        "owner": sender,
        "patient": [_patient(file, patient)] if patient else None,
        "medicalNote": [_note(note, sender, patient) for note in notes],
        "decision": [_decision(decision, patient) for decision in decisions],
        "additionalInformation": _custom(file),
    }
    # The location is required, even when nothing of it is known yet.
    return {"createCaseHealth": {"location": {}} | _clean(case)}


def _qualification(file: RegulationFile) -> dict[str, Any]:
    attribution = None
    if file.regulator_id:
        attribution = "DRM.MRL" if file.perimeter == "SNP" else "DRM.MRU"
    return {
        "origin": {"SAS": "116117"}.get(file.origin, file.origin),  # the SAS line's number
        "healthMotive": _coded_motive(file.motive),
        "details": {
            "status": file.state,
            "attribution": attribution,
            "priority": file.priority,
            "careLevel": file.care_level,
        },
    }


def _coded_motive(motive: str | None) -> dict[str, str] | None:
    match = HEALTH_MOTIVE.match(motive or "")
    if match is None:
        return None
    return {"code": match[1], "label": match[2] or match[1]}


def _custom(file: RegulationFile) -> dict[str, Any] | None:
    """A free-text motive has no Hub code: it travels in the models' custom map."""
    if not file.motive or _coded_motive(file.motive):
        return None
    return {"customMap": [{"key": MOTIVE_KEY, "label": "Motif de recours", "value": file.motive}]}


def _location(file: RegulationFile) -> dict[str, Any]:
    return {
        "detailedAddress": {"complete": file.address} if file.address else None,
        "city": {"name": file.city},
        "geometry": _geometry(file),
        "freetext": file.access_details,
    }


def _geometry(file: RegulationFile) -> dict[str, Any] | None:
    if file.latitude is None or file.longitude is None:
        return None
    coord = {"lat": file.latitude, "lon": file.longitude, "precision": "INCONNUE"}
    return {"datetime": hub_time(file.created_at), "point": {"coord": coord}}


def _alert(file: RegulationFile) -> dict[str, Any] | None:
    """The caller, and what happens as the alert's note; the Hub requires a contact to send it."""
    number = phone(file.caller_phone)
    if number is None:
        return None
    issue = (file.communication_issue or "").upper()
    caller = {
        "callerContact": {"channel": "PERSONNE", "type": "TEL", "detail": number},
        "language": file.caller_language,
        "type": CALLER_TO_HUB.get(file.caller_type or "", file.caller_type),
        "communication": issue if issue in COMMUNICATION else ("AUTRE" if issue else None),
        "freetext": None if issue in COMMUNICATION else file.communication_issue,
        "detailedName": {"complete": file.caller_name} if file.caller_name else None,
    }
    notes = (
        [{"creation": hub_time(file.received_at), "freetext": file.whats_happen}]
        if file.whats_happen
        else None
    )
    return {"reception": hub_time(file.received_at), "caller": caller, "notes": notes}


def _patient(file: RegulationFile, patient: str) -> dict[str, Any]:
    return {
        "patientId": patient,
        "identity": {
            "nonStrictFeatures": {"complete": file.patient_name} if file.patient_name else None,
            "strictFeatures": {"sex": file.patient_sex},
        },
        "detail": {"age": f"P{file.patient_age}Y" if file.patient_age is not None else None},
    }


def _note(note: MedicalNote, sender: str, patient: str | None) -> dict[str, Any]:
    return {
        "medicalNoteId": f"{sender}.medicalNote.{note.id}",
        "operator": {"role": note.role},
        "creation": hub_time(note.created_at),
        "freetext": note.text,
        "patientId": patient,
    }


def _decision(decision: Decision, patient: str | None) -> dict[str, Any]:
    resource_type = decision.resource_type
    return {
        "patientId": patient,
        "creation": hub_time(decision.decided_at),
        "operator": {"role": "MEDECIN"},  # decisions are the regulator's
        "decisionType": decision.kind,
        "resourceType": RESOURCE_TYPE_TO_HUB.get(resource_type or "", resource_type),
        "medicalTransport": decision.medical_transport,
        "orientationType": decision.orientation,
        "destination": {"freetext": decision.destination} if decision.destination else None,
    }


def create_case(file: RegulationFile) -> dict[str, Any]:
    """RC-EDA: what fire services need to act (where, which emergency), no medical content."""
    case = {
        "caseId": file.case_id,
        "senderCaseId": local_case_number(file.case_id),
        "creation": hub_time(file.created_at),
        "referenceVersion": NOMENCLATURE_VERSION,
        "qualification": {"whatsHappen": UNKNOWN_WHATS_HAPPEN, "healthMotive": _coded_motive(file.motive)},
        "location": {
            "locID": file.id,
            "country": "FR",
            "detailedAddress": {"complete": file.address} if file.address else None,
            "city": {"name": file.city},
            "geometry": _geometry(file),
        },
    }
    return {"createCase": _clean(case)}


def resources_status(
    file: RegulationFile, resource: Resource, status: str, at: datetime, *, sender: str
) -> dict[str, Any]:
    """RS-SR: a resource engaged on a shared file changed status."""
    state = {"datetime": hub_time(at), "status": status, "availability": resource.available}
    return {
        "resourcesStatus": {
            "caseId": file.case_id,
            "resourceId": f"{sender}.resource.{resource.id}",
            "state": state,
        }
    }


def intervention_report(file: RegulationFile, bilan: Bilan, resource: Resource) -> dict[str, Any]:
    """RS-BPV: the crew's bilan (vitals, observations) on a shared file."""
    given, _, family = (file.patient_name or "").strip().rpartition(" ")
    patient = {
        "patientId": f"{file.case_id}.P01",
        "lastName": family or "Inconnu",
        "firstName": given or "Inconnu",
        "sex": file.patient_sex,
        "age": f"P{file.patient_age}Y" if file.patient_age is not None else None,
    }
    report = {
        "caseId": file.case_id,
        "reportId": bilan.id,
        "redactor": {"label": resource.name, "role": CREW_ROLES.get(resource.team_level or "", "AUTRE")},
        "creation": hub_time(bilan.created_at),
        "patient": patient,
        "evaluation": {
            "parameter": _vitals(bilan.vitals),
            "freetext": [bilan.observations] if bilan.observations else None,
        },
    }
    return {"interventionReport": _clean(report)}


def _vitals(vitals: dict[str, Any]) -> list[dict[str, str]]:
    found = [
        {"type": code, "value": str(vitals[name]), "precision": unit}
        for name, (code, unit) in VITALS.items()
        if name in vitals
    ]
    if "systolic" in vitals and "diastolic" in vitals:
        pressure = f"{vitals['systolic']}/{vitals['diastolic']}"
        found.append({"type": "PRESSION_ARTERIELLE", "value": pressure, "precision": "mm[Hg]"})
    return [_clean(item) for item in found]


def reference(distribution_id: str) -> dict[str, Any]:
    """RC-REF: the message was received and integrated."""
    return {"reference": {"distributionID": distribution_id, "step": "RECU"}}


def error(failure: Failure, cause: str, distribution_id: str) -> dict[str, Any]:
    """RS-ERROR: why a message was refused."""
    return {
        "error": {
            "errorCode": {"statusCode": failure.value, "statusString": failure.name},
            "errorCause": cause,
            "referencedDistributionID": distribution_id,
        }
    }


def file_fields(case: dict[str, Any]) -> dict[str, Any]:
    """The RegulationFile columns a received RS-EDA fills (`case`: its validated createCaseHealth)."""
    qualification = case.get("qualification") or {}
    details = qualification.get("details") or {}
    alert = case.get("initialAlert") or {}
    return {
        "case_id": case["caseId"],
        "perimeter": case.get("perimeter") if case.get("perimeter") in PERIMETERS else "AMU",
        "priority": details.get("priority") or "P2",  # the Hub's default priority
        "care_level": details.get("careLevel"),
        "motive": _motive_of(case),
        "whats_happen": _alert_text(alert),
        "received_at": datetime.fromisoformat(alert.get("reception") or case["creation"]),
        **_place_of(case.get("location") or {}),
        **_caller_of(alert.get("caller") or {}),
        **_patient_of((case.get("patient") or [{}])[0]),
    }


def _alert_text(alert: dict[str, Any]) -> str | None:
    texts = [note["freetext"] for note in alert.get("notes") or [] if note.get("freetext")]
    return "\n".join(texts) or None


def _motive_of(case: dict[str, Any]) -> str | None:
    coded = (case.get("qualification") or {}).get("healthMotive")
    if coded:
        return f"{coded['code']} {coded['label']}"[:200]
    custom = (case.get("additionalInformation") or {}).get("customMap") or []
    return next((item["value"][:200] for item in custom if item["key"] == MOTIVE_KEY), None)


def _place_of(location: dict[str, Any]) -> dict[str, Any]:
    coord = ((location.get("geometry") or {}).get("point") or {}).get("coord") or {}
    city = (location.get("city") or {}).get("name")
    return {
        "address": (location.get("detailedAddress") or {}).get("complete"),
        "city": city[:120] if city else None,
        "latitude": coord.get("lat"),
        "longitude": coord.get("lon"),
        "access_details": location.get("freetext"),
    }


def _caller_of(caller: dict[str, Any]) -> dict[str, Any]:
    kind = caller.get("type")
    return {
        "caller_phone": (caller.get("callerContact") or {}).get("detail"),
        "caller_name": (caller.get("detailedName") or {}).get("complete"),
        "caller_type": CALLER_FROM_HUB.get(kind.split(".")[0], "AUTRE") if kind else None,
        "caller_language": caller.get("language"),
        "communication_issue": caller.get("communication"),
    }


def _patient_of(patient: dict[str, Any]) -> dict[str, Any]:
    identity = patient.get("identity") or {}
    strict = identity.get("strictFeatures") or {}
    name = (identity.get("nonStrictFeatures") or {}).get("complete") or strict.get("birthName")
    age = re.match(r"^P(\d+)([YMWD])$", (patient.get("detail") or {}).get("age") or "")
    return {
        "patient_name": name[:200] if name else None,
        "patient_sex": strict.get("sex"),
        "patient_age": (int(age[1]) if age[2] == "Y" else 0) if age else None,
    }


def shared_notes(case: dict[str, Any]) -> list[tuple[str, str]]:
    """The sender's observations, as (Hub operator role, text), in the sender's order."""
    return [(note["operator"]["role"], note["freetext"]) for note in case.get("medicalNote") or []]
