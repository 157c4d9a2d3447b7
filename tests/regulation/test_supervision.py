"""The room's numbers: time to answer, share answered within 60 s, time to regulation per
priority, files per person per hour; on the API, the page and /metrics."""

from datetime import timedelta

from httpx import AsyncClient

from telesante.db import utcnow
from tests.regulation.conftest import TELEPHONY_SECRET, Room, ok, taken

TELEPHONY = {"Authorization": f"Bearer {TELEPHONY_SECRET}"}


async def call(
    client: AsyncClient, room: Room, call_id: str, rings: int | None, minutes_ago: int
) -> str | None:
    """A call received `minutes_ago`, answered after `rings` seconds (None: the caller hangs up)."""
    assert room.arm.professional and room.centre.finess
    start = utcnow() - timedelta(minutes=minutes_ago)
    base = {"call_id": call_id, "centre_finess": room.centre.finess, "line": "15"}
    post = "/api/regulation/telephony/events"
    ok(
        await client.post(
            post, json={**base, "event": "incoming", "at": start.isoformat()}, headers=TELEPHONY
        ),
        202,
    )
    if rings is None:
        ended = {**base, "event": "hung_up", "at": (start + timedelta(seconds=30)).isoformat()}
        ok(await client.post(post, json=ended, headers=TELEPHONY), 202)
        return None
    answered = {
        **base,
        "event": "answered",
        "agent_rpps": room.arm.professional.rpps,
        "at": (start + timedelta(seconds=rings)).isoformat(),
    }
    file_id: str = ok(await client.post(post, json=answered, headers=TELEPHONY), 202)["file_id"]
    return file_id


async def test_the_supervisor_reads_the_rooms_numbers(client: AsyncClient, room: Room) -> None:
    before = (await client.get("/metrics")).text
    quick = await call(client, room, "s-1", rings=10, minutes_ago=30)
    await call(client, room, "s-2", rings=90, minutes_ago=20)
    await call(client, room, "s-3", rings=None, minutes_ago=10)
    await call(client, room, "s-old", rings=5, minutes_ago=180)  # outside the hour
    assert quick
    await taken(client, room, quick)
    figures = ok(await client.get("/api/regulation/supervision?hours=1", headers=room.gp.headers))
    assert (figures["calls"], figures["answered"], figures["abandoned"]) == (3, 2, 1)
    assert figures["answered_within_60s"] == round(1 / 3, 4)  # the abandoned call counts against it
    assert figures["answer_seconds"]["median"] == 50 and figures["answer_seconds"]["count"] == 2
    # Taken just now: received 30 min ago, so about 1,800 s to regulation, at the file's priority (P2).
    waited = figures["time_to_regulation"]["P2"]
    assert waited["count"] == 1 and 1790 < waited["median"] < 1900
    assert figures["per_arm_per_hour"] == {"Claire Haddad": 2.0}
    assert figures["per_regulator_per_hour"] == {"Dr Claire Dupuis": 1.0}
    assert (
        ok(await client.get("/api/regulation/supervision?hours=24", headers=room.arm.headers))["calls"] == 4
    )
    assert (
        await client.get("/api/regulation/supervision?hours=0", headers=room.arm.headers)
    ).status_code == 422
    assert (await client.get("/api/regulation/supervision", headers=room.outsider.headers)).status_code == 403

    page = await client.get("/regulation/supervision?hours=1", headers=room.urgentist.headers)
    assert page.status_code == 200 and "33.3 %" in page.text and "Délai jusqu'à la régulation" in page.text
    after = (await client.get("/metrics")).text
    assert "telesante_regulation_answer_seconds_bucket" in after
    assert (
        _value(after, "telesante_regulation_abandoned_calls_total")
        == _value(before, "telesante_regulation_abandoned_calls_total") + 1
    )


def _value(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0
