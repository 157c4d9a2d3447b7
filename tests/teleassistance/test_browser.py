"""Téléassistance in Chromium: a nurse's phone with two cameras (its camera and a dermatoscope)
calls a dermatologist from the start page; the doctor accepts the ringing card, receives both
videos, draws a circle that the nurse's page shows on the same point of the picture, whatever the
two screens' sizes and orientations; a frozen, annotated frame and a full-resolution photo go to
the record and the report. Someone else with the link gets nothing."""

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import AsyncClient
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page

from telesante.deps import SESSION_COOKIE
from telesante.runtime import Runtime
from tests.browser.conftest import ARGS, CHROMIUM, artifacts, browser  # noqa: F401 - the browser fixtures
from tests.call.conftest import session_cookie, until
from tests.fixtures.world import Person
from tests.prescriptions.test_pdf import pdf_text
from tests.teleassistance.conftest import Home, ok

pytestmark = pytest.mark.browser
# Chromium's fake devices: fake_device_0 gives I420 frames, fake_device_1 Y16 (a depth camera,
# which WebRTC does not encode), fake_device_2 MJPEG: the phone's camera and its dermatoscope are
# fake_device_0 and fake_device_2.
TWO_CAMERAS = [a for a in ARGS if not a.startswith("--use-fake-device")] + [
    "--use-fake-device-for-media-stream=device-count=3"
]
DERMATOSCOPE = "fake_device_2"
PHONE = {"width": 390, "height": 844}  # portrait
DESKTOP = {"width": 1280, "height": 800}  # landscape

# Where a normalised point of the picture is on screen, computed here from the <video>'s box and
# its frames' size as object-fit: contain lays them out (not with the page's own helper).
TO_SCREEN = """([id, nx, ny]) => {
  const v = document.getElementById(id), b = v.getBoundingClientRect();
  const [w0, h0] = v.videoWidth ? [v.videoWidth, v.videoHeight] : [v.naturalWidth, v.naturalHeight];
  const s = Math.min(b.width / w0, b.height / h0), w = w0 * s, h = h0 * s;
  return [b.left + (b.width - w) / 2 + nx * w, b.top + (b.height - h) / 2 + ny * h];
}"""
# The nurse's page: where the circle is drawn (from the overlay's own report), back to the picture's
# coordinates, and the overlay's pixels on the circle's ring (the mark is really painted there).
SHOWN = """() => {
  const v = document.getElementById("ta-main"), [mark] = window.telesanteCall.shown("main");
  const s = Math.min(v.clientWidth / v.videoWidth, v.clientHeight / v.videoHeight);
  const w = v.videoWidth * s, h = v.videoHeight * s;
  const x0 = (v.clientWidth - w) / 2, y0 = (v.clientHeight - h) / 2;
  const points = mark.pixels.map(([x, y]) => [(x - x0) / w, (y - y0) / h]);
  const canvas = document.getElementById("ta-main-overlay"), ratio = canvas.width / canvas.clientWidth;
  const [cx, cy] = mark.pixels[0], r = Math.hypot(mark.pixels[1][0] - cx, mark.pixels[1][1] - cy);
  const ring = canvas.getContext("2d").getImageData((cx + r) * ratio - 3, cy * ratio - 3, 7, 7).data;
  const inside = canvas.getContext("2d").getImageData(cx * ratio - 3, cy * ratio - 3, 7, 7).data;
  const reddest = (d) =>
    Math.max(...[...Array(d.length / 4).keys()].map((i) => (d[4 * i + 3] > 100 ? d[4 * i] : 0)));
  return {points, ring: reddest(ring), inside: reddest(inside), letterboxed: [x0, y0], rim: [cx + r, cy]};
}"""
# The overlay's drawing size, once it has followed its box (CSS size × device pixel ratio).
OVERLAY_WIDTH = """(() => { const c = document.getElementById("ta-main-overlay");
  return c.width === Math.round(c.clientWidth * devicePixelRatio) ? c.width : 0; })()"""


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Browser]:  # noqa: F811
    """The nurse's browser: two cameras."""
    chromium = await browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=TWO_CAMERAS)
    yield chromium
    await chromium.close()


