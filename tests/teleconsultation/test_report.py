"""The compte rendu: drafted during or after the call, signed and locked, on the timeline, sent to the GP."""

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import update

from telesante.db import transaction, utcnow
from telesante.runtime import Runtime
from telesante.teleconsultation.models import Appointment
from tests.fixtures.world import World
from tests.teleconsultation.conftest import Practice, book

SECTIONS = {
    "motif": "Toux depuis 5 jours",
    "anamnese": "Pas de fièvre.",
    "examen": "Pas de dyspnée visible.",
    "conclusion": "Bronchite aiguë probable",
    "conduite": "Traitement symptomatique, revoir si fièvre.",
}


async def held_call(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> tuple[object, str]:
    me = await world.patient(practice.doctor, with_account=True)
    booked = await book(client, practice, me, timedelta(days=1))
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(
            update(Appointment).values(
                status="done",
                admitted_at=utcnow() - timedelta(minutes=12),
                ended_at=utcnow(),
                incidents=[{"kind": "reconnection", "at": utcnow().isoformat(), "detail": "ICE restart"}],
            )
        )
    return me, booked["id"]


async def test_draft_sign_lock_and_timeline(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await held_call(client, world, runtime, practice)
    url = f"/api/teleconsultations/{appointment_id}/report"
    no_conclusion = {**SECTIONS, "conclusion": ""}
    assert (await client.put(url, json=no_conclusion, headers=practice.doctor.headers)).status_code == 200
    assert (
        await client.get(url, headers=me.headers)
    ).status_code == 404  # a draft is not shown to the patient
    refused = await client.post(f"{url}/sign", headers=practice.doctor.headers)
    assert refused.status_code == 409 and "conclusion" in refused.json()["detail"]
    await client.put(url, json=SECTIONS, headers=practice.doctor.headers)
    signed = await client.post(f"{url}/sign", headers=practice.doctor.headers)
    assert signed.status_code == 200, signed.text
    frozen = signed.json()["record"]
    assert [p["role"] for p in frozen["participants"]] == ["professional", "patient"]
    assert frozen["incidents"][0]["kind"] == "reconnection" and frozen["admitted_at"] and frozen["ended_at"]
    locked = await client.put(url, json={**SECTIONS, "conclusion": "autre"}, headers=practice.doctor.headers)
    assert locked.status_code == 409
    mine = (await client.get(url, headers=me.headers)).json()
    assert mine["sections"]["conclusion"] == "Bronchite aiguë probable"
    timeline = (await client.get(f"/api/patients/{me.patient.id}/timeline", headers=me.headers)).json()
    assert any(
        e["title"] == "Compte rendu de téléconsultation" and "Bronchite" in e["summary"] for e in timeline
    )


async def test_the_report_reaches_the_gp_when_someone_else_wrote_it(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await held_call(client, world, runtime, practice)
    gp = await world.professional("Traitant")
    await client.post(
        f"/api/patients/{me.patient.id}/care-relations",
        headers=practice.doctor.headers,
        json={"professional_id": gp.professional.id, "reason": "gp_of_record"},
    )
    url = f"/api/teleconsultations/{appointment_id}/report"
    await client.put(url, json=SECTIONS, headers=practice.doctor.headers)
    await client.post(f"{url}/sign", headers=practice.doctor.headers)
    inbox = (await client.get("/api/notifications", headers=gp.headers)).json()
    assert inbox[0]["title"] == "Compte rendu de téléconsultation d'un de vos patients"
    assert inbox[0]["link"] == f"/teleconsultations/{appointment_id}/compte-rendu"
    # The médecin traitant reads the signed report and its PDF; a professional outside the care team cannot.
    pdf = await client.get(f"/api/teleconsultations/{appointment_id}/report.pdf", headers=gp.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    stranger = await world.professional("Inconnu")
    refused = await client.get(
        f"/api/teleconsultations/{appointment_id}/report.pdf", headers=stranger.headers
    )
    assert refused.status_code == 404


async def test_only_the_consulting_professional_writes_and_not_before_the_call(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me = await world.patient(practice.doctor, with_account=True)
    booked = await book(client, practice, me, timedelta(days=1))
    url = f"/api/teleconsultations/{booked['id']}/report"
    early = await client.put(url, json=SECTIONS, headers=practice.doctor.headers)
    assert early.status_code == 409
    assert (await client.put(url, json=SECTIONS, headers=me.headers)).status_code == 403
    stranger = await world.professional("Autre")
    assert (await client.put(url, json=SECTIONS, headers=stranger.headers)).status_code == 404
