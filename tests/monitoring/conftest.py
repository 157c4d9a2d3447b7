"""A diabetic patient enrolled in télésurveillance by a doctor, watched by a team of two, with a CGM."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response

from telesante.db import utcnow
from tests.fixtures.acts import record_consent
from tests.fixtures.world import Person, World

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
FHIR_JSON = "application/fhir+json"


@dataclass
class Followed:
    doctor: Person  # prescriber and first operator
    second: Person  # second operator, called when nobody acknowledges
    patient: Person
    program_id: str
    device_id: str
    token: str  # the CGM's token

    @property
    def device_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": FHIR_JSON}


async def consent(client: AsyncClient, doctor: Person, patient_id: str) -> None:
    information = "Télésurveillance du diabète expliquée : données, alertes, équipe."
    await record_consent(client, doctor, patient_id, "telemonitoring", information)


async def enrol(
    client: AsyncClient, doctor: Person, patient_id: str, team: list[str], **extra: Any
) -> Response:
    return await client.post(
        "/api/monitoring/programs",
        headers=doctor.headers,
        json={
            "patient_id": patient_id,
            "indication": "diabetes",
            "operator_team": team,
            # Started two hours ago, so readings of the last two hours count for alerts.
            "starts_at": (utcnow() - timedelta(hours=2)).isoformat(),
            "duration_days": 90,
            **extra,
        },
    )


async def register_device(
    client: AsyncClient, doctor: Person, program_id: str, kind: str = "cgm"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/monitoring/programs/{program_id}/devices",
        headers=doctor.headers,
        json={"kind": kind, "model": "Dexcom G7", "serial": f"SN-{program_id[:8]}-{kind}"},
    )
    assert response.status_code == 201, response.text
    device: dict[str, Any] = response.json()
    return device


@pytest.fixture
async def followed(client: AsyncClient, world: World) -> Followed:
    doctor = await world.professional("Martin")
    second = await world.professional("Bernard")
    patient = await world.patient(doctor, family="Lefebvre", given="Paul", sex="M", with_account=True)
    assert isinstance(patient, Person) and patient.patient is not None
    await consent(client, doctor, patient.patient.id)
    assert doctor.professional is not None and second.professional is not None
    response = await enrol(
        client, doctor, patient.patient.id, [doctor.professional.id, second.professional.id]
    )
    assert response.status_code == 201, response.text
    program_id = response.json()["id"]
    device = await register_device(client, doctor, program_id)
    return Followed(doctor, second, patient, program_id, device["id"], device["token"])


def ago(**delta: float) -> datetime:
    return utcnow() - timedelta(**delta)


def glucose(value: float, at: datetime, unit: str = "mg/dL", code: str = "99504-3") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": at.isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def blood_pressure(systolic: float, diastolic: float, at: datetime) -> dict[str, Any]:
    def component(code: str, value: float) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        }

    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "effectiveDateTime": at.isoformat(),
        "component": [component("8480-6", systolic), component("8462-4", diastolic)],
    }


def bundle(kind: str, *resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in resources],
    }


def api_secret(token: str, algorithm: str = "sha1") -> dict[str, str]:
    """What a Nightscout uploader sends: the hex digest of its API_SECRET."""
    return {"api-secret": hashlib.new(algorithm, token.encode()).hexdigest()}


async def send(client: AsyncClient, followed: Followed, *resources: dict[str, Any]) -> Response:
    """Each resource on its own POST /Observation; returns the last answer."""
    response = None
    for resource in resources:
        response = await client.post("/fhir/R4/Observation", headers=followed.device_headers, json=resource)
        assert response.status_code in (200, 201), response.text
    assert response is not None
    return response


async def alerts(client: AsyncClient, person: Person, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/monitoring/alerts", headers=person.headers, params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def measurements(client: AsyncClient, followed: Followed) -> list[dict[str, Any]]:
    assert followed.patient.patient is not None
    response = await client.get(
        f"/api/monitoring/patients/{followed.patient.patient.id}/measurements",
        headers=followed.doctor.headers,
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found
