"""FHIR Schedule, Slot, Appointment and Encounter of téléconsultations."""

from datetime import timedelta

from httpx import AsyncClient

from tests.fixtures.world import World
from tests.teleconsultation.conftest import Practice, next_slot


async def test_schedule_slots_and_the_patients_appointments(
    client: AsyncClient, world: World, practice: Practice
) -> None:
    me = await world.patient(practice.doctor, with_account=True)
    doctor_id = practice.doctor.professional.id
    schedule = (await client.get(f"/fhir/R4/Schedule/{doctor_id}", headers=me.headers)).json()
    assert schedule["actor"][0]["reference"] == f"Practitioner/{doctor_id}"
    slots = (
        await client.get(
            "/fhir/R4/Slot", params={"schedule": f"Schedule/{doctor_id}", "_count": 5}, headers=me.headers
        )
    ).json()
    assert len(slots["entry"]) == 5 and all(e["resource"]["status"] == "free" for e in slots["entry"])
    slot = await next_slot(client, practice, me, timedelta(days=1))
    await client.post(
        "/api/teleconsultations",
        headers=me.headers,
        json={
            "professional_id": doctor_id,
            "consultation_type_id": practice.type_id,
            "starts_at": slot.isoformat(),
        },
    )
    bundle = (
        await client.get("/fhir/R4/Appointment", params={"patient": me.patient.id}, headers=me.headers)
    ).json()
    [appointment] = [e["resource"] for e in bundle["entry"]]
    assert appointment["status"] == "booked"
    assert {p["actor"]["reference"] for p in appointment["participant"]} == {
        f"Patient/{me.patient.id}",
        f"Practitioner/{doctor_id}",
    }
    stranger = await world.professional("Autre")
    hidden = await client.get(
        "/fhir/R4/Appointment", params={"patient": me.patient.id}, headers=stranger.headers
    )
    assert hidden.status_code == 404
    no_schedule = await client.get("/fhir/R4/Slot", params={"schedule": "Schedule/nope"}, headers=me.headers)
    assert no_schedule.status_code == 422 and no_schedule.json()["resourceType"] == "OperationOutcome"
