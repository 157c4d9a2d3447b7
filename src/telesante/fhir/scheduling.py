"""FHIR Schedule, Slot, Appointment and Encounter of téléconsultations (fr-core / ANS agenda guide)."""

from datetime import datetime, timedelta
from typing import Any

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.slot import Slot as FhirSlot

from telesante.directory.models import Professional
from telesante.teleconsultation.models import Appointment

FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"
STATUS = {
    "booked": "booked",
    "waiting": "arrived",
    "in_call": "fulfilled",
    "done": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
ENCOUNTER_STATUS = {"waiting": "arrived", "in_call": "in-progress", "done": "finished"}
VIRTUAL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR", "display": "virtual"}


def _dump(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


def schedule_resource(professional: Professional) -> dict[str, Any]:
    return _dump(
        FhirSchedule,
        {
            "resourceType": "Schedule",
            "id": professional.id,
            "meta": {"profile": [f"{FR_CORE}/fr-core-schedule"]},
            "active": True,
            "serviceType": [{"text": "Téléconsultation"}],
            "actor": [{"reference": f"Practitioner/{professional.id}", "display": professional.display_name}],
        },
    )


def slot_resource(professional_id: str, start: datetime, minutes: int) -> dict[str, Any]:
    return _dump(
        FhirSlot,
        {
            "resourceType": "Slot",
            "id": f"{professional_id[:8]}-{int(start.timestamp())}",
            "meta": {"profile": [f"{FR_CORE}/fr-core-slot"]},
            "schedule": {"reference": f"Schedule/{professional_id}"},
            "status": "free",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(),
        },
    )


def appointment_resource(appointment: Appointment) -> dict[str, Any]:
    return _dump(
        FhirAppointment,
        {
            "resourceType": "Appointment",
            "id": appointment.id,
            "meta": {"profile": [f"{FR_CORE}/fr-core-appointment"]},
            "status": STATUS[appointment.status],
            "serviceType": [{"text": "Téléconsultation"}],
            "start": appointment.starts_at.isoformat(),
            "end": appointment.ends_at.isoformat(),
            "participant": [
                {"actor": {"reference": f"Patient/{appointment.patient_id}"}, "status": "accepted"},
                {"actor": {"reference": f"Practitioner/{appointment.professional_id}"}, "status": "accepted"},
            ],
        },
    )


def encounter_resource(appointment: Appointment) -> dict[str, Any] | None:
    status = ENCOUNTER_STATUS.get(appointment.status)
    if status is None:
        return None
    period = {"start": (appointment.admitted_at or appointment.starts_at).isoformat()}
    if appointment.ended_at:
        period["end"] = appointment.ended_at.isoformat()
    return _dump(
        FhirEncounter,
        {
            "resourceType": "Encounter",
            "id": appointment.id,
            "meta": {"profile": [f"{FR_CORE}/fr-core-encounter"]},
            "status": status,
            "class": VIRTUAL,
            "subject": {"reference": f"Patient/{appointment.patient_id}"},
            "participant": [{"individual": {"reference": f"Practitioner/{appointment.professional_id}"}}],
            "appointment": [{"reference": f"Appointment/{appointment.id}"}],
            "period": period,
        },
    )