async def logged_in(
    chromium: Browser, base: str, runtime: Runtime, person: Person, viewport: dict[str, int], scale: int = 1
) -> Page:
    context: BrowserContext = await chromium.new_context(viewport=viewport, device_scale_factor=scale)  # type: ignore[arg-type]
    await context.add_cookies(
        [{"name": SESSION_COOKIE, "value": await session_cookie(runtime, person), "url": base}]
    )
    page = await context.new_page()
    page.on("console", lambda m: m.type == "error" and print("console:", m.text))
    return page


async def draw_circle(page: Page, media: str, centre: tuple[float, float], edge: tuple[float, float]) -> None:
    await page.locator(f"#{media}").scroll_into_view_if_needed()  # after a click on the tools below
    start = await page.evaluate(TO_SCREEN, [media, *centre])
    end = await page.evaluate(TO_SCREEN, [media, *edge])
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(*end, steps=4)
    await page.mouse.up()


def red_at(png: bytes, point: list[float], scale: int) -> bool:
    """Whether the screenshot is red (the circle's colour, not the camera's green) near `point`."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x, y = round(point[0] * scale), round(point[1] * scale)
    around = [image.getpixel((x + dx, y + dy)) for dx in range(-4, 5) for dy in range(-4, 5)]
    return any(r > 180 and g < 120 for r, g, _ in around)  # type: ignore[misc]


def close_to(points: list[list[float]], expected: list[tuple[float, float]], within: float = 0.01) -> bool:
    return all(
        abs(a - b) <= within for p, e in zip(points, expected, strict=True) for a, b in zip(p, e, strict=True)
    )


async def nurse_calls(page: Page, base: str, home: Home) -> str:
    """From the start page to the session page: the session's id."""
    assert home.patient.patient and home.doctor.professional
    await page.goto(f"{base}/teleassistance")
    await page.select_option("#patient_id", home.patient.patient.id)
    await page.fill("#act", "Ulcère de jambe : avis sur la plaie et le pansement")
    await page.fill("#doctor", home.doctor.professional.rpps)
    await page.click("#ta-call-button")
    await page.wait_for_url("**/teleassistance/*-*")
    return page.url.rsplit("/", 1)[1]


