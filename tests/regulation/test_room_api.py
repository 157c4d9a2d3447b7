"""The room through its API: a call comes in, the ARM opens and qualifies the file, the queue orders
it, a regulator takes it and decides, a crew follows its mission, the file is validated and closes.
"""

import asyncio
import re
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import select, update

from telesante.audit.models import AuditEvent
from telesante.db import transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.worker import Worker
from telesante.regulation.files import CLOSE_JOB, ESCALATE_JOB
from telesante.regulation.models import RegulationFile
from telesante.runtime import Runtime
from tests.prescriptions.conftest import complete_prescriber
from tests.regulation.conftest import TELEPHONY_SECRET, Room, ok, opened, taken

TELEPHONY = {"Authorization": f"Bearer {TELEPHONY_SECRET}"}


def event(room: Room, kind: str, call_id: str = "sip-0001", **extra: str) -> dict[str, str]:
    assert room.centre.finess
    return {"event": kind, "call_id": call_id, "centre_finess": room.centre.finess, "line": "15", **extra}


async def test_an_answered_call_opens_a_file_in_the_name_of_the_arm_once(
    client: AsyncClient, room: Room
) -> None:
    assert room.arm.professional
    post = "/api/regulation/telephony/events"
    assert (await client.post(post, json=event(room, "incoming"))).status_code == 401
    assert (
        await client.post(post, json=event(room, "incoming"), headers={"Authorization": "Bearer x"})
    ).status_code == 401
    ringing = ok(
        await client.post(post, json=event(room, "incoming", caller_number="0612345678"), headers=TELEPHONY),
        202,
    )
    assert ringing["state"] == "ringing" and ringing["file_id"] is None
    queue = ok(await client.get("/api/regulation/queue", headers=room.arm.headers))
    assert [c["line"] for c in queue["ringing"]] == ["15"]

    answered = event(room, "answered", agent_rpps=room.arm.professional.rpps)
    first = ok(await client.post(post, json=answered, headers=TELEPHONY), 202)
    again = ok(await client.post(post, json=answered, headers=TELEPHONY), 202)  # the connector retried
    assert first["file_id"] and again["file_id"] == first["file_id"]
    # The Hub's shared id: {country}.{domain}.{organisation}.{senderCaseId} (regulation.md §4).
    assert re.fullmatch(r"fr\.health\.samu\w+\.DRM\d{8}\d{5}", first["case_id"])
    file = ok(await client.get(f"/api/regulation/files/{first['file_id']}", headers=room.arm.headers))
    assert file["intake"]["caller_phone"] == "0612345678" and file["origin"] == "15"
    assert file["calls"][0]["answered_at"] is not None
    ended = ok(
        await client.post(
            post, json=event(room, "hung_up", recording_ref="rec://2026/11/sip-0001.wav"), headers=TELEPHONY
        ),
        202,
    )
    assert ended["state"] == "ended"
    file = ok(await client.get(f"/api/regulation/files/{first['file_id']}", headers=room.arm.headers))
    assert file["calls"][0]["recording_ref"].startswith(
        "rec://"
    )  # referenced; the audio stays in the telephony


async def test_calls_answered_at_once_get_one_number_each(client: AsyncClient, room: Room) -> None:
    """Racing ARMs: the unique case id settles it, the loser takes the next number."""
    assert room.arm.professional
    post = "/api/regulation/telephony/events"
    answered = [
        event(room, "answered", call_id=f"race-{i}", agent_rpps=room.arm.professional.rpps) for i in range(8)
    ]
    results = await asyncio.gather(*(client.post(post, json=body, headers=TELEPHONY) for body in answered))
    assert [r.status_code for r in results] == [202] * 8
    assert len({r.json()["case_id"] for r in results}) == 8


async def test_telephony_events_that_cannot_be_placed_are_refused(client: AsyncClient, room: Room) -> None:
    post = "/api/regulation/telephony/events"
    unknown_agent = event(room, "answered", call_id="sip-9", agent_rpps="10000000000")
    assert (await client.post(post, json=unknown_agent, headers=TELEPHONY)).status_code == 422
    no_agent = event(room, "answered", call_id="sip-10")
    assert (await client.post(post, json=no_agent, headers=TELEPHONY)).status_code == 422
    elsewhere = {**event(room, "incoming"), "centre_finess": "999999999"}
    assert (await client.post(post, json=elsewhere, headers=TELEPHONY)).status_code == 404
    malformed = {**event(room, "incoming"), "line": "18"}
    problem = await client.post(post, json=malformed, headers=TELEPHONY)
    assert problem.status_code == 422 and "line" in problem.text
    assert room.elsewhere.professional  # a regulator of another centre is no agent here
    foreign = event(room, "answered", call_id="sip-11", agent_rpps=room.elsewhere.professional.rpps)
    assert (await client.post(post, json=foreign, headers=TELEPHONY)).status_code == 422


