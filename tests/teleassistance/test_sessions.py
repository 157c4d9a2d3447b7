"""Téléassistance through its API: the nurse calls a doctor or a team, the first doctor to accept
gets the session, they follow a checklist, capture annotated stills, and the end files a report."""

import asyncio
import json

from httpx import AsyncClient
from sqlalchemy import select, text, update

from telesante.db import transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.worker import Worker
from telesante.runtime import Runtime
from telesante.teleassistance.service import MISSED_JOB
from tests.teleassistance.conftest import Home, active, ok, png, started

CIRCLE = [{"type": "circle", "points": [[0.42, 0.37], [0.5, 0.37]], "color": "#ff0000"}]


async def titles(client: AsyncClient, who: object) -> list[str]:
    return [n["title"] for n in ok(await client.get("/api/notifications", headers=who.headers))]  # type: ignore[attr-defined]


async def test_a_named_doctor_is_rung_and_sees_only_who_calls_until_accepting(
    client: AsyncClient, home: Home
) -> None:
    session = await started(client, home)
    assert session["status"] == "calling" and session["role"] == "assisted"
    assert "Téléassistance demandée" in await titles(client, home.doctor)
    [call] = ok(await client.get("/api/teleassistance/calls", headers=home.doctor.headers))
    assert call["id"] == session["id"] and call["role"] == "rung" and "patient_id" not in call
    url = f"/api/teleassistance/sessions/{session['id']}"
    for stranger in (home.outsider, home.team[0], home.patient):
        assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (
        await client.post(f"{url}/checklist", json={"checklist": "ecg-12"}, headers=home.doctor.headers)
    ).status_code == 409
    accepted = ok(await client.post(f"{url}/accept", headers=home.doctor.headers))
    assert accepted["status"] == "active" and accepted["role"] == "doctor" and accepted["patient_id"]
    assert ok(await client.get("/api/teleassistance/calls", headers=home.doctor.headers)) == []
    assert (await client.post(f"{url}/accept", headers=home.outsider.headers)).status_code == 404


async def test_in_a_team_the_first_to_accept_gets_it_and_the_other_stops_ringing(
    client: AsyncClient, home: Home
) -> None:
    session = await started(
        client, home, team_organisation_id=home.hospital_id, team_specialty="dermatologie"
    )
    for member in home.team:
        assert [
            c["id"] for c in ok(await client.get("/api/teleassistance/calls", headers=member.headers))
        ] == [session["id"]]
    assert (
        ok(await client.get("/api/teleassistance/calls", headers=home.doctor.headers)) == []
    )  # not in the team
    url = f"/api/teleassistance/sessions/{session['id']}/accept"
    answers = await asyncio.gather(*(client.post(url, headers=m.headers) for m in home.team))
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = home.team[[a.status_code for a in answers].index(409)]
    assert ok(await client.get("/api/teleassistance/calls", headers=loser.headers)) == []
    assert (
        await client.get(f"/api/teleassistance/sessions/{session['id']}", headers=loser.headers)
    ).status_code == 404


async def test_what_cannot_start(client: AsyncClient, home: Home, world: object) -> None:
    assert home.patient.patient and home.doctor.professional
    post = "/api/teleassistance/sessions"
    both = {
        "patient_id": home.patient.patient.id,
        "act": "Pansement",
        "doctor_id": home.doctor.professional.id,
        "team_organisation_id": home.hospital_id,
        "team_specialty": "Dermatologie",
    }
    assert (await client.post(post, json=both, headers=home.nurse.headers)).status_code == 422
    nobody = {
        "patient_id": home.patient.patient.id,
        "act": "Pansement",
        "team_organisation_id": home.hospital_id,
        "team_specialty": "Cardiologie",
    }
    assert (await client.post(post, json=nobody, headers=home.nurse.headers)).status_code == 422
    not_mine = {
        "patient_id": home.patient.patient.id,
        "act": "Pansement",
        "doctor_id": home.doctor.professional.id,
    }
    assert (
        await client.post(post, json=not_mine, headers=home.outsider.headers)
    ).status_code == 404  # not their patient
    other = await world.patient(home.nurse)  # type: ignore[attr-defined]
    no_consent = {**not_mine, "patient_id": other.id}
    refused = await client.post(post, json=no_consent, headers=home.nurse.headers)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/consent_missing")
    elsewhere = {**not_mine, "appointment_id": "00000000-0000-0000-0000-000000000000"}
    assert (await client.post(post, json=elsewhere, headers=home.nurse.headers)).status_code == 422


