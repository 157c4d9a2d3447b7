"""Video with the caller: the regulator of a file sends a one-time link, the caller's phone shows
its camera (no account) through the téléconsultation's call layer, images are filed in the DRM."""

import hashlib
import io
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import websockets
from httpx import AsyncClient
from PIL import Image
from playwright.async_api import Browser
from sqlalchemy import text

from telesante.jobs.worker import Worker
from telesante.runtime import Runtime
from tests.browser.conftest import artifacts, browser  # noqa: F401 - the browser test's fixtures
from tests.call.conftest import session_context, until, wait_frames, wait_joined
from tests.call.test_call_socket import receive
from tests.documents import files
from tests.regulation.conftest import Room, ok, opened, taken

CALLER = "appelant@exemple.fr"
LINK = re.compile(r"/appel-video#(tsv_[\w-]+)")


def video_url(file_id: str, path: str = "") -> str:
    return f"/api/regulation/files/{file_id}/video{path}"


async def regulated(client: AsyncClient, room: Room) -> str:
    """A file opened by the ARM and taken by the urgentist: its id."""
    file_id: str = (await opened(client, room))["id"]
    await taken(client, room, file_id)
    return file_id


async def send_link(client: AsyncClient, room: Room, file_id: str) -> dict[str, Any]:
    body = {"channel": "email", "contact": CALLER}
    return ok(await client.post(video_url(file_id), json=body, headers=room.urgentist.headers), 201)  # type: ignore[no-any-return]


def token_of(link: str) -> str:
    found = LINK.search(link)
    assert found, link
    return found.group(1)


def mails(smtp: list[Any]) -> list[EmailMessage]:
    return [message_from_bytes(m.content, policy=policy.default) for m in smtp]  # type: ignore[misc]


async def test_only_the_files_regulator_sends_a_link(
    client: AsyncClient, room: Room, smtp_server: list[Any]
) -> None:
    file_id = (await opened(client, room))["id"]
    body = {"channel": "email", "contact": CALLER}
    for person, status in [
        (room.arm, 403),  # not a regulator
        (room.elsewhere, 404),  # another centre's regulator: the file does not exist for them
        (room.outsider, 403),  # in no room at all
        (room.urgentist, 409),  # a regulator who has not taken the file yet
    ]:
        response = await client.post(video_url(file_id), json=body, headers=person.headers)
        assert response.status_code == status, (person, response.text)
    await taken(client, room, file_id)
    refused = await client.post(video_url(file_id), json=body, headers=room.other_urgentist.headers)
    assert refused.status_code == 409  # the same room, but not this file's regulator
    sms = await client.post(
        video_url(file_id), json={"channel": "sms", "contact": "0612345678"}, headers=room.urgentist.headers
    )
    assert sms.status_code == 422 and "SMS non configuré" in sms.text
    bad = await client.post(
        video_url(file_id),
        json={"channel": "email", "contact": "pas-une-adresse"},
        headers=room.urgentist.headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "contact"
    listed = ok(await client.get(video_url(file_id), headers=room.urgentist.headers))
    assert listed == {"sessions": [], "captures": []}  # nothing half-written by the refusals


async def test_the_link_arrives_by_email_and_serves_once(
    client: AsyncClient, live_server: str, runtime: Runtime, room: Room, smtp_server: list[Any]
) -> None:
    file_id = await regulated(client, room)
    sent = await send_link(client, room, file_id)
    assert sent["expires_in"] == 1800 and sent["session"]["started_by"] == "Dr Claire Dupuis"
    await Worker(runtime).run_until_idle()
    [mail] = mails(smtp_server)
    assert mail["To"] == CALLER and "SAMU" in mail["Subject"]
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert token_of(body) == token_of(sent["link"])
    async with runtime.engine.connect() as conn:  # stored as a hash; the sealed copy is gone once sent
        sealed, digest = (
            await conn.execute(text("SELECT link_sealed, link_hash FROM regulation_video_sessions"))
        ).one()
    assert sealed is None and digest == hashlib.sha256(token_of(body).encode()).hexdigest()

    joined = ok(await client.post("/api/regulation/video/join", json={"token": token_of(body)}))
    again = await client.post("/api/regulation/video/join", json={"token": token_of(body)})
    assert again.status_code == 401 and "plus valable" in again.json()["detail"]
    regulator = ok(await client.post(video_url(file_id, "/token"), headers=room.urgentist.headers))
    assert joined["socket"] == regulator["socket"]
    socket = f"{live_server.replace('http', 'ws')}{joined['socket']}?token="
    async with websockets.connect(socket + regulator["token"]) as doctor:
        assert (await receive(doctor, "welcome"))["you"]["name"].endswith("(médecin régulateur)")
        # The caller only once the regulator is in: otherwise the caller may be in the regulator's
        # welcome rather than in a "joined" event, whichever socket the server finishes first.
        async with websockets.connect(socket + joined["token"]) as caller:
            assert (await receive(doctor, "joined"))["peer"]["role"] == "caller"
            await receive(caller, "welcome")
            ok(await client.post(video_url(file_id, "/end"), headers=room.urgentist.headers))
            await receive(caller, "ended")  # the end reaches every leg of the call
    [session] = ok(await client.get(video_url(file_id), headers=room.urgentist.headers))["sessions"]
    assert session["used_at"] and session["sent_at"] and session["ended_at"]
    late = await client.post(video_url(file_id, "/token"), headers=room.urgentist.headers)
    assert late.status_code == 409


async def test_captures_are_filed_encrypted_and_a_disguised_file_is_refused(
    client: AsyncClient, runtime: Runtime, room: Room, smtp_server: list[Any]
) -> None:
    file_id = await regulated(client, room)
    await send_link(client, room, file_id)
    post = video_url(file_id, "/captures")
    image = files.png((64, 48))
    as_png = {**room.urgentist.headers, "content-type": "image/png"}
    taken_one = ok(await client.post(post, content=image, headers=as_png), 201)
    assert taken_one["taken_by"] == "Dr Claire Dupuis" and taken_one["content_type"] == "image/png"
    async with runtime.engine.connect() as conn:
        [stored] = (await conn.execute(text("SELECT image FROM regulation_captures"))).scalars().all()
    assert bytes(stored)[:8] != b"\x89PNG\r\n\x1a\n" and image not in bytes(stored)
    shown = await client.get(taken_one["url"], headers=room.urgentist.headers)
    assert shown.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(shown.content)).size == (64, 48)
    assert hashlib.sha256(shown.content).hexdigest() == taken_one["sha256"]
    for content, declared in [
        (files.pdf(), "image/png"),  # a PDF disguised as an image
        (b"MZ\x90\x00not an image at all", "image/jpeg"),
        (image, "image/jpeg"),  # a PNG said to be a JPEG
    ]:
        refused = await client.post(post, content=content, headers={**as_png, "content-type": declared})
        assert refused.status_code == 422, refused.text
    big = await client.post(post, content=b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024), headers=as_png)
    assert big.status_code == 413
    assert (
        await client.post(post, content=image, headers={**room.arm.headers, "content-type": "image/png"})
    ).status_code == 403
    assert (await client.get(video_url(file_id), headers=room.elsewhere.headers)).status_code == 404
    filed = ok(await client.get(video_url(file_id), headers=room.arm.headers))  # the room sees the DRM
    assert [c["id"] for c in filed["captures"]] == [taken_one["id"]]
    await send_link(client, room, file_id)  # a new link: the earlier session ends
    first, second = ok(await client.get(video_url(file_id), headers=room.urgentist.headers))["sessions"]
    assert first["ended_at"] and second["ended_at"] is None
    ok(await client.post(video_url(file_id, "/end"), headers=room.urgentist.headers))
    after = await client.post(post, content=image, headers=as_png)
    assert after.status_code == 409  # no session, no capture