async def test_the_queue_orders_by_priority_then_waiting_time(client: AsyncClient, room: Room) -> None:
    p2 = await opened(client, room, priority="P2", motive="Fièvre")
    p1_old = await opened(client, room, priority="P1", motive="Malaise")
    p1_new = await opened(client, room, priority="P1", motive="Chute")
    nr = await opened(client, room, priority="NR", motive="Renseignement")
    queue = ok(await client.get("/api/regulation/queue", headers=room.urgentist.headers))
    assert [f["id"] for f in queue["waiting"]] == [p1_old["id"], p1_new["id"], p2["id"]]
    assert nr["id"] not in [f["id"] for f in queue["waiting"]]  # no regulation act
    assert all(f["waiting_seconds"] >= 0 for f in queue["waiting"])
    await taken(client, room, p1_old["id"])
    queue = ok(await client.get("/api/regulation/queue", headers=room.gp.headers))
    assert [f["id"] for f in queue["waiting"]] == [p1_new["id"], p2["id"]]
    assert [f["regulator"] for f in queue["regulating"]] == ["Dr Claire Dupuis"]


async def test_a_p0_engages_the_nearest_reflex_resource_before_any_regulator(
    client: AsyncClient, room: Room
) -> None:
    file = await opened(
        client, room, priority="P0", motive="Arrêt cardio-respiratoire", latitude=45.77, longitude=4.87
    )
    [mission] = file["missions"]
    assert mission["reflex"] is True and mission["resource"]["vehicle_type"] == "SMUR.VLM"
    assert [h["status"] for h in mission["history"]] == ["DECISION", "DECLENCHE"]
    resources = ok(await client.get("/api/regulation/resources", headers=room.arm.headers))
    assert {r["vehicle_type"]: r["available"] for r in resources}["SMUR.VLM"] is False
    second = await opened(client, room, priority="P0", motive="Noyade")  # the SMUR is out: the VSAV goes
    assert second["missions"][0]["resource"]["vehicle_type"] == "SIS.VSAV"


async def test_a_reflex_crew_gets_its_link_from_the_room_and_a_new_one_replaces_it(
    client: AsyncClient, room: Room
) -> None:
    file = await opened(client, room, priority="P0", motive="Arrêt cardio-respiratoire")
    [mission] = file["missions"]
    url = f"/api/regulation/missions/{mission['id']}/link"
    assert (await client.post(url, headers=room.elsewhere.headers)).status_code == 404
    first = ok(await client.post(url, headers=room.arm.headers))["crew_link"]
    crew = {"Authorization": f"Bearer {first.split('#', 1)[1]}"}
    assert ok(await client.get("/api/regulation/crew/mission", headers=crew))["reflex"] is True
    second = ok(await client.post(url, headers=room.arm.headers))["crew_link"]
    assert second != first
    assert (await client.get("/api/regulation/crew/mission", headers=crew)).status_code == 401  # replaced
    fresh = {"Authorization": f"Bearer {second.split('#', 1)[1]}"}
    ok(await client.post("/api/regulation/crew/status", json={"status": "DEPART"}, headers=fresh))


async def test_the_arm_matches_the_patient_who_sees_it_on_their_record(
    client: AsyncClient, room: Room
) -> None:
    file = await opened(client, room)
    patch = {
        "patient_ins": room.ins,
        "patient_age": 41,
        "patient_sex": "F",
        "address": "12 rue Garibaldi",
        "access_details": "Digicode 4521, 3e étage",
        "caller_type": "FAMILLE",
    }
    updated = ok(
        await client.patch(f"/api/regulation/files/{file['id']}", json=patch, headers=room.arm.headers)
    )
    assert updated["patient_identified"] is True and updated["intake"]["access_details"].startswith(
        "Digicode"
    )
    assert room.patient.patient
    patient_id = room.patient.patient.id
    # The ARM links the identity; the record itself is not theirs to read.
    assert (await client.get(f"/api/patients/{patient_id}", headers=room.arm.headers)).status_code == 404
    timeline = ok(await client.get(f"/api/patients/{patient_id}/timeline", headers=room.patient.headers))
    assert any(entry["title"] == "Appel au SAMU – Centre 15" for entry in timeline)
    bad = await client.patch(
        f"/api/regulation/files/{file['id']}", json={"patient_age": 300}, headers=room.arm.headers
    )
    assert bad.status_code == 422


