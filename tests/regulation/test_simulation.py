"""Simulated calls: seeded, at the asked rate, with every priority; played through the real
telephony endpoint and the ARM's API of a live server."""

from collections import Counter
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import select

from telesante.auth.models import User
from telesante.regulation.models import RegulationCall, RegulationFile
from telesante.regulation.simulate_cli import simulate_calls
from telesante.regulation.simulation import calls
from telesante.runtime import Runtime
from tests.regulation.conftest import TELEPHONY_SECRET, Room, ok


def test_the_stream_is_seeded_and_keeps_its_rate() -> None:
    hour = list(calls(50, timedelta(hours=1), seed="s"))
    assert hour == list(calls(50, timedelta(hours=1), seed="s"))
    assert hour != list(calls(50, timedelta(hours=1), seed="t"))
    assert 2700 < len(hour) < 3300  # 50 a minute, Poisson
    offsets = [c.offset for c in hour]
    assert offsets == sorted(offsets) and offsets[-1] < 3600
    priorities = Counter(c.priority for c in hour)
    assert (
        set(priorities) == {"P0", "P1", "P2", "P3", "NR"}
        and priorities["P2"] > priorities["P1"] > priorities["P0"]
    )
    assert 0.3 < sum(c.perimeter == "SNP" for c in hour) / len(hour) < 0.6
    assert len({c.call_id for c in hour}) == len(hour)


async def test_simulated_calls_fill_the_room_of_a_live_server(
    live_server: str, client: AsyncClient, room: Room, runtime: Runtime
) -> None:
    assert isinstance(room.arm.user, User)
    outcomes = await simulate_calls(
        rate=120,
        duration=timedelta(seconds=10),
        url=live_server,
        telephony=TELEPHONY_SECRET,
        arm_email=room.arm.user.email,
        seed="t",
        speed=200,
    )
    played = sum(outcomes.values())
    assert played >= 5 and outcomes["qualified"] + outcomes["abandoned"] == played
    async with runtime.sessionmaker() as db:
        opened = list(
            await db.scalars(select(RegulationFile).where(RegulationFile.centre_id == room.centre.id))
        )
        calls_seen = list(
            await db.scalars(select(RegulationCall).where(RegulationCall.centre_id == room.centre.id))
        )
    assert len(opened) == outcomes["qualified"] and all(f.motive and f.latitude for f in opened)
    assert len(calls_seen) == played and all(c.state == "ended" for c in calls_seen)
    queue = ok(await client.get("/api/regulation/queue", headers=room.urgentist.headers))
    assert len(queue["waiting"]) == sum(f.priority != "NR" for f in opened)
