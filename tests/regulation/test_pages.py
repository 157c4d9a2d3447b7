"""The room's pages through HTTP: the queue and its map for the centre's staff only, the ARM's form
with its refusals in French, the regulator's file from taking it to validating it, the crew's page
without login; and the map's projection, table-driven."""

import html
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import update

from telesante.db import transaction, utcnow
from telesante.deps import SESSION_COOKIE
from telesante.regulation import map_svg
from telesante.regulation.models import RegulationFile
from telesante.runtime import Runtime
from tests.call.conftest import session_cookie
from tests.fixtures.world import Person
from tests.regulation.conftest import Room, ok, opened, taken
from tests.web.test_login_and_pages import field


@asynccontextmanager
async def browsing(app: FastAPI, runtime: Runtime, person: Person) -> AsyncIterator[AsyncClient]:
    """A client holding `person`'s full session cookie, as their browser would."""
    cookies = {SESSION_COOKIE: await session_cookie(runtime, person)}
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies) as http:
        yield http


async def post_form(http: AsyncClient, url: str, form_page: str, **data: str) -> Response:
    return await http.post(url, data={"csrf_token": field(form_page, "csrf_token"), **data})


def error_of(page: str, name: str) -> str:
    match = re.search(rf'<p class="error reg-field-error" id="err-{name}">([^<]*)</p>', page)
    assert match, f"no error shown next to {name}"
    return html.unescape(match.group(1))


async def test_the_room_shows_the_queue_and_map_to_its_staff_only(
    app: FastAPI, client: AsyncClient, runtime: Runtime, room: Room
) -> None:
    p2 = await opened(client, room, priority="P2", motive="Fièvre", perimeter="SNP")
    p1 = await opened(client, room, priority="P1", motive="Malaise", latitude=45.76, longitude=4.83)
    regulated = await opened(client, room, priority="P3", motive="Plaie", latitude=45.74, longitude=4.85)
    await taken(client, room, regulated["id"])
    async with browsing(app, runtime, room.gp) as gp:
        page = await gp.get("/regulation")
        assert page.status_code == 200, page.text
        waiting = page.text[page.text.index('id="reg-waiting"') : page.text.index('id="reg-regulating"')]
        assert waiting.index(p1["id"]) < waiting.index(p2["id"])  # by priority first
        assert regulated["id"] not in waiting and "Dr Claire Dupuis" in page.text  # being regulated, by whom
        assert 'data-since="' in waiting and 'data-limit="120"' in waiting  # the page counts the wait
        assert 'src="/static/regulation_room.js"' in page.text and "Nouveau dossier" in page.text
        svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
        assert f'class="reg-incident" data-file="{p1["id"]}" data-priority="P1"' in svg
        assert f'data-file="{regulated["id"]}"' in svg and p2["id"] not in svg  # no position, no marker
        assert svg.count('class="reg-resource"') == 3 and svg.count('data-available="oui"') == 3

        async with transaction(runtime.sessionmaker) as db:  # the P1 waited past its limit, escalated
            await db.execute(
                update(RegulationFile)
                .where(RegulationFile.id == p1["id"])
                .values(received_at=utcnow() - timedelta(minutes=10), escalated_at=utcnow())
            )
        row = re.search(rf'<tr id="file-{p1["id"]}"[^>]*>', (await gp.get("/regulation/file-attente")).text)
        assert row and 'class="reg-row reg-overdue reg-escalated"' in row.group(0)

        fragment = await gp.get("/regulation/file-attente?filiere=SNP")  # what the live refresh fetches
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert p2["id"] in fragment.text and p1["id"] not in fragment.text
        assert 'href="/regulation?filiere=SNP" title' in (await gp.get("/regulation?filiere=SNP")).text

        file_page = await gp.get(f"/regulation/dossiers/{p1['id']}")
        assert file_page.status_code == 200 and "Prendre en régulation" in file_page.text
        assert (await gp.get(f"/regulation/dossiers/{p1['id']}/suivi")).status_code == 200

    async with browsing(app, runtime, room.outsider) as outsider:
        refused = await outsider.get("/regulation")
        assert refused.status_code == 403 and "réservé au personnel de la salle de régulation" in refused.text
        assert (await outsider.get(f"/regulation/dossiers/{p1['id']}")).status_code == 403
    async with browsing(app, runtime, room.elsewhere) as elsewhere:  # a regulator of another centre
        assert (await elsewhere.get("/regulation")).status_code == 200
        assert (await elsewhere.get(f"/regulation/dossiers/{p1['id']}")).status_code == 404
        assert (await elsewhere.get(f"/regulation/dossiers/{p1['id']}/suivi")).status_code == 404
        assert p1["id"] not in (await elsewhere.get("/regulation/file-attente")).text