async def test_the_regulator_reads_the_record_through_a_traced_regulation_purpose(
    client: AsyncClient, room: Room, runtime: Runtime
) -> None:
    assert room.patient.patient
    patient_id = room.patient.patient.id
    file = await opened(client, room, patient_ins=room.ins)
    assert (
        await client.get(f"/api/patients/{patient_id}", headers=room.urgentist.headers)
    ).status_code == 404
    await taken(client, room, file["id"])
    assert (
        await client.get(f"/api/patients/{patient_id}", headers=room.urgentist.headers)
    ).status_code == 200
    async with runtime.sessionmaker() as db:
        purposes = set(
            await db.scalars(select(AuditEvent.purpose).where(AuditEvent.patient_id == patient_id))
        )
    assert "regulation" in purposes


async def test_one_regulator_per_file_and_only_regulators_regulate(client: AsyncClient, room: Room) -> None:
    file = await opened(client, room)
    arm_take = await client.post(f"/api/regulation/files/{file['id']}/take", headers=room.arm.headers)
    assert arm_take.status_code == 403
    await taken(client, room, file["id"])
    race = await client.post(f"/api/regulation/files/{file['id']}/take", headers=room.other_urgentist.headers)
    assert race.status_code == 409
    level = await client.put(
        f"/api/regulation/files/{file['id']}/care-level",
        json={"care_level": "R2"},
        headers=room.other_urgentist.headers,
    )
    assert level.status_code == 409  # not the file's regulator


async def test_decisions_engage_a_crew_who_follows_its_mission_and_sends_a_bilan(
    client: AsyncClient, room: Room
) -> None:
    file = await opened(client, room, address="3 place Bellecour")
    await taken(client, room, file["id"])
    note = {"text": "Douleur constrictive depuis 30 min, antécédent d'infarctus."}
    ok(
        await client.post(
            f"/api/regulation/files/{file['id']}/notes", json=note, headers=room.urgentist.headers
        ),
        201,
    )
    ok(
        await client.put(
            f"/api/regulation/files/{file['id']}/care-level",
            json={"care_level": "R2"},
            headers=room.urgentist.headers,
        )
    )
    inter = {"kind": "INTER", "resource_id": room.resources["TSU.AMB"], "details": "Ambulance pour bilan"}
    decided = ok(
        await client.post(
            f"/api/regulation/files/{file['id']}/decisions", json=inter, headers=room.urgentist.headers
        ),
        201,
    )
    link = decided["produced"]["crew_link"]
    crew = {"Authorization": f"Bearer {link.split('#', 1)[1]}"}
    again = await client.post(
        f"/api/regulation/files/{file['id']}/decisions", json=inter, headers=room.urgentist.headers
    )
    assert again.status_code == 409  # the ambulance is engaged

    mission = ok(await client.get("/api/regulation/crew/mission", headers=crew))
    assert mission["address"] == "3 place Bellecour" and "notes" not in mission  # where and why, not the file
    assert (
        await client.get("/api/regulation/crew/mission", headers={"Authorization": "Bearer forged"})
    ).status_code == 401
    for status in ["DEPART", "ARRIVEE", "PEC"]:
        ok(await client.post("/api/regulation/crew/status", json={"status": status}, headers=crew))
    backwards = await client.post("/api/regulation/crew/status", json={"status": "DEPART"}, headers=crew)
    assert backwards.status_code == 409
    assert (
        await client.post("/api/regulation/crew/status", json={"status": "ANNULE"}, headers=crew)
    ).status_code == 409
    bilan = {
        "heart_rate": 112,
        "systolic": 95,
        "diastolic": 60,
        "spo2": 93,
        "glasgow": 15,
        "observations": "Sueurs, douleur 8/10.",
    }
    assert (
        await client.post("/api/regulation/crew/bilan", json={**bilan, "spo2": 140}, headers=crew)
    ).status_code == 422
    assert (
        ok(await client.post("/api/regulation/crew/bilan", json=bilan, headers=crew), 201)["status"]
        == "BILAN"
    )

    orient = {
        "kind": "ORIENT",
        "orientation": "URGENCES",
        "destination": "Hôpital Édouard-Herriot",
        "medical_transport": True,
    }
    ok(
        await client.post(
            f"/api/regulation/files/{file['id']}/decisions", json=orient, headers=room.urgentist.headers
        ),
        201,
    )
    for status in ["TRANSP", "DESTIN", "FINPEC"]:
        ok(await client.post("/api/regulation/crew/status", json={"status": status}, headers=crew))
    seen = ok(await client.get(f"/api/regulation/files/{file['id']}", headers=room.urgentist.headers))
    assert [d["kind"] for d in seen["decisions"]] == ["INTER", "ORIENT"]
    assert seen["bilans"][0]["vitals"]["heart_rate"] == 112 and seen["notes"][0]["role"] == "MEDECIN"
    assert [h["status"] for h in seen["missions"][0]["history"]] == [
        "DECISION",
        "DECLENCHE",
        "DEPART",
        "ARRIVEE",
        "PEC",
        "BILAN",
        "TRANSP",
        "DESTIN",
        "FINPEC",
    ]
    resources = ok(await client.get("/api/regulation/resources", headers=room.urgentist.headers))
    assert {r["vehicle_type"]: r["available"] for r in resources}[
        "TSU.AMB"
    ] is True  # handed over: free again


