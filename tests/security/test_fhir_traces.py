"""FHIR AuditEvent (for the patient and for auditors) and Consent."""

from httpx import AsyncClient

from telesante.auth import service as auth
from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.settings import get_settings
from tests.fixtures.world import PASSWORD, Person, World


async def auditor(runtime: Runtime) -> Person:
    async with transaction(runtime.sessionmaker) as db:
        user = await auth.create_user(db, email="dpo@test.telesante.fr", password=PASSWORD, role="auditor")
        token, _ = await auth.create_api_token(db, user, get_settings())
    return Person(user, token)


async def test_audit_events_for_the_patient_and_for_auditors_only(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    me = await world.patient(doctor, with_account=True)
    await client.get(f"/api/patients/{me.patient.id}", headers=doctor.headers)
    params = {"patient": f"Patient/{me.patient.id}"}
    mine = await client.get("/fhir/R4/AuditEvent", params=params, headers=me.headers)
    assert mine.status_code == 200 and mine.headers["content-type"] == "application/fhir+json"
    events = [e["resource"] for e in mine.json()["entry"]]
    doctor_read = [
        e for e in events if e["agent"][0]["who"]["display"] == "Dr Claire Martin" and e["action"] == "R"
    ]
    assert doctor_read and doctor_read[0]["entity"][0]["what"]["reference"] == f"Patient/{me.patient.id}"
    assert doctor_read[0]["agent"][0]["purposeOfUse"][0]["coding"][0]["code"] == "TREAT"

    dpo = await auditor(runtime)
    audited = await client.get("/fhir/R4/AuditEvent", params=params, headers=dpo.headers)
    assert audited.status_code == 200 and len(audited.json()["entry"]) >= len(events)
    assert (await client.get("/fhir/R4/AuditEvent", params=params, headers=doctor.headers)).status_code == 403
    assert (await client.get(f"/api/patients/{me.patient.id}", headers=dpo.headers)).status_code == 404
    missing = await client.get("/fhir/R4/AuditEvent", headers=dpo.headers)
    assert missing.status_code == 422 and missing.json()["resourceType"] == "OperationOutcome"


async def test_consents_as_fhir(client: AsyncClient, world: World) -> None:
    doctor, stranger = await world.professional(), await world.professional("Inconnu")
    patient = await world.patient(doctor)
    await client.post(
        f"/api/patients/{patient.id}/consents",
        headers=doctor.headers,
        json={
            "act": "telemonitoring",
            "method": "in_person",
            "information": "Programme de télésurveillance expliqué.",
        },
    )
    bundle = (
        await client.get("/fhir/R4/Consent", params={"patient": patient.id}, headers=doctor.headers)
    ).json()
    [consent] = [e["resource"] for e in bundle["entry"]]
    assert consent["status"] == "active" and consent["provision"]["type"] == "permit"
    assert consent["provision"]["code"][0]["coding"][0]["code"] == "telemonitoring"
    hidden = await client.get("/fhir/R4/Consent", params={"patient": patient.id}, headers=stranger.headers)
    assert hidden.status_code == 404
