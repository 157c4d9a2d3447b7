"""`telesante simulate calls`: a running server receives simulated calls as a centre's telephony
would send them (incoming, answered by the ARM, hung up), and the ARM qualifies each file through
the API. For demos (the room fills up live) and load tests (bench/regulation_room.py)."""

import asyncio
import random
import time
from collections import Counter
from datetime import timedelta

import click
import httpx
from sqlalchemy import select

from telesante.auth import service as auth
from telesante.auth.models import User
from telesante.db import transaction
from telesante.directory.models import Organisation, Professional
from telesante.regulation.models import RegulationStaff
from telesante.regulation.simulation import SimulatedCall, calls
from telesante.runtime import Runtime
from telesante.settings import get_settings

DEMO_ARM = "nadia.haddad@demo.telesante.fr"  # demo/data.py's ARM
EVENTS = "/api/regulation/telephony/events"


async def arm_access(arm_email: str) -> tuple[str, str, str]:
    """(API token, RPPS, centre FINESS) of the ARM who answers: a fresh token, made here."""
    settings = get_settings()
    runtime = Runtime.create(settings)
    try:
        async with transaction(runtime.sessionmaker) as db:
            row = (
                await db.execute(
                    select(User, Professional, Organisation)
                    .join(Professional, Professional.id == User.professional_id)
                    .join(RegulationStaff, RegulationStaff.professional_id == Professional.id)
                    .join(Organisation, Organisation.id == RegulationStaff.centre_id)
                    .where(User.email == arm_email.strip().lower(), RegulationStaff.function == "arm")
                )
            ).first()
            if row is None:
                raise click.ClickException(
                    f"no ARM account {arm_email!r} in a centre (run `telesante demo` first?)"
                )
            user, professional, centre = row
            token, _ = await auth.create_api_token(db, user, settings, label="simulate calls")
            return token, professional.rpps, centre.finess or ""
    finally:
        await runtime.close()


class Caller:
    """Plays one call through the telephony endpoint and the ARM's API."""

    def __init__(self, http: httpx.AsyncClient, telephony: str, arm: str, rpps: str, finess: str) -> None:
        self.http, self.rpps, self.finess = http, rpps, finess
        self.telephony = {"Authorization": f"Bearer {telephony}"}
        self.arm = {"Authorization": f"Bearer {arm}"}
        self.outcomes: Counter[str] = Counter()

    async def play(self, call: SimulatedCall, rng: random.Random, speed: float) -> None:
        base = {"call_id": call.call_id, "centre_finess": self.finess, "line": call.line}
        await self._event({**base, "event": "incoming", "caller_number": call.caller_number})
        await asyncio.sleep(rng.uniform(2, 40) / speed)  # rings until an ARM picks up
        if rng.random() < 0.03:  # the caller hangs up first
            await self._event({**base, "event": "hung_up"})
            self.outcomes["abandoned"] += 1
            return
        answered = await self._event({**base, "event": "answered", "agent_rpps": self.rpps})
        await asyncio.sleep(rng.uniform(20, 90) / speed)  # the ARM questions, then qualifies
        intake = {
            "priority": call.priority,
            "perimeter": call.perimeter,
            "motive": call.motive,
            "whats_happen": call.whats_happen,
            "caller_type": call.caller_type,
            "city": call.city,
            "latitude": call.latitude,
            "longitude": call.longitude,
            "patient_age": call.patient_age,
            "patient_sex": call.patient_sex,
        }
        response = await self.http.patch(
            f"/api/regulation/files/{answered['file_id']}", json=intake, headers=self.arm
        )
        self.outcomes["qualified" if response.status_code == 200 else f"intake {response.status_code}"] += 1
        await self._event({**base, "event": "hung_up", "recording_ref": f"rec://{call.call_id}.wav"})

    async def _event(self, body: dict[str, object]) -> dict[str, str]:
        response = await self.http.post(EVENTS, json=body, headers=self.telephony)
        if response.status_code != 202:
            raise click.ClickException(f"telephony event refused: {response.status_code} {response.text}")
        answer: dict[str, str] = response.json()
        return answer


async def simulate_calls(
    rate: float, duration: timedelta, url: str, telephony: str, arm_email: str, seed: str, speed: float
) -> Counter[str]:
    token, rpps, finess = await arm_access(arm_email)
    rng = random.Random(f"play:{seed}")
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        caller = Caller(http, telephony, token, rpps, finess)
        playing = []
        for call in calls(rate, duration, seed):
            await asyncio.sleep(max(0.0, started + call.offset / speed - time.monotonic()))
            playing.append(asyncio.create_task(caller.play(call, rng, speed)))
        await asyncio.gather(*playing)
    return caller.outcomes


@click.command("calls")
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="Calls per minute",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Minutes of calls",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=1),
    default=1.0,
    show_default=True,
    help="Play the calls this many times faster than real time",
)
@click.option("--url", help="Server base URL (default from the settings)")
@click.option("--arm", "arm_email", default=DEMO_ARM, show_default=True, help="E-mail of the ARM who answers")
@click.option("--seed", default="0", show_default=True)
def simulate_calls_command(
    rate: float, duration: float, speed: float, url: str | None, arm_email: str, seed: str
) -> None:
    """Calls to the centre, with mixed priorities, through the telephony endpoint."""
    settings = get_settings()
    if not settings.telephony_token:
        raise click.ClickException(
            "TELESANTE_TELEPHONY_TOKEN is not set: the server would refuse every event"
        )
    outcomes = asyncio.run(
        simulate_calls(
            rate,
            timedelta(minutes=duration),
            url or settings.base_url,
            settings.telephony_token,
            arm_email,
            seed,
            speed,
        )
    )
    for outcome, number in sorted(outcomes.items()):
        click.echo(f"{outcome}: {number}")
