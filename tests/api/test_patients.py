"""Registering patients, the INS rules, and who may read them."""

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from sqlalchemy import text, update

from telesante.identifiers.systems import INS_NIR_TEST
from telesante.patients.models import CareRelation
from telesante.runtime import Runtime
from tests.fixtures.world import World

PROBLEM = "application/problem+json"


def body(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "ins": {"matricule": "2 90 12 2A 004 015 78", "oid": INS_NIR_TEST},
        "identity_status": "QUAL",
        "birth_family_name": "Santoni",
        "birth_given_names": "Maria Antonia",
        "sex": "F",
        "birth_date": "1990-12-01",
        "birth_place_code": "2A004",
    }
    data.update(overrides)
    return data


async def test_a_professional_registers_a_corsican_patient_and_cares_for_them(
    client: AsyncClient, world: World
) -> None:
    doctor = await world.professional()
    created = await client.post("/api/patients", json=body(), headers=doctor.headers)
    assert created.status_code == 201, created.text
    patient = created.json()
    assert patient["ins"] == {"matricule": "290122A00401578", "oid": INS_NIR_TEST}
    assert patient["display_name"] == "Maria SANTONI"

    read = await client.get(f"/api/patients/{patient['id']}", headers=doctor.headers)
    assert read.status_code == 200
    timeline = await client.get(f"/api/patients/{patient['id']}/timeline", headers=doctor.headers)
    assert sorted(e["kind"] for e in timeline.json()) == ["care_relation", "identity"]


