"""The ordonnance as FHIR R4: one MedicationRequest per line, grouped by the public id, and
one MedicationDispense per dispensation. Only verified content is mapped (service.check).

Shaped after ANS ePrescription `fr-medicationrequest` (1.1.0-ballot) where it costs nothing
(authoredOn, requester, dosageInstruction); drugs are free text, as we hold no CIS/CIP codes.
"""

from typing import Any

from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest

from telesante.prescriptions.models import Dispensation, Prescription
from telesante.prescriptions.rules import NON_SUBSTITUTION

GROUP_SYSTEM = "https://telesante.fr/fhir/ordonnance"
NON_SUBSTITUTION_SYSTEM = "https://telesante.fr/fhir/CodeSystem/non-substitution"


def request_id(prescription: Prescription, line: int) -> str:
    return f"{prescription.id}-{line}"


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


def _medication(line: dict[str, Any]) -> dict[str, Any]:
    text = " ".join(str(line[k]) for k in ("drug", "dose", "form") if line.get(k))
    if line.get("dci"):
        text = f"{text} (DCI {line['dci']})" if text else str(line["dci"])
    return {"text": text}


def medication_requests(
    prescription: Prescription, content: dict[str, Any], dispensations: list[Dispensation]
) -> list[dict[str, Any]]:
    out = []
    for index, line in enumerate(content["lines"]):
        allowed = 1 + int(line["renewals"])
        done = sum(1 for d in dispensations if d.line == index)
        amounts = [line.get(k) for k in ("duration", "quantity")] + (
            [f"{line['packs']} boîte(s)"] if line.get("packs") else []
        )
        data: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": request_id(prescription, index),
            "status": "completed" if done >= allowed else "active",
            "intent": "order",
            "groupIdentifier": {"system": GROUP_SYSTEM, "value": prescription.public_id},
            "medicationCodeableConcept": _medication(line),
            "subject": {"reference": f"Patient/{prescription.patient_id}"},
            "authoredOn": content["issued_at"],
            "requester": {"reference": f"Practitioner/{prescription.prescriber_id}"},
            "dosageInstruction": [{"text": line["posology"]}],
            "dispenseRequest": {"numberOfRepeatsAllowed": int(line["renewals"])},
            "note": [{"text": " — ".join(str(a) for a in amounts if a)}],
        }
        if line.get("packs"):
            data["dispenseRequest"]["quantity"] = {"value": line["packs"], "unit": "boîte"}
        code = line.get("non_substitution")
        data["substitution"] = {"allowedBoolean": code is None}
        if code:
            data["substitution"]["reason"] = {
                "coding": [
                    {"system": NON_SUBSTITUTION_SYSTEM, "code": code, "display": NON_SUBSTITUTION[code]}
                ],
                "text": f"Non substituable ({code})",
            }
        out.append(_valid(MedicationRequest, data))
    return out


def medication_dispenses(
    prescription: Prescription, content: dict[str, Any], dispensations: list[Dispensation]
) -> list[dict[str, Any]]:
    out = []
    for dispensation in dispensations:
        data: dict[str, Any] = {
            "resourceType": "MedicationDispense",
            "id": dispensation.id,
            "status": "completed",
            "medicationCodeableConcept": _medication(content["lines"][dispensation.line]),
            "subject": {"reference": f"Patient/{prescription.patient_id}"},
            "performer": [{"actor": {"reference": f"Practitioner/{dispensation.pharmacist_id}"}}],
            "authorizingPrescription": [
                {"reference": f"MedicationRequest/{request_id(prescription, dispensation.line)}"}
            ],
            "whenHandedOver": dispensation.dispensed_at.isoformat(),
        }
        if dispensation.quantity:
            data["note"] = [{"text": f"Quantité délivrée : {dispensation.quantity}"}]
        out.append(_valid(MedicationDispense, data))
    return out