async def test_the_arm_opens_a_file_and_reads_refusals_next_to_the_fields(
    app: FastAPI, client: AsyncClient, runtime: Runtime, room: Room
) -> None:
    async with browsing(app, runtime, room.arm) as arm:
        form = (await arm.get("/regulation/dossiers/nouveau")).text
        assert 'name="caller_phone"' in form and 'name="priority"' in form and 'name="perimeter"' in form
        typed = {
            "caller_type": "FAMILLE",
            "caller_phone": "06 12 34 56 78",
            "caller_language": "FR",
            "address": "3 place Bellecour",
            "city": "Lyon",
            "latitude": "45,757",
            "longitude": "4,832",
            "motive": "Douleur thoracique",
            "patient_age": "300",
            "patient_ins": "123",
            "priority": "P1",
            "perimeter": "AMU",
            "origin": "15",
        }
        refused = await post_form(arm, "/regulation/dossiers/nouveau", form, **typed)
        assert refused.status_code == 422
        assert error_of(refused.text, "patient_age") == "âge en années : un nombre entier de 0 à 130"
        assert error_of(refused.text, "patient_ins").startswith("INS invalide")
        assert 'value="3 place Bellecour"' in refused.text  # what was typed is kept
        assert ok(await client.get("/api/regulation/queue", headers=room.arm.headers))["waiting"] == []

        forged = await arm.post("/regulation/dossiers/nouveau", data={**typed, "patient_age": "41"})
        assert forged.status_code == 403  # no CSRF token
        done = await post_form(
            arm,
            "/regulation/dossiers/nouveau",
            form,
            **{**typed, "patient_age": "41", "patient_ins": room.ins},
        )
        assert done.status_code == 303, done.text
        file_id = done.headers["location"].rsplit("/", 1)[1]
        stored = ok(await client.get(f"/api/regulation/files/{file_id}", headers=room.arm.headers))
        assert (stored["priority"], stored["latitude"], stored["intake"]["caller_language"]) == (
            "P1",
            45.757,
            "fr",
        )
        assert stored["patient_identified"] is True and stored["opened_by"] == "Claire Haddad"

        page = (await arm.get(done.headers["location"])).text
        assert "Prendre en régulation" not in page and 'id="reg-intake" open' in page  # the ARM's part
        bad = await post_form(
            arm, f"/regulation/dossiers/{file_id}/saisie", page, latitude="nord", priority="P9"
        )
        assert bad.status_code == 422 and "entre -90 et 90" in error_of(bad.text, "latitude")
        assert error_of(bad.text, "priority") == "choisissez une priorité de P0 à NR"
        assert (
            ok(await client.get(f"/api/regulation/files/{file_id}", headers=room.arm.headers))["latitude"]
            == 45.757
        )
        moved = await post_form(
            arm, f"/regulation/dossiers/{file_id}/saisie", page, priority="P2", city="Bron"
        )
        assert moved.status_code == 303
        stored = ok(await client.get(f"/api/regulation/files/{file_id}", headers=room.arm.headers))
        assert (stored["priority"], stored["city"]) == ("P2", "Bron")
        taking = await post_form(arm, f"/regulation/dossiers/{file_id}/prendre", page)
        assert taking.status_code == 403 and "réservé au médecin régulateur" in taking.text


async def regulate(http: AsyncClient, file_id: str, action: str, **data: str) -> Response:
    page = (await http.get(f"/regulation/dossiers/{file_id}")).text
    return await post_form(http, f"/regulation/dossiers/{file_id}/{action}", page, **data)


