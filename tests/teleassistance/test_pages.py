"""Téléassistance's pages through HTTP (the start form and its refusals in French, the calls ringing
for a doctor, the session's page for its two participants and 404 for anyone else) and the call's
socket: who may join, incidents in the report's words, the end for both."""

import asyncio
import html
import json

import pytest
import websockets
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from telesante.patients.models import Patient
from telesante.runtime import Runtime
from telesante.teleassistance.models import AssistanceSession
from tests.call.conftest import make_call
from tests.call.test_call_socket import receive
from tests.fixtures.world import World
from tests.regulation.test_pages import browsing, post_form
from tests.teleassistance.conftest import Home, active, ok, started

ACT = "Réfection d'un pansement d'ulcère de jambe"


def shown_error(page: str) -> str:
    start = page.index('id="ta-error"')
    return html.unescape(page[page.index(">", start) + 1 : page.index("</p>", start)])


async def sessions(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(AssistanceSession)) or 0)


async def test_the_start_form_refuses_in_french_then_calls_the_doctor(
    app: FastAPI, client: AsyncClient, runtime: Runtime, home: Home, world: World
) -> None:
    assert home.patient.patient
    unconsented = await world.patient(home.nurse, family="Leroy")
    assert isinstance(unconsented, Patient)
    patient_id = home.patient.patient.id
    async with browsing(app, runtime, home.nurse) as nurse:
        form = (await nurse.get("/teleassistance")).text
        assert "DURAND" in form and "LEROY" in form and "Dermatologie — CHU de Lyon" in form
        named = {"patient_id": patient_id, "act": ACT, "callee": "doctor"}
        for data, status, reason in [
            ({**named, "patient_id": ""}, 422, "choisissez le patient"),
            ({**named, "act": "x"}, 422, "décrivez l'acte en 3 à 300 caractères"),
            ({**named, "doctor": "Inconnu"}, 422, "aucun médecin inscrit ne correspond à « Inconnu »"),
            ({**named, "doctor": "Claire"}, 422, "plusieurs médecins correspondent à « Claire »"),
            ({**named, "callee": ""}, 422, "choisissez d'appeler un médecin nommé ou une équipe"),
            ({**named, "callee": "team"}, 422, "choisissez une équipe"),
            ({**named, "patient_id": unconsented.id, "doctor": "Benali"}, 409, "n'a pas consenti"),
        ]:
            refused = await post_form(nurse, "/teleassistance", form, **data)
            assert refused.status_code == status and reason in shown_error(refused.text), refused.text
            assert f'value="{data["act"]}"' in html.unescape(refused.text)  # what was typed stays
        assert await sessions(runtime) == 0  # nothing half-written
        agreed = {**named, "patient_id": unconsented.id, "doctor": "benali", "agreed": "oui"}
        called = await post_form(nurse, "/teleassistance", form, **agreed)
        assert called.status_code == 303 and called.headers["location"].startswith("/teleassistance/")
        to_team = {**named, "callee": "team", "team": f"{home.hospital_id}|Dermatologie"}
        team = await post_form(nurse, "/teleassistance", form, **to_team)
        assert team.status_code == 303
    consents = ok(await client.get(f"/api/patients/{unconsented.id}/consents", headers=home.nurse.headers))
    assert [c["act"] for c in consents] == ["teleassistance"]  # recorded with the call
    async with browsing(app, runtime, home.patient) as patient:
        assert (await patient.get("/teleassistance")).status_code == 403


