"""A call's arrangement: the app with the call routes, an appointment in call, logged-in browsers, coturn."""

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

from telesante.auth import service as auth
from telesante.auth.models import User
from telesante.db import transaction, utcnow
from telesante.deps import SESSION_COOKIE
from telesante.runtime import Runtime
from telesante.teleconsultation.call.routes import router
from telesante.teleconsultation.models import Appointment, ConsultationType
from tests.browser.conftest import artifacts, browser  # noqa: F401 - the browser tests' fixtures
from tests.fixtures.app import free_port
from tests.fixtures.services import need
from tests.fixtures.world import Person, World

TURN_SECRET = "test-turn-secret"


@pytest.fixture(autouse=True)
def call_routes(app: FastAPI) -> FastAPI:
    """Until app.py includes it, the call router is added to the test's app before it serves."""
    if not any(getattr(r, "path", "") == "/ws/call/{appointment_id}" for r in app.routes):
        app.include_router(router)
    return app


@dataclass
class Call:
    appointment: Appointment
    doctor: Person
    patient: Person


async def make_call(world: World, runtime: Runtime, doctor: Person | None = None) -> Call:
    doctor = doctor or await world.professional("Lemaire")
    patient = await world.patient(doctor, with_account=True)
    assert isinstance(patient, Person) and doctor.professional and patient.patient
    async with transaction(runtime.sessionmaker) as db:
        kind = ConsultationType(
            professional_id=doctor.professional.id, label="Téléconsultation", duration_minutes=20
        )
        db.add(kind)
        await db.flush()
        now = utcnow().replace(microsecond=0)
        appointment = Appointment(
            professional_id=doctor.professional.id,
            patient_id=patient.patient.id,
            consultation_type_id=kind.id,
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(minutes=15),
            status="in_call",
            booked_by_user_id=patient.user.id,
            admitted_at=now,
            incidents=[],
        )
        db.add(appointment)
    return Call(appointment, doctor, patient)


@pytest.fixture
async def call(world: World, runtime: Runtime) -> Call:
    return await make_call(world, runtime)


async def session_cookie(runtime: Runtime, person: Person) -> str:
    """A full session (second factor passed), as after a TOTP login."""
    async with transaction(runtime.sessionmaker) as db:
        user = await db.get(User, person.user.id)
        assert user is not None
        _, pending = await auth.open_session(db, user, runtime.settings)
        token, _ = await auth.elevate_session(db, pending, "totp")
    return token


async def call_page(
    chromium: Browser, base: str, runtime: Runtime, person: Person, appointment_id: str
) -> Page:
    context: BrowserContext = await chromium.new_context()
    cookie = await session_cookie(runtime, person)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
    page = await context.new_page()
    page.on("console", _print_errors)
    await page.goto(f"{base}/teleconsultations/{appointment_id}/appel")
    return page


async def until(page: Page, expression: str, seconds: float = 15) -> object:
    """Poll a page expression until truthy (wait_for_function evaluates a string: CSP forbids it)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not (value := await page.evaluate(expression)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still false after {seconds}s: {expression}")
        await asyncio.sleep(0.05)
    return value


def _print_errors(message: ConsoleMessage) -> None:
    """The page's script errors show in a failing test's output (the favicon's 404 is no news)."""
    if message.type == "error" and "favicon" not in message.location.get("url", ""):
        print("console:", message.text)


async def wait_joined(page: Page) -> None:
    await until(page, "window.telesanteCall?.state === 'joined'")


async def wait_frames(page: Page, peers: int = 1, seconds: float = 20) -> list[dict[str, object]]:
    """Until the page decodes video frames from `peers` others; their getStats summaries."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        report: list[dict[str, object]] = await page.evaluate("window.telesanteCall.peers()")
        decoding = [p for p in report if int(str(p["framesDecoded"])) > 0]
        if len(decoding) >= peers:
            return report
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no frames decoded: {report}")
        await asyncio.sleep(0.2)


@pytest.fixture
def coturn() -> Iterator[int]:
    """coturn on a free port (UDP and TCP), REST-API secret, loopback peers allowed, no TLS."""
    need("coturn (apt package coturn)", shutil.which("turnserver") is not None)
    port = free_port()
    state = Path(tempfile.mkdtemp(prefix="telesante-turn-"))
    process = subprocess.Popen(
        [
            "turnserver",
            "-n",
            f"--listening-port={port}",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            "--allow-loopback-peers",
            "--realm=telesante.test",
            "--use-auth-secret",
            f"--static-auth-secret={TURN_SECRET}",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            f"--pidfile={state / 'pid'}",
            f"--log-file={state / 'log'}",
            "--simple-log",
            "--min-port=49160",
            "--max-port=49999",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_tcp(port)
        yield port
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(state, ignore_errors=True)


def _wait_tcp(port: int) -> None:
    import socket
    import time

    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise AssertionError("coturn did not start")