async def test_the_regulator_regulates_engages_a_crew_and_validates_from_the_file_page(
    app: FastAPI, client: AsyncClient, runtime: Runtime, room: Room
) -> None:
    file = await opened(client, room, patient_ins=room.ins, address="3 place Bellecour")
    assert room.patient.patient
    async with browsing(app, runtime, room.urgentist) as mru:
        before = (await mru.get(f"/regulation/dossiers/{file['id']}")).text
        assert "3 place Bellecour" in before and 'id="patient-record"' not in before
        assert (await regulate(mru, file["id"], "prendre")).status_code == 303
        page = (await mru.get(f"/regulation/dossiers/{file['id']}")).text
        assert f'href="/patients/{room.patient.patient.id}"' in page  # the record opens to the regulator
        assert (await mru.get(f"/patients/{room.patient.patient.id}")).status_code == 200

        empty = await regulate(mru, file["id"], "notes", text="  ")
        assert empty.status_code == 422 and error_of(empty.text, "text").startswith("écrivez la note")
        assert (await regulate(mru, file["id"], "notes", text="Douleur depuis 30 min.")).status_code == 303
        early = await regulate(mru, file["id"], "validation")
        assert early.status_code == 409 and "niveau de soins" in early.text
        assert (await regulate(mru, file["id"], "niveau", care_level="R2")).status_code == 303

        orient = await regulate(mru, file["id"], "decisions", kind="ORIENT", destination="HEH")
        assert orient.status_code == 422 and error_of(orient.text, "orientation") == "indiquez l'orientation"
        inter = await regulate(
            mru, file["id"], "decisions", kind="INTER", resource_id=room.resources["TSU.AMB"]
        )
        assert inter.status_code == 200, inter.text
        link = re.search(r'<a id="crew-link" href="([^"]+)"', inter.text)
        assert link and re.fullmatch(r"http://testserver/regulation/equipage#[\w-]{40,}", link.group(1))
        assert '<div class="qr" id="crew-qr"><svg' in inter.text  # for the crew's phone camera
        token = link.group(1).split("#", 1)[1]
        mission = ok(
            await client.get("/api/regulation/crew/mission", headers={"Authorization": f"Bearer {token}"})
        )
        assert mission["resource"]["vehicle_type"] == "TSU.AMB"
        again = await regulate(
            mru, file["id"], "decisions", kind="INTER", resource_id=room.resources["TSU.AMB"]
        )
        assert again.status_code == 409 and "Ambulances du Rhône 12 est déjà engagé" in again.text
        assert f'<option value="{room.resources["TSU.AMB"]}"' not in again.text  # no longer offered

        live = html.unescape((await mru.get(f"/regulation/dossiers/{file['id']}/suivi")).text)
        assert "<html" not in live and "Ambulances du Rhône 12" in live and "Déclenché" in live
        assert "Douleur depuis 30 min." in live and "Envoi d'un moyen" in live
        assert (await regulate(mru, file["id"], "validation")).status_code == 303
        closed = (await mru.get(f"/regulation/dossiers/{file['id']}")).text
        assert 'data-state="VALIDE"' in closed and "Prendre en régulation" not in closed
    async with browsing(app, runtime, room.other_urgentist) as other:
        refused = await regulate(other, file["id"], "niveau", care_level="R1")
        assert refused.status_code == 409  # validated, and not theirs


async def test_the_crew_page_opens_without_a_session(client: AsyncClient) -> None:
    page = await client.get("/regulation/equipage")
    assert page.status_code == 200
    assert 'src="/static/reg_crew.js"' in page.text and "live.js" not in page.text
    assert 'data-status="DEPART"' in page.text and "Sur les lieux" in page.text
    assert 'data-status="DECLENCHE"' not in page.text  # the room's, not the crew's
    assert "<script>" not in page.text  # the CSP forbids inline scripts: only a JSON data block


# The map: an equirectangular projection of the points' own bounding box.