async def test_steps_captures_and_the_report(client: AsyncClient, home: Home, runtime: Runtime) -> None:
    session = await active(client, home)
    url = f"/api/teleassistance/sessions/{session['id']}"
    assert (
        await client.post(f"{url}/checklist", json={"checklist": "ecg-12"}, headers=home.nurse.headers)
    ).status_code == 403
    assert (
        await client.post(f"{url}/checklist", json={"checklist": "yoga"}, headers=home.doctor.headers)
    ).status_code == 422
    picked = ok(
        await client.post(
            f"{url}/checklist", json={"checklist": "pansement-complexe"}, headers=home.doctor.headers
        )
    )
    assert len(picked["steps"]) == 8 and picked["checklist"]["title"] == "Réfection d'un pansement complexe"
    for position in (0, 1, 2):
        ok(await client.post(f"{url}/steps/{position}", headers=home.nurse.headers))
    assert (await client.post(f"{url}/steps/99", headers=home.nurse.headers)).status_code == 404
    image = png()
    headers = {**home.doctor.headers, "Content-Type": "image/png", "X-Marks": json.dumps(CIRCLE)}
    shot = ok(await client.post(f"{url}/captures?source=dermatoscope", content=image, headers=headers), 201)
    assert shot["marks"][0]["points"][0] == [0.42, 0.37]
    off_frame = {**headers, "X-Marks": json.dumps([{"type": "circle", "points": [[1.2, 0.3]]}])}
    assert (await client.post(f"{url}/captures", content=image, headers=off_frame)).status_code == 422
    disguised = {**headers, "Content-Type": "image/png"}
    assert (
        await client.post(f"{url}/captures", content=b"%PDF-1.4 not an image", headers=disguised)
    ).status_code in (415, 422)
    async with runtime.sessionmaker() as db:  # encrypted at rest: the stored bytes are not the PNG
        stored = (
            await db.execute(
                text("SELECT content FROM documents WHERE id = :id"), {"id": shot["document_id"]}
            )
        ).scalar_one()
    assert image[:8] not in bytes(stored)
    fetched = await client.get(f"{url}/captures/{shot['id']}", headers=home.nurse.headers)
    assert fetched.status_code == 200 and fetched.content[:8] == b"\x89PNG\r\n\x1a\n"
    ok(await client.post(f"{url}/incidents", json={"kind": "relay"}, headers=home.nurse.headers), 201)
    assert (await client.get(f"{url}/report.pdf", headers=home.doctor.headers)).status_code == 409  # not yet
    ended = ok(await client.post(f"{url}/end", headers=home.doctor.headers))
    assert ended["status"] == "ended" and ended["report_document_id"]
    pdf = await client.get(f"{url}/report.pdf", headers=home.nurse.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert (await client.post(f"{url}/captures", content=image, headers=headers)).status_code == 409
    assert home.patient.patient
    timeline = ok(
        await client.get(f"/api/patients/{home.patient.patient.id}/timeline", headers=home.patient.headers)
    )
    assert {"Téléassistance médicale", "Compte rendu de téléassistance", "Image de téléassistance"} <= {
        e["title"] for e in timeline
    }


async def test_a_call_nobody_accepts_is_missed_once_and_a_cancelled_one_cannot_be_accepted(
    client: AsyncClient, home: Home, runtime: Runtime
) -> None:
    session = await started(client, home)
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(
            update(Job).where(Job.dedupe_key == f"{MISSED_JOB}:{session['id']}").values(due_at=utcnow())
        )
    await Worker(runtime).run_until_idle()
    await Worker(runtime).run_until_idle()
    url = f"/api/teleassistance/sessions/{session['id']}"
    assert ok(await client.get(url, headers=home.nurse.headers))["status"] == "missed"
    assert (await titles(client, home.nurse)).count("Téléassistance sans réponse") == 1
    assert (
        await client.post(f"{url}/accept", headers=home.doctor.headers)
    ).status_code == 404  # no longer rung
    second = await started(client, home)
    assert (
        await client.post(f"/api/teleassistance/sessions/{second['id']}/cancel", headers=home.doctor.headers)
    ).status_code == 403
    ok(await client.post(f"/api/teleassistance/sessions/{second['id']}/cancel", headers=home.nurse.headers))
    assert (
        await client.post(f"/api/teleassistance/sessions/{second['id']}/accept", headers=home.doctor.headers)
    ).status_code == 404
    async with runtime.sessionmaker() as db:
        job = await db.scalar(select(Job).where(Job.dedupe_key == f"{MISSED_JOB}:{second['id']}"))
    assert job is not None


async def test_the_session_reads_as_fhir_encounter_and_its_documents(client: AsyncClient, home: Home) -> None:
    session = await active(client, home)
    url = f"/api/teleassistance/sessions/{session['id']}"
    headers = {**home.doctor.headers, "Content-Type": "image/png", "X-Marks": json.dumps(CIRCLE)}
    shot = ok(await client.post(f"{url}/captures", content=png(), headers=headers), 201)
    ended = ok(await client.post(f"{url}/end", headers=home.nurse.headers))
    encounter = ok(await client.get(f"/fhir/R4/Encounter/{session['id']}", headers=home.doctor.headers))
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "VR"
    assert encounter["type"][0]["text"] == "Téléassistance médicale" and len(encounter["participant"]) == 2
    assert (
        await client.get(f"/fhir/R4/Encounter/{session['id']}", headers=home.outsider.headers)
    ).status_code == 404
    assert home.patient.patient
    patient = f"Patient/{home.patient.patient.id}"
    found = ok(
        await client.get(f"/fhir/R4/DocumentReference?patient={patient}", headers=home.patient.headers)
    )
    ids = {e["resource"]["id"] for e in found["entry"]}
    assert {shot["document_id"], ended["report_document_id"]} <= ids
    report = ok(
        await client.get(
            f"/fhir/R4/DocumentReference/{ended['report_document_id']}", headers=home.nurse.headers
        )
    )
    attachment = report["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf" and attachment["url"].endswith("/report.pdf")
    assert report["context"]["encounter"][0]["reference"] == f"Encounter/{session['id']}"
    pdf = await client.get(attachment["url"].replace("http://testserver", ""), headers=home.nurse.headers)
    assert len(pdf.content) == attachment["size"]
    encounters = ok(await client.get(f"/fhir/R4/Encounter?patient={patient}", headers=home.patient.headers))
    assert session["id"] in {e["resource"]["id"] for e in encounters["entry"]}