async def test_the_doctor_sees_both_videos_and_draws_where_the_nurse_sees_it(
    browser: Browser,  # noqa: F811
    phone: Browser,
    live_server: str,
    runtime: Runtime,
    client: AsyncClient,
    home: Home,
    artifacts: Path,  # noqa: F811
) -> None:
    doctor = await logged_in(browser, live_server, runtime, home.doctor, DESKTOP)
    await doctor.goto(f"{live_server}/teleassistance")
    await until(doctor, "document.querySelector('#ta-no-call') !== null")
    nurse = await logged_in(phone, live_server, runtime, home.nurse, PHONE, scale=2)
    session_id = await nurse_calls(nurse, live_server, home)

    await until(
        doctor, "document.querySelector('#ta-call-list .ta-call button') !== null"
    )  # rings, no reload
    await doctor.click("#ta-call-list .ta-call button")
    await doctor.wait_for_url(f"**/teleassistance/{session_id}")
    assert await until(nurse, "window.telesanteCall.devices && window.telesanteCall.devices()") == 3
    await until(nurse, "document.querySelector('#ta-extra-device').options.length === 3")
    await nurse.select_option("#ta-extra-device", label=DERMATOSCOPE)  # sent as a second video track
    for page in (nurse, doctor):
        await until(
            page, "window.telesanteCall.state === 'joined' && window.telesanteCall.channel === 'open'"
        )
    decoding = "window.telesanteCall.inbound().then(s => s.filter(x => x.framesDecoded > 0).length)"
    assert await until(doctor, f"{decoding}.then(n => n === 2 && n)", 20) == 2
    await until(doctor, "window.telesanteCall.extra?.kind === 'dermatoscope'")
    for page in (nurse, doctor):  # the dermatoscope's video plays on both screens
        await until(page, "!document.getElementById('ta-extra').paused")

    await doctor.check('input[name="ta-tool"][value="circle"]')
    await doctor.select_option("#ta-color", "#ff3b30")
    await doctor.check("#ta-pin")
    expected = [(0.3, 0.4), (0.38, 0.4)]
    await draw_circle(doctor, "ta-main", *expected)
    [sent] = await doctor.evaluate("window.telesanteCall.sent")
    assert sent["type"] == "circle" and sent["track"] == "main" and close_to(sent["points"], expected)
    await until(nurse, "window.telesanteCall.shown('main').length === 1")
    shown = await nurse.evaluate(SHOWN)
    assert close_to(shown["points"], sent["points"]), shown  # the same point of the picture
    assert shown["ring"] > 200 and shown["inside"] == 0, shown  # painted on the ring, not inside
    assert shown["letterboxed"][1] > 0  # a portrait phone: bars above and below the picture
    await nurse.screenshot(path=artifacts / "teleassistance-nurse-portrait.png", full_page=True)
    assert red_at(await nurse.locator("#ta-main").screenshot(), shown["rim"], scale=2)  # as a person sees it
    await doctor.screenshot(path=artifacts / "teleassistance-doctor.png")
    before = await nurse.evaluate(OVERLAY_WIDTH)
    await nurse.set_viewport_size({"width": 844, "height": 390})  # the phone turned
    await doctor.set_viewport_size({"width": 900, "height": 1000})
    await until(nurse, f"{OVERLAY_WIDTH} !== {before}")  # the overlay followed the new box
    turned = await nurse.evaluate(SHOWN)
    assert close_to(turned["points"], sent["points"]) and turned["ring"] > 200, turned
    assert close_to(await doctor.evaluate("window.telesanteCall.shown('main')[0].points"), sent["points"])
    await nurse.screenshot(path=artifacts / "teleassistance-nurse-landscape.png", full_page=True)

    await doctor.select_option("#ta-checklist-code", "pansement-complexe")
    await doctor.click("#ta-checklist-form button")
    await until(nurse, "document.querySelectorAll('#ta-steps input').length === 8")
    await nurse.check("#ta-steps li:first-child input")
    await until(doctor, "document.querySelector('#ta-steps li.ta-done') !== null")

    await doctor.click("#ta-freeze-main")
    await until(doctor, "window.telesanteCall.frozen === true")
    await draw_circle(doctor, "ta-still", (0.5, 0.5), (0.6, 0.5))
    await doctor.click("#ta-send")
    await until(nurse, "window.telesanteCall.received === 1")
    await doctor.click("#ta-photo")
    await until(nurse, "window.telesanteCall.photos === 1")
    await until(doctor, "document.querySelectorAll('#ta-captures img').length === 2")
    await nurse.screenshot(path=artifacts / "teleassistance-nurse-still.png", full_page=True)

    url = f"/api/teleassistance/sessions/{session_id}"
    annotated, photo = ok(await client.get(url, headers=home.nurse.headers))["captures"]
    assert annotated["source"] == "camera" and [m["type"] for m in annotated["marks"]] == ["circle"]
    assert close_to(annotated["marks"][0]["points"], [(0.5, 0.5), (0.6, 0.5)]) and photo["marks"] == []
    full = await client.get(f"{url}/captures/{photo['id']}", headers=home.doctor.headers)
    assert Image.open(io.BytesIO(full.content)).width >= 640

    doctor.on("dialog", lambda dialog: dialog.accept())
    await doctor.click("#ta-end")
    await until(nurse, "window.telesanteCall.state === 'ended'")
    await until(doctor, "!document.getElementById('ta-report').hidden")
    report = await client.get(f"{url}/report.pdf", headers=home.nurse.headers)
    text = pdf_text(report.content)
    assert "Images captur" in text and "camera, 1 annotation(s)" in text and "camera, 0 annotation(s)" in text
    await doctor.screenshot(path=artifacts / "teleassistance-doctor-ended.png", full_page=True)

    outsider = await logged_in(browser, live_server, runtime, home.outsider, DESKTOP)
    refused = await outsider.goto(f"{live_server}/teleassistance/{session_id}")
    assert refused is not None and refused.status == 404
    assert (await client.post(f"{url}/join", headers=home.outsider.headers)).status_code == 404