@pytest.mark.browser
async def test_the_regulator_sees_the_callers_camera_and_captures_it_and_the_link_serves_once(
    browser: Browser,  # noqa: F811
    live_server: str,
    runtime: Runtime,
    client: AsyncClient,
    room: Room,
    smtp_server: list[Any],
    artifacts: Path,  # noqa: F811
) -> None:
    file_id = await regulated(client, room)
    regulator = await (await session_context(browser, live_server, runtime, room.urgentist)).new_page()
    await regulator.goto(f"{live_server}/regulation/dossiers/{file_id}/video")
    await regulator.fill("#link-contact", CALLER)
    await regulator.click("#link-form button")
    link = "/appel-video#" + token_of(str(await until(regulator, "window.telesanteCall.link")))
    await wait_joined(regulator)

    caller = await (await browser.new_context()).new_page()  # a phone with a fake camera, no account
    await caller.goto(live_server + link)
    assert "tsv_" not in caller.url  # the token left the address bar
    await caller.click("#btn-start")
    await wait_joined(caller)
    [peer] = await wait_frames(regulator)  # the regulator decodes the caller's camera
    assert peer["role"] == "caller"
    await regulator.click("#btn-capture")
    await until(regulator, "document.querySelectorAll('#captures img').length === 1")
    await regulator.screenshot(path=artifacts / "regulation-video-regulator.png")
    await caller.screenshot(path=artifacts / "regulation-video-caller.png")

    reused = await (await browser.new_context()).new_page()
    await reused.goto(live_server + link)
    await reused.click("#btn-start")
    await until(reused, "window.telesanteCall.state === 'refused'")
    assert "plus valable" in (await reused.text_content("#call-status") or "")

    await regulator.click("#btn-end")
    await until(caller, "window.telesanteCall.state === 'ended'")
    filed = ok(await client.get(video_url(file_id), headers=room.urgentist.headers))
    assert len(filed["captures"]) == 1 and filed["sessions"][0]["ended_at"]