async def test_decisions_say_what_is_missing(client: AsyncClient, room: Room) -> None:
    file = await opened(client, room)
    post = f"/api/regulation/files/{file['id']}/decisions"
    assert (
        await client.post(post, json={"kind": "CONSEIL"}, headers=room.urgentist.headers)
    ).status_code == 409  # not taken
    await taken(client, room, file["id"])
    orient = await client.post(post, json={"kind": "ORIENT"}, headers=room.urgentist.headers)
    assert orient.status_code == 422 and "orientation" in orient.text
    pmt = await client.post(
        post, json={"kind": "PMT", "prescription": [{"drug": "Paracétamol"}]}, headers=room.urgentist.headers
    )
    assert pmt.status_code == 409 and "patient identifié" in pmt.json()["detail"]
    assert (
        await client.post(post, json={"kind": "INTER"}, headers=room.urgentist.headers)
    ).status_code == 422
    assert (
        await client.post(post, json={"kind": "APPEL"}, headers=room.urgentist.headers)
    ).status_code == 422
    ok(
        await client.post(
            post,
            json={"kind": "CONSEIL", "details": "Surveillance, rappeler si aggravation"},
            headers=room.urgentist.headers,
        ),
        201,
    )


async def test_a_phone_prescription_is_a_real_signed_ordonnance(
    client: AsyncClient, room: Room, runtime: Runtime
) -> None:
    await complete_prescriber(runtime, room.gp)  # R5132-3 mentions: the regulator's e-mail, phone, city
    file = await opened(client, room, priority="P2", patient_ins=room.ins)
    await taken(client, room, file["id"], by=room.gp)
    line = {
        "drug": "Paracétamol",
        "dose": "1 g",
        "form": "comprimé",
        "posology": "1 comprimé toutes les 6 h si douleur",
        "duration": "3 jours",
        "quantity": "12 comprimés",
        "renewals": 0,
    }
    decided = ok(
        await client.post(
            f"/api/regulation/files/{file['id']}/decisions",
            json={"kind": "PMT", "prescription": [line]},
            headers=room.gp.headers,
        ),
        201,
    )
    public_id = decided["produced"]["prescription_id"]
    assert decided["produced"]["content"]["lines"][0]["drug"] == "Paracétamol"
    mine = ok(await client.get(f"/api/prescriptions/{public_id}", headers=room.patient.headers))
    assert mine["verified"] is True and mine["content"]["lines"][0]["drug"] == "Paracétamol"