LYON = [(45.78, 4.86), (45.75, 4.84), (45.77, 4.88), (45.76, 4.83)]
CORSICA = [(43.0, 9.4), (41.4, 9.2), (42.7, 8.7), (41.9, 8.7)]  # much taller than wide
FINISTERE = [(48.4, -4.8), (48.0, -4.1), (48.6, -3.8), (47.9, -3.5)]  # wider than tall
CASES = {"lyon": LYON, "corsica": CORSICA, "finistere": FINISTERE, "one point": [(45.76, 4.83)]}


@pytest.mark.parametrize("points", CASES.values(), ids=CASES.keys())
def test_the_points_map_inside_the_view_box(points: list[tuple[float, float]]) -> None:
    box = map_svg.frame(points)
    assert box.width == map_svg.WIDTH and box.height <= map_svg.MAX_HEIGHT + 1e-9
    for lat, lon in points:
        x, y = box.xy(lat, lon)
        assert map_svg.MARGIN - 1e-6 <= x <= box.width - map_svg.MARGIN + 1e-6
        assert map_svg.MARGIN - 1e-6 <= y <= box.height - map_svg.MARGIN + 1e-6


@pytest.mark.parametrize("points", CASES.values(), ids=CASES.keys())
def test_north_is_up_and_east_is_right(points: list[tuple[float, float]]) -> None:
    box = map_svg.frame(points)
    lat, lon = points[0]
    x, y = box.xy(lat, lon)
    assert box.xy(lat + 0.01, lon)[1] < y  # further north, higher on the screen
    assert box.xy(lat, lon + 0.01)[0] > x


@pytest.mark.parametrize("points", [LYON, CORSICA, FINISTERE], ids=["lyon", "corsica", "finistere"])
def test_a_kilometre_is_as_long_east_west_as_north_south(points: list[tuple[float, float]]) -> None:
    box = map_svg.frame(points)
    (lat_a, lon_a), (lat_b, lon_b) = points[0], points[1]
    (xa, ya), (xb, yb) = box.xy(lat_a, lon_a), box.xy(lat_b, lon_b)
    middle = math.radians((min(p[0] for p in points) + max(p[0] for p in points)) / 2)
    east_km, north_km = (lon_b - lon_a) * math.cos(middle) * 111.32, (lat_b - lat_a) * 111.32
    assert (xb - xa) * box.km_per_pixel == pytest.approx(east_km)
    assert (ya - yb) * box.km_per_pixel == pytest.approx(north_km)


def test_the_map_draws_incidents_by_priority_and_resources_by_availability() -> None:
    files: list[dict[str, Any]] = [
        {"id": "f1", "number": 1, "priority": "P0", "motive": "Arrêt <cardiaque>", "perimeter": "AMU"},
        {"id": "f2", "number": 2, "priority": "P2", "motive": None, "perimeter": "SNP"},
    ]
    files[0] |= {"latitude": 45.76, "longitude": 4.83}
    files[1] |= {"latitude": None, "longitude": None}
    resources = [
        {"id": "r1", "name": "SMUR Lyon Nord", "available": False, "latitude": 45.78, "longitude": 4.86},
        {"id": "r2", "name": "VSAV", "available": True, "latitude": 45.77, "longitude": 4.88},
    ]
    drawn = str(map_svg.svg(map_svg.resources(resources) + map_svg.incidents(files)))
    assert drawn.startswith("<svg") and "<script" not in drawn and "style=" not in drawn
    assert 'data-file="f1" data-priority="P0" data-perimeter="AMU"' in drawn and 'fill="#7a0014"' in drawn
    assert "f2" not in drawn  # no position
    assert (
        drawn.count('class="reg-resource"') == 2 and 'fill="#0b4f9c"' in drawn and 'fill="#0b6b2f"' in drawn
    )
    assert "Arrêt &lt;cardiaque&gt;" in drawn and 'href="/regulation/dossiers/f1"' in drawn
    assert drawn.index("reg-resource") < drawn.index("reg-incident")  # incidents drawn on top
    assert "km</text>" in drawn and ">N</text>" in drawn
    assert "Aucun incident" in str(map_svg.svg([]))
