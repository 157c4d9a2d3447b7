"""The SAS GP line: the regulator offers the caller a GP's slot within 48 h, the médecin traitant
first, and books it in one click; the patient is told, the GP may see them for the act."""

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from telesante.db import transaction
from telesante.patients.models import Patient
from telesante.runtime import Runtime
from tests.fixtures.acts import open_agenda
from tests.fixtures.world import World
from tests.regulation.conftest import Room, ok, opened, taken
from tests.regulation.test_pages import browsing, post_form
from tests.web.test_login_and_pages import field


async def test_the_regulator_books_a_gp_slot_for_the_caller_in_one_click(
    client: AsyncClient, room: Room, world: World, runtime: Runtime
) -> None:
    family_gp = await world.professional("Traitant")
    other_gp = await world.professional("Aaron")  # first by name: the médecin traitant must still come first
    for gp in (family_gp, other_gp):
        await open_agenda(client, gp)
    assert room.patient.patient and family_gp.professional
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(
            update(Patient)
            .where(Patient.id == room.patient.patient.id)
            .values(gp_of_record_id=family_gp.professional.id)
        )
    file = await opened(client, room, priority="P2", perimeter="SNP", motive="Fièvre", patient_ins=room.ins)
    await taken(client, room, file["id"], by=room.gp)
    offers = ok(await client.get(f"/api/regulation/files/{file['id']}/sas-slots", headers=room.gp.headers))
    assert offers[0]["gp_of_record"] is True and offers[0]["professional_id"] == family_gp.professional.id
    assert {o["professional_id"] for o in offers} >= {family_gp.professional.id}
    pick = offers[0]
    body = {
        "professional_id": pick["professional_id"],
        "type_id": pick["type_id"],
        "starts_at": pick["starts_at"],
    }
    url = f"/api/regulation/files/{file['id']}/sas-booking"
    assert (
        await client.post(url, json=body, headers=room.urgentist.headers)
    ).status_code == 409  # not their file
    booked = ok(await client.post(url, json=body, headers=room.gp.headers), 201)
    assert [d["kind"] for d in booked["file"]["decisions"]] == ["ORIENT"]
    assert booked["file"]["decisions"][0]["details"].startswith("Rendez-vous SAS le ")
    assert (
        await client.post(url, json=body, headers=room.gp.headers)
    ).status_code == 409  # the slot is taken
    mine = ok(await client.get("/api/teleconsultations", headers=room.patient.headers))
    assert [a["id"] for a in mine] == [booked["appointment_id"]]
    patient_id = room.patient.patient.id
    assert (await client.get(f"/api/patients/{patient_id}", headers=family_gp.headers)).status_code == 200


async def test_an_unidentified_caller_cannot_be_booked(client: AsyncClient, room: Room, world: World) -> None:
    gp = await world.professional("Libre")
    await open_agenda(client, gp)
    file = await opened(client, room, priority="P3", perimeter="SNP")
    await taken(client, room, file["id"], by=room.gp)
    [first, *_] = ok(
        await client.get(f"/api/regulation/files/{file['id']}/sas-slots", headers=room.gp.headers)
    )
    body = {
        "professional_id": first["professional_id"],
        "type_id": first["type_id"],
        "starts_at": first["starts_at"],
    }
    refused = await client.post(
        f"/api/regulation/files/{file['id']}/sas-booking", json=body, headers=room.gp.headers
    )
    assert refused.status_code == 409 and "patient identifié" in refused.json()["detail"]


async def test_the_file_page_offers_the_slots_and_books_one_in_one_click(
    app: FastAPI, client: AsyncClient, room: Room, world: World, runtime: Runtime
) -> None:
    gp = await world.professional("Garde")
    await open_agenda(client, gp)
    file = await opened(
        client, room, priority="P2", perimeter="SNP", motive="Lombalgie", patient_ins=room.ins
    )
    await taken(client, room, file["id"], by=room.gp)
    async with browsing(app, runtime, room.gp) as http:
        page = (await http.get(f"/regulation/dossiers/{file['id']}")).text
        assert 'id="sas-offers"' in page and "Réserver" in page
        slot = {name: field(page, name) for name in ("professional_id", "type_id", "starts_at")}
        booked = await post_form(http, f"/regulation/dossiers/{file['id']}/rendez-vous", page, **slot)
        assert booked.status_code == 303
        again = await post_form(http, f"/regulation/dossiers/{file['id']}/rendez-vous", page, **slot)
        assert again.status_code == 409 and "créneau" in again.text  # the page again, with the reason
    seen = ok(await client.get(f"/api/regulation/files/{file['id']}", headers=room.gp.headers))
    assert seen["decisions"][0]["details"].startswith("Rendez-vous SAS le ")
    assert len(ok(await client.get("/api/teleconsultations", headers=room.patient.headers))) == 1