async def test_a_doctor_sees_the_ringing_call_accepts_it_and_only_the_two_see_the_session(
    app: FastAPI, client: AsyncClient, runtime: Runtime, home: Home
) -> None:
    session = await started(
        client, home, team_organisation_id=home.hospital_id, team_specialty="Dermatologie"
    )
    page = f"/teleassistance/{session['id']}"
    first, second = home.team
    async with browsing(app, runtime, first) as doctor:
        calls = (await doctor.get("/teleassistance/appels")).text
        assert "Claire Petit" in calls and html.escape(ACT, quote=False) in html.unescape(calls)
        ringing = await doctor.get(page)
        assert (
            ringing.status_code == 200 and 'id="ta-accept"' in ringing.text and "DURAND" not in ringing.text
        )
        accepted = await post_form(doctor, f"{page}/accepter", ringing.text)
        assert accepted.status_code == 303 and accepted.headers["location"] == page
        shown = (await doctor.get(page)).text
        assert 'data-role="doctor"' in shown and "DURAND" in shown and 'name="ta-tool"' in shown
        assert 'id="ta-checklist-form"' in shown and 'data-socket="/ws/teleassistance/' in shown
        assert "Aucun appel en attente." in (await doctor.get("/teleassistance/appels")).text
    async with browsing(app, runtime, second) as late:
        late_page = await late.get(page)
        assert late_page.status_code == 404 and "session de téléassistance introuvable" in late_page.text
    async with browsing(app, runtime, home.nurse) as nurse:
        mine = (await nurse.get(page)).text
        assert 'data-role="assisted"' in mine and 'id="ta-extra-device"' in mine and "Dr Claire Derm1" in mine
    async with browsing(app, runtime, home.outsider) as outsider:
        assert (await outsider.get(page)).status_code == 404
    join = f"/api/teleassistance/sessions/{session['id']}/join"
    assert (await client.post(join, headers=home.outsider.headers)).status_code == 404
    assert (await client.post(join, headers=second.headers)).status_code == 404
    token = ok(await client.post(join, headers=home.nurse.headers))
    assert token["socket"] == f"/ws/teleassistance/{session['id']}" and token["token"].startswith("tsj_")


async def test_from_a_teleconsultation_the_patient_is_the_appointments(
    app: FastAPI, runtime: Runtime, world: World
) -> None:
    call = await make_call(world, runtime)
    async with browsing(app, runtime, call.doctor) as doctor:
        call_page = (await doctor.get(f"/teleconsultations/{call.appointment.id}/appel")).text
        assert f'href="/teleassistance?appointment={call.appointment.id}"' in call_page
        form = (await doctor.get(f"/teleassistance?appointment={call.appointment.id}")).text
        assert f'<option value="{call.appointment.patient_id}" selected>' in form
        assert f'name="appointment_id" value="{call.appointment.id}"' in form
        unknown = (await doctor.get("/teleassistance?appointment=nope")).text
        assert (
            shown_error(unknown) == "rendez-vous introuvable" and 'name="appointment_id" value=""' in unknown
        )


async def test_the_call_socket_takes_the_two_participants_and_ends_the_session(
    client: AsyncClient, live_server: str, home: Home
) -> None:
    session = await started(client, home)
    url = f"/api/teleassistance/sessions/{session['id']}"
    assert (
        await client.post(f"{url}/join", headers=home.nurse.headers)
    ).status_code == 409  # not accepted yet
    ok(await client.post(f"{url}/accept", headers=home.doctor.headers))
    socket = f"{live_server.replace('http', 'ws')}/ws/teleassistance/{session['id']}?token="
    nurse_token = ok(await client.post(f"{url}/join", headers=home.nurse.headers))["token"]
    doctor_token = ok(await client.post(f"{url}/join", headers=home.doctor.headers))["token"]
    async with (
        websockets.connect(socket + nurse_token) as nurse,
        websockets.connect(socket + doctor_token) as doctor,
    ):
        assert (await receive(nurse, "welcome"))["you"]["name"] == "Claire Petit (professionnel assisté)"
        assert (await receive(doctor, "welcome"))["you"]["name"] == "Dr Claire Benali (médecin qui assiste)"
        await nurse.send(json.dumps({"type": "incident", "kind": "relay_fallback", "detail": "relais udp"}))
        while not ok(await client.get(url, headers=home.nurse.headers))["incidents"]:
            await asyncio.sleep(0.05)
        await doctor.send(json.dumps({"type": "end"}))  # from the socket alone: ended in the doctor's name
        await receive(nurse, "ended")
    ended = ok(await client.get(url, headers=home.nurse.headers))
    assert ended["status"] == "ended" and ended["report_document_id"]
    assert [i["kind"] for i in ended["incidents"]] == ["relay"]  # the report's word for it
    async with websockets.connect(socket + nurse_token) as spent:  # a used token, an ended session
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await spent.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_the_page_after_the_end_shows_the_report_link(
    app: FastAPI, client: AsyncClient, runtime: Runtime, home: Home
) -> None:
    session = await active(client, home)
    ok(await client.post(f"/api/teleassistance/sessions/{session['id']}/end", headers=home.doctor.headers))
    async with browsing(app, runtime, home.nurse) as nurse:
        page = (await nurse.get(f"/teleassistance/{session['id']}")).text
    assert "Terminée" in page and "report.pdf" in page and 'id="ta-stage"' not in page
