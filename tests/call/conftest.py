"""A call's arrangement: an appointment in call, logged-in browsers, coturn."""

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
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

from telesante.auth import service as auth
from telesante.auth.models import User
from telesante.db import transaction, utcnow
from telesante.deps import SESSION_COOKIE
from telesante.runtime import Runtime
from telesante.teleconsultation.models import Appointment, ConsultationType
from tests.browser.conftest import artifacts, browser  # noqa: F401 - the browser tests' fixtures
from tests.fixtures.app import free_port
from tests.fixtures.services import need
from tests.fixtures.world import Person, World

TURN_SECRET = "test-turn-secret"


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
    context = await session_context(chromium, base, runtime, person)
    page = await context.new_page()
    page.on("console", _print_errors)
    await page.goto(f"{base}/teleconsultations/{appointment_id}/appel")
    return page


async def session_context(chromium: Browser, base: str, runtime: Runtime, person: Person) -> BrowserContext:
    """A browser context logged in as `person` (its `request` sends the session cookie)."""
    context: BrowserContext = await chromium.new_context()
    cookie = await session_cookie(runtime, person)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
    return context


async def both_in_call(chromium: Browser, base: str, runtime: Runtime, call: Call) -> tuple[Page, Page]:
    """The doctor's page, then the patient's, both joined (the doctor offers to the newcomer)."""
    doctor = await call_page(chromium, base, runtime, call.doctor, call.appointment.id)
    await wait_joined(doctor)
    patient = await call_page(chromium, base, runtime, call.patient, call.appointment.id)
    await wait_joined(patient)
    return doctor, patient


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


async def frames_advance(page: Page, by: int = 15, seconds: float = 30) -> list[dict[str, object]]:
    """Until every peer's decoded frame count has grown by `by` from now: video is flowing."""
    start = {
        p["id"]: int(str(p["framesDecoded"])) for p in await page.evaluate("window.telesanteCall.peers()")
    }
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        report: list[dict[str, object]] = await page.evaluate("window.telesanteCall.peers()")
        if report and all(int(str(p["framesDecoded"])) >= start.get(str(p["id"]), 0) + by for p in report):
            return report
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"frames stopped: from {start} to {report}")
        await asyncio.sleep(0.2)


class Coturn:
    """coturn on a free port (UDP and TCP), REST-API secret, loopback peers allowed; with
    `tls`, also TURN over TLS on `tls_port` with a self-signed certificate (as on port 443).

    `kill` and `start` again on the same port make a real drop of a relayed call's media path.
    """

    def __init__(self, tls: bool = False) -> None:
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.state = Path(tempfile.mkdtemp(prefix="telesante-turn-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.spki_sha256 = ""  # of the TLS key: what a browser is told to trust, and only that

    def _tls_options(self) -> list[str]:
        if self.tls_port is None:
            return ["--no-tls"]
        cert, key, self.spki_sha256 = self_signed_certificate(self.state)
        return [f"--tls-listening-port={self.tls_port}", f"--cert={cert}", f"--pkey={key}"]

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "turnserver",
                "-n",
                f"--listening-port={self.port}",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                "--allow-loopback-peers",
                "--realm=telesante.test",
                "--use-auth-secret",
                f"--static-auth-secret={TURN_SECRET}",
                *self._tls_options(),
                "--no-dtls",
                "--no-cli",
                f"--pidfile={self.state / 'pid'}",
                f"--log-file={self.state / 'log'}",
                "--simple-log",
                "--min-port=49160",
                "--max-port=49999",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_tcp(self.port)
        if self.tls_port is not None:
            _wait_tcp(self.tls_port)

    def kill(self) -> None:
        """SIGKILL: no goodbye to the allocations, as when the relay's machine goes down."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self.kill()


@pytest.fixture
def turn_server() -> Iterator[Coturn]:
    need("coturn (apt package coturn)", shutil.which("turnserver") is not None)
    server = Coturn()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.state, ignore_errors=True)


@pytest.fixture
def tls_turn_server() -> Iterator[Coturn]:
    need("coturn (apt package coturn)", shutil.which("turnserver") is not None)
    server = Coturn(tls=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.state, ignore_errors=True)


def self_signed_certificate(directory: Path) -> tuple[Path, Path, str]:
    """A certificate for 127.0.0.1 (the relay's TLS) as PEM files, and its key's SPKI SHA-256 (base64)."""
    import base64
    import datetime
    import hashlib
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "turn.telesante.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert, pkey = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pkey.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return cert, pkey, base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def coturn(turn_server: Coturn) -> int:
    """The port of a running coturn."""
    return turn_server.port


def _wait_tcp(port: int) -> None:
    import socket
    import time

    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise AssertionError("coturn did not start")