async def test_validation_then_closing_24_hours_later_once(
    client: AsyncClient, room: Room, runtime: Runtime
) -> None:
    file = await opened(client, room)
    await taken(client, room, file["id"])
    state = f"/api/regulation/files/{file['id']}/state"
    refused = await client.post(state, json={"state": "VALIDE"}, headers=room.urgentist.headers)
    assert refused.status_code == 409 and "niveau de soins" in refused.json()["detail"]
    ok(
        await client.put(
            f"/api/regulation/files/{file['id']}/care-level",
            json={"care_level": "R4"},
            headers=room.urgentist.headers,
        )
    )
    assert (await client.post(state, json={"state": "VALIDE"}, headers=room.arm.headers)).status_code == 403
    validated = ok(await client.post(state, json={"state": "VALIDE"}, headers=room.urgentist.headers))
    assert validated["state"] == "VALIDE"
    assert (
        await client.post(state, json={"state": "CLASSE"}, headers=room.urgentist.headers)
    ).status_code == 409
    assert (
        await client.post(
            f"/api/regulation/files/{file['id']}/notes",
            json={"text": "trop tard"},
            headers=room.urgentist.headers,
        )
    ).status_code == 409
    async with runtime.sessionmaker() as db:
        job = await db.scalar(select(Job).where(Job.dedupe_key == f"{CLOSE_JOB}:{file['id']}"))
        assert job is not None
        assert abs(job.due_at - (utcnow() + timedelta(hours=24))) < timedelta(minutes=1)  # CLOTURE at +24 h
    await Worker(runtime).run_until_idle()
    assert (
        ok(await client.get(f"/api/regulation/files/{file['id']}", headers=room.urgentist.headers))["state"]
        == "VALIDE"
    )
    # A restart in between changes nothing: the timer is a row. Move the clock to its time and run.
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(
            update(Job).where(Job.dedupe_key == f"{CLOSE_JOB}:{file['id']}").values(due_at=utcnow())
        )
    await Worker(runtime).run_until_idle()
    await Worker(runtime).run_until_idle()
    closed = ok(await client.get(f"/api/regulation/files/{file['id']}", headers=room.urgentist.headers))
    assert closed["state"] == "CLOTURE"
    ok(await client.post(state, json={"state": "CLASSE"}, headers=room.urgentist.headers))
    assert (
        await client.post(state, json={"state": "CLASSE"}, headers=room.urgentist.headers)
    ).status_code == 409
    async with runtime.sessionmaker() as db:
        job = await db.scalar(select(Job).where(Job.dedupe_key == f"{CLOSE_JOB}:{file['id']}"))
        assert job is not None and job.attempts == 1 and job.status == "done"


async def test_a_p1_nobody_takes_escalates_to_every_regulator(
    client: AsyncClient, room: Room, runtime: Runtime
) -> None:
    file = await opened(client, room, priority="P1")
    taken_one = await opened(client, room, priority="P1")
    await taken(client, room, taken_one["id"])
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(update(Job).where(Job.kind == ESCALATE_JOB).values(due_at=utcnow()))
    await Worker(runtime).run_until_idle()
    queue = ok(await client.get("/api/regulation/queue", headers=room.arm.headers))
    assert [(f["id"], f["escalated"]) for f in queue["waiting"]] == [(file["id"], True)]
    for regulator in (room.urgentist, room.gp):
        titles = [n["title"] for n in ok(await client.get("/api/notifications", headers=regulator.headers))]
        assert titles.count("Dossier P1 en attente de régulation") == 1
    async with runtime.sessionmaker() as db:
        escalated = await db.get(RegulationFile, taken_one["id"])
        assert escalated is not None and escalated.escalated_at is None  # taken in time: nothing


async def test_only_the_centre_sees_its_files(client: AsyncClient, room: Room) -> None:
    file = await opened(client, room)
    url = f"/api/regulation/files/{file['id']}"
    assert (await client.get(url, headers=room.elsewhere.headers)).status_code == 404
    assert (await client.get(url, headers=room.outsider.headers)).status_code == 403
    assert (await client.get(url, headers=room.patient.headers)).status_code == 403
    assert (await client.get(url)).status_code == 401
    assert (await client.get("/api/regulation/queue", headers=room.outsider.headers)).status_code == 403
    other_queue = ok(await client.get("/api/regulation/queue", headers=room.elsewhere.headers))
    assert other_queue["waiting"] == []
    assert (await client.post(f"{url}/take", headers=room.elsewhere.headers)).status_code == 404