async def test_an_invalid_nir_gets_a_422_naming_the_field(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    response = await client.post(
        "/api/patients", json=body(ins={"matricule": "2 90 12 2A 004 015 51"}), headers=doctor.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == "body.ins.matricule"
    assert "key" in problem["errors"][0]["reason"]


async def test_nir_contradicting_the_traits_is_refused(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    response = await client.post("/api/patients", json=body(sex="M"), headers=doctor.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "ins.matricule", "reason": "the NIR's sex digit 2 contradicts sex M"}
    ]
    response = await client.post("/api/patients", json=body(birth_date="1991-12-01"), headers=doctor.headers)
    assert response.status_code == 422
    assert "birth year" in response.json()["detail"]


async def test_a_duplicate_ins_is_refused_and_nothing_is_written(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    assert (await client.post("/api/patients", json=body(), headers=doctor.headers)).status_code == 201
    again = await client.post("/api/patients", json=body(birth_family_name="Autre"), headers=doctor.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    async with runtime.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM patients"))).scalar_one() == 1


async def test_retrieved_identity_needs_its_ins(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    response = await client.post("/api/patients", json=body(ins=None), headers=doctor.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ins"
    provisional = await client.post(
        "/api/patients", json=body(ins=None, identity_status="PROV"), headers=doctor.headers
    )
    assert provisional.status_code == 201


async def test_another_professionals_patient_is_invisible_and_the_attempt_audited(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor, stranger = await world.professional(), await world.professional("Inconnu")
    patient = await world.patient(doctor)
    missing = await client.get("/api/patients/00000000-0000-0000-0000-000000000000", headers=stranger.headers)
    for path in ("", "/timeline", "/care-relations"):
        response = await client.get(f"/api/patients/{patient.id}{path}", headers=stranger.headers)
        assert response.status_code == 404
        # The same answer as for a patient who does not exist: nothing leaks.
        assert response.json()["detail"] == missing.json()["detail"]
    search = await client.get("/api/patients", params={"name": "Durand"}, headers=stranger.headers)
    assert search.json() == []
    async with runtime.engine.connect() as conn:
        denied = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM audit_events "
                    "WHERE outcome = 'denied' AND patient_id = :p AND actor_user_id = :u"
                ),
                {"p": patient.id, "u": stranger.user.id},
            )
        ).scalar_one()
    assert denied == 3


async def test_reads_are_audited_with_who_what_and_when(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    await client.get(f"/api/patients/{patient.id}", headers=doctor.headers)
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT actor_role, action, resource_type, outcome, at FROM audit_events "
                    "WHERE patient_id = :p AND action = 'read'"
                ),
                {"p": patient.id},
            )
        ).one()
    assert row[:4] == ("professional", "read", "Patient", "success")
    assert row[4] is not None


async def test_the_care_team_grants_access_and_an_ended_relation_revokes_it(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor, nurse = await world.professional(), await world.professional("Petit", "nurse", None)
    patient = await world.patient(doctor)
    assert (await client.get(f"/api/patients/{patient.id}", headers=nurse.headers)).status_code == 404
    added = await client.post(
        f"/api/patients/{patient.id}/care-relations",
        headers=doctor.headers,
        json={"professional_id": nurse.professional.id, "reason": "care_team"},
    )
    assert added.status_code == 201, added.text
    assert (await client.get(f"/api/patients/{patient.id}", headers=nurse.headers)).status_code == 200
    async with runtime.sessionmaker() as db:
        await db.execute(
            update(CareRelation)
            .where(CareRelation.professional_id == nurse.professional.id)
            .values(ends_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await db.commit()
    assert (await client.get(f"/api/patients/{patient.id}", headers=nurse.headers)).status_code == 404


async def test_declaring_the_gp_of_record_replaces_the_previous_one(
    client: AsyncClient, world: World
) -> None:
    doctor, other = await world.professional(), await world.professional("Lemaire")
    patient = await world.patient(doctor)
    for gp in (doctor, other):
        response = await client.post(
            f"/api/patients/{patient.id}/care-relations",
            headers=doctor.headers,
            json={"professional_id": gp.professional.id, "reason": "gp_of_record"},
        )
        assert response.status_code == 201
    relations = (
        await client.get(f"/api/patients/{patient.id}/care-relations", headers=doctor.headers)
    ).json()
    current_gp = [r for r in relations if r["reason"] == "gp_of_record" and r["ends_at"] is None]
    assert [r["professional_id"] for r in current_gp] == [other.professional.id]
    read = await client.get(f"/api/patients/{patient.id}", headers=doctor.headers)
    assert read.json()["gp_of_record_id"] == other.professional.id


async def test_a_patient_sees_their_own_record_only(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    me = await world.patient(doctor, with_account=True)
    other = await world.patient(doctor, family="Leroy")
    assert (await client.get(f"/api/patients/{me.patient.id}", headers=me.headers)).status_code == 200
    assert (await client.get(f"/api/patients/{other.id}", headers=me.headers)).status_code == 404
    search = await client.get("/api/patients", headers=me.headers)
    assert [p["id"] for p in search.json()] == [me.patient.id]
    refused = await client.post("/api/patients", json=body(), headers=me.headers)
    assert refused.status_code == 403


async def test_an_administrator_reads_no_clinical_data(client: AsyncClient, world: World) -> None:
    doctor, admin = await world.professional(), await world.admin()
    patient = await world.patient(doctor)
    assert (await client.get(f"/api/patients/{patient.id}", headers=admin.headers)).status_code == 404
    assert (await client.get("/api/patients", headers=admin.headers)).json() == []


async def test_search_by_name_birth_date_and_ins(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    helene = await world.patient(doctor, family="Hélène-Dubois", given="Zoé")
    await world.patient(doctor, family="Leroy")
    by_name = await client.get("/api/patients", params={"name": "helene"}, headers=doctor.headers)
    assert [p["id"] for p in by_name.json()] == [helene.id]
    by_birth = await client.get("/api/patients", params={"birth_date": "1985-05-17"}, headers=doctor.headers)
    assert len(by_birth.json()) == 2
    by_ins = await client.get("/api/patients", params={"ins": helene.ins_matricule}, headers=doctor.headers)
    assert [p["id"] for p in by_ins.json()] == [helene.id]
    bad = await client.get("/api/patients", params={"birth_date": "17/05/1985"}, headers=doctor.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.birth_date"


async def test_anonymous_and_forged_tokens_are_refused(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    anonymous = await client.get(f"/api/patients/{patient.id}")
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
    forged = await client.get(f"/api/patients/{patient.id}", headers={"Authorization": "Bearer ts_forged"})
    assert forged.status_code == 401
