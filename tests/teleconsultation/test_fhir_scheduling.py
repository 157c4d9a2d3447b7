"""FHIR Schedule, Slot, Appointment and Encounter of téléconsultations."""

from datetime import timedelta

from httpx import AsyncClient

from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.teleconsultation.conftest import Practice, next_slot
from tests.teleconsultation.test_waiting_room import booked_in, consent


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
    read = await client.get(f"/fhir/R4/Appointment/{appointment['id']}", headers=practice.doctor.headers)
    assert read.status_code == 200 and read.json()["id"] == appointment["id"]
    # Booked, not held: no Encounter yet; a stranger cannot tell it exists either.
    for who in (practice.doctor, stranger):
        encounter = await client.get(f"/fhir/R4/Encounter/{appointment['id']}", headers=who.headers)
        assert encounter.status_code == 404 and encounter.json()["resourceType"] == "OperationOutcome"
    assert (
        await client.get(f"/fhir/R4/Appointment/{appointment['id']}", headers=stranger.headers)
    ).status_code == 404


async def test_an_encounter_is_read_by_id_once_the_call_started(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await booked_in(client, world, runtime, practice, minutes=5)
    await consent(client, me)
    url = f"/api/teleconsultations/{appointment_id}"
    assert (await client.post(f"{url}/waiting-room", headers=me.headers)).status_code == 200  # type: ignore[attr-defined]
    assert (await client.post(f"{url}/admit", headers=practice.doctor.headers)).status_code == 200
    encounter = await client.get(f"/fhir/R4/Encounter/{appointment_id}", headers=me.headers)  # type: ignore[attr-defined]
    assert encounter.status_code == 200, encounter.text
    body = encounter.json()
    assert body["status"] == "in-progress" and body["subject"]["reference"] == f"Patient/{me.patient.id}"  # type: ignore[attr-defined]
