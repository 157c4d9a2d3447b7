"""Bris de glace: emergency access with a reason, time-limited, audited and shown to the patient."""

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import update

from telesante.db import transaction, utcnow
from telesante.patients.models import BreakGlassGrant
from telesante.runtime import Runtime
from tests.fixtures.world import World

REASON = "Patient inconscient aux urgences, recherche d'allergies"


async def test_break_glass_opens_the_record_for_a_while_with_the_reason_shown_to_the_patient(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    gp, emergency = await world.professional(), await world.professional("Urgentiste")
    me = await world.patient(gp, with_account=True)
    patient = me.patient
    assert (await client.get(f"/api/patients/{patient.id}", headers=emergency.headers)).status_code == 404

    opened = await client.post(
        "/api/break-glass",
        headers=emergency.headers,
        json={"ins": patient.ins_matricule, "birth_date": patient.birth_date.isoformat(), "reason": REASON},
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["patient_id"] == patient.id
    assert (await client.get(f"/api/patients/{patient.id}", headers=emergency.headers)).status_code == 200

    log = (await client.get(f"/api/patients/{patient.id}/access-log", headers=me.headers)).json()
    emergency_reads = [e for e in log if e["purpose"] == "break_glass" and e["action"] == "a consulté"]
    assert emergency_reads and emergency_reads[0]["reason"] == REASON
    assert emergency_reads[0]["who"] == "Dr Claire Urgentiste" and emergency_reads[0]["role"] == "Médecin"
    inbox = (await client.get("/api/notifications", headers=me.headers)).json()
    assert inbox[0]["title"] == "Accès en urgence à votre dossier"

    async with transaction(runtime.sessionmaker) as db:
        await db.execute(update(BreakGlassGrant).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.get(f"/api/patients/{patient.id}", headers=emergency.headers)).status_code == 404


async def test_break_glass_needs_the_exact_ins_and_birth_date_and_a_reason(
    client: AsyncClient, world: World
) -> None:
    gp, emergency = await world.professional(), await world.professional("Urgentiste")
    patient = await world.patient(gp)
    wrong_birth = await client.post(
        "/api/break-glass",
        headers=emergency.headers,
        json={"ins": patient.ins_matricule, "birth_date": "2001-01-01", "reason": REASON},
    )
    assert wrong_birth.status_code == 404
    no_reason = await client.post(
        "/api/break-glass",
        headers=emergency.headers,
        json={"ins": patient.ins_matricule, "birth_date": patient.birth_date.isoformat(), "reason": "urgent"},
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "body.reason"


async def test_only_professionals_break_the_glass(client: AsyncClient, world: World) -> None:
    gp, admin = await world.professional(), await world.admin()
    me = await world.patient(gp, with_account=True)
    other = await world.patient(gp, family="Leroy")
    body = {"ins": other.ins_matricule, "birth_date": other.birth_date.isoformat(), "reason": REASON}
    for person in (admin, me):
        assert (await client.post("/api/break-glass", headers=person.headers, json=body)).status_code == 403


async def test_the_access_log_belongs_to_the_patient_and_their_carers(
    client: AsyncClient, world: World
) -> None:
    gp, stranger = await world.professional(), await world.professional("Inconnu")
    me = await world.patient(gp, with_account=True)
    other = await world.patient(gp, family="Leroy", with_account=True)
    await client.get(f"/api/patients/{me.patient.id}", headers=gp.headers)
    mine = (await client.get(f"/api/patients/{me.patient.id}/access-log", headers=me.headers)).json()
    assert any(e["who"] == "Dr Claire Martin" and e["action"] == "a consulté" for e in mine)
    for intruder in (other, stranger):
        response = await client.get(f"/api/patients/{me.patient.id}/access-log", headers=intruder.headers)
        assert response.status_code == 404
    refused = (await client.get(f"/api/patients/{me.patient.id}/access-log", headers=me.headers)).json()
    assert any(e["outcome"] == "denied" and e["who"] == "Dr Claire Inconnu" for e in refused)
