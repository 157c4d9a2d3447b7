"""Files shared in a call, through HTTP and the call socket: who may share and fetch, and until when."""

import hashlib
import json
from datetime import timedelta

import pytest
import websockets
from httpx import AsyncClient
from sqlalchemy import select

from telesante.audit.models import AuditEvent
from telesante.db import transaction, utcnow
from telesante.documents import intake
from telesante.runtime import Runtime
from telesante.settings import get_settings
from telesante.teleconsultation.call.passes import CallPass, issue_pass
from telesante.teleconsultation.call.tokens import Role, invite_companion
from telesante.teleconsultation.models import Appointment
from telesante.timeline.models import TimelineEntry
from tests.call.conftest import Call, make_call
from tests.call.test_call_socket import receive, token_for, url
from tests.documents import files
from tests.fixtures.world import World


def files_url(call: Call, file_id: str = "") -> str:
    return f"/api/teleconsultations/{call.appointment.id}/files" + (f"/{file_id}" if file_id else "")


async def invitation(runtime: Runtime, call: Call, name: str) -> str:
    async with transaction(runtime.sessionmaker) as db:
        appointment = await db.get(Appointment, call.appointment.id)
        assert appointment
        return await invite_companion(db, appointment, name)


async def test_a_guest_shares_and_fetches_with_its_pass_until_the_call_ends(
    client: AsyncClient, live_server: str, runtime: Runtime, world: World, call: Call
) -> None:
    doctor_token = await token_for(runtime, call, Role.professional)
    guest_token = await invitation(runtime, call, "Infirmière Petit")
    async with (
        websockets.connect(url(live_server, call.appointment.id, doctor_token)) as doctor,
        websockets.connect(url(live_server, call.appointment.id, guest_token)) as guest,
    ):
        await receive(doctor, "welcome")
        handed = await receive(guest, "pass")  # over the socket the one-time link opened, only there
        as_guest = {handed["header"]: handed["pass"], "content-type": "image/png"}
        shared = await client.post(
            files_url(call), params={"filename": "plaie.png"}, content=files.png(), headers=as_guest
        )
        assert shared.status_code == 201, shared.text
        body = shared.json()
        assert (body["shared_by"], body["shared_by_role"]) == ("Infirmière Petit", "companion")
        for socket in (doctor, guest):  # announced to every leg, the sharer's own included
            announced = await receive(socket, "file")
            assert announced["text"] == "a partagé plaie.png" and announced["name"] == "Infirmière Petit"
            assert announced["file"]["url"] == files_url(call, body["id"])
        fetched = await client.get(files_url(call, body["id"]), headers={handed["header"]: handed["pass"]})
        assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == body["sha256"]
        assert fetched.headers["content-disposition"].startswith("attachment")

        other = await make_call(world, runtime)  # the pass is bound to its appointment
        for path, headers in (
            (files_url(other, body["id"]), {handed["header"]: handed["pass"]}),
            (files_url(call, body["id"]), {handed["header"]: handed["pass"][:-4] + "AAAA"}),  # tampered
            (files_url(call, body["id"]), {}),  # no pass, no session
        ):
            assert (await client.get(path, headers=headers)).status_code == 401

        await doctor.send(json.dumps({"type": "end"}))
        await receive(guest, "ended")

    after = await client.get(files_url(call, body["id"]), headers={handed["header"]: handed["pass"]})
    assert after.status_code == 401 and "terminée" in after.json()["detail"]  # the pass died with the call
    listed = await client.get(files_url(call), headers=call.doctor.headers)
    assert [(f["filename"], f["shared_by"]) for f in listed.json()] == [("plaie.png", "Infirmière Petit")]
    patient_copy = await client.get(files_url(call, body["id"]), headers=call.patient.headers)
    assert patient_copy.status_code == 200 and patient_copy.content == fetched.content
    async with transaction(runtime.sessionmaker) as db:
        chat = await db.scalar(select(TimelineEntry).where(TimelineEntry.kind == "teleconsultation_chat"))
        assert chat is not None and "Infirmière Petit : a partagé plaie.png" in (chat.summary or "")
        guest_events = (await db.scalars(select(AuditEvent).where(AuditEvent.actor_user_id.is_(None)))).all()
    assert {(e.action, e.resource_type) for e in guest_events} == {
        ("create", "Document"),
        ("read", "Document"),
    }
    assert all("Infirmière Petit" in (e.reason or "") for e in guest_events)


async def test_an_expired_or_foreign_pass_is_refused(
    client: AsyncClient, runtime: Runtime, call: Call
) -> None:
    secret = get_settings().secret_key
    expired = CallPass(
        call.appointment.id, "leg", "token", "Voisin", int((utcnow() - timedelta(seconds=1)).timestamp())
    )
    forged = CallPass(
        call.appointment.id, "leg", "token", "Voisin", int((utcnow() + timedelta(hours=1)).timestamp())
    )
    for call_pass, reason in (
        (issue_pass(secret, expired), "expiré"),
        (issue_pass("another-secret", forged), "invalide"),
    ):
        response = await client.post(
            files_url(call),
            content=files.pdf(),
            headers={"x-call-pass": call_pass, "content-type": "application/pdf"},
        )
        assert response.status_code == 401 and reason in response.json()["detail"]


async def test_shared_files_follow_the_documents_intake_rules(
    client: AsyncClient, runtime: Runtime, world: World, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def share(data: bytes, media_type: str, name: str = "document.pdf") -> tuple[int, str]:
        headers = {**call.patient.headers, "content-type": media_type}
        response = await client.post(
            files_url(call), params={"filename": name}, content=data, headers=headers
        )
        return response.status_code, response.text

    assert (await share(b"<!doctype html><script>alert(1)</script>", "application/pdf"))[0] == 415
    assert (await share(b"MZ\x90\x00" + b"\x00" * 60, "application/pdf"))[0] == 415
    assert (await share(files.pdf(), "text/html"))[0] == 415
    status, detail = await share(
        files.pdf(b"5 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n"), "application/pdf"
    )
    assert status == 422 and "contenu actif" in detail
    monkeypatch.setattr(intake, "MAX_BYTES", 1024)
    assert (await share(files.pdf(padding=4096), "application/pdf"))[0] == 413
    monkeypatch.undo()
    assert (await client.get(files_url(call), headers=call.doctor.headers)).json() == []

    status, created = await share(files.pdf(), "application/pdf", "bilan.pdf")
    assert status == 201
    document_id = json.loads(created)["id"]
    in_record = await client.get(
        f"/api/patients/{call.appointment.patient_id}/documents", headers=call.doctor.headers
    )
    assert [d["id"] for d in in_record.json()] == [document_id]  # a document of the record like any other

    stranger = await world.professional("Inconnu")
    for path in (files_url(call), files_url(call, document_id)):
        assert (await client.get(path, headers=stranger.headers)).status_code == 404
    assert (await share(files.pdf(), "application/pdf"))[0] == 201  # the same rules for a second file
    # Open from the booking (documents sent ahead) until the call ends; closed after, or if cancelled.
    for state, expected in (("booked", 201), ("waiting", 201), ("done", 409), ("cancelled", 409)):
        async with transaction(runtime.sessionmaker) as db:
            appointment = await db.get(Appointment, call.appointment.id)
            assert appointment
            appointment.status = state
        status, detail = await share(files.pdf(), "application/pdf")
        assert status == expected, (state, detail)
    assert "terminée ou annulée" in detail
