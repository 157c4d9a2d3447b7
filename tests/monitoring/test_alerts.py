"""Alerts through HTTP: one per rule and patient, hysteresis, late data, acknowledgement, resolution."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import text

from telesante.realtime.bus import user_channel
from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.monitoring.conftest import Followed, ago, alerts, bundle, glucose, send


async def _rules(client: AsyncClient, followed: Followed) -> dict[str, str]:
    response = await client.get(
        f"/api/monitoring/programs/{followed.program_id}/rules", headers=followed.doctor.headers
    )
    return {r["code"]: r["status"] for r in response.json()}


async def test_a_long_low_opens_one_alert_not_a_flood(client: AsyncClient, followed: Followed) -> None:
    start = ago(minutes=60)
    first = await send(client, followed, glucose(65, start))
    for minutes, value in ((5, 62), (10, 60), (15, 58), (20, 61)):
        await send(client, followed, glucose(value, start + timedelta(minutes=minutes)))
    [alert] = await alerts(client, followed.doctor)
    assert (alert["rule_code"], alert["severity"], alert["status"]) == ("glucose.hypo", "warning", "open")
    assert alert["episodes"] == 1 and alert["condition_active"] is True
    assert datetime.fromisoformat(alert["occurred_at"]) == start
    evidence = await client.get(
        f"/api/monitoring/alerts/{alert['id']}/measurements", headers=followed.doctor.headers
    )
    assert [m["value"] for m in evidence.json()] == [65]  # the measurement that raised it
    assert evidence.json()[0]["id"] == first.json()["id"]


async def test_hysteresis_through_http(client: AsyncClient, followed: Followed) -> None:
    start = ago(minutes=60)
    await send(client, followed, glucose(65, start))
    await send(client, followed, glucose(72, start + timedelta(minutes=5)))  # above 70, below 70 + 5
    [alert] = await alerts(client, followed.doctor)
    assert alert["condition_active"] is True
    assert (await _rules(client, followed))["glucose.hypo"] == "raised"
    await send(client, followed, glucose(76, start + timedelta(minutes=10)))  # beyond the margin
    [alert] = await alerts(client, followed.doctor)
    assert alert["condition_active"] is False and alert["status"] == "open"  # still for the team to see
    assert (await _rules(client, followed))["glucose.hypo"] == "clear"
    await send(client, followed, glucose(66, start + timedelta(minutes=15)))
    [again] = await alerts(client, followed.doctor)  # the same unresolved alert, a second episode
    assert (again["id"], again["episodes"], again["condition_active"]) == (alert["id"], 2, True)
    assert len(again["evidence"]) == 2


async def test_a_late_reading_raises_an_alert_for_its_time(client: AsyncClient, followed: Followed) -> None:
    now = ago(minutes=1)
    await send(client, followed, glucose(110, now))
    night = now - timedelta(minutes=90)
    late = await send(client, followed, glucose(60, night))
    [alert] = await alerts(client, followed.doctor)
    assert alert["late"] is True and alert["evidence"] == [late.json()["id"]]
    assert datetime.fromisoformat(alert["occurred_at"]) == night
    assert (
        alert["condition_active"] is True
    )  # the newest reading is fine, but nothing recovered after the low


async def test_history_before_enrolment_raises_nothing(client: AsyncClient, followed: Followed) -> None:
    await send(client, followed, glucose(45, ago(hours=5)))  # the program started two hours ago
    assert await alerts(client, followed.doctor) == []


async def test_an_out_of_order_batch_is_read_in_time_order(client: AsyncClient, followed: Followed) -> None:
    t = ago(minutes=40)
    sent = bundle(
        "batch",
        glucose(90, t + timedelta(minutes=20)),
        glucose(64, t),
        glucose(80, t + timedelta(minutes=10)),
    )
    await client.post("/fhir/R4", headers=followed.device_headers, json=sent)
    [alert] = await alerts(client, followed.doctor)
    assert datetime.fromisoformat(alert["occurred_at"]) == t
    assert alert["condition_active"] is False
    assert datetime.fromisoformat(alert["condition_cleared_at"]) == t + timedelta(minutes=10)


async def test_alerts_are_listed_most_severe_then_newest_first(
    client: AsyncClient, followed: Followed
) -> None:
    await send(
        client,
        followed,
        glucose(300, ago(minutes=30)),
        glucose(140, ago(minutes=25)),
        glucose(50, ago(minutes=20)),
    )
    listed = await alerts(client, followed.doctor)
    assert [(a["rule_code"], a["severity"]) for a in listed] == [
        ("glucose.hypo_severe", "critical"),
        ("glucose.hypo", "warning"),  # raised by the same reading as the severe one, after the hyper
        ("glucose.hyper", "warning"),
    ]


async def test_acknowledge_with_a_comment_then_resolve(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    await send(client, followed, glucose(64, ago(minutes=30)))
    [alert] = await alerts(client, followed.doctor)
    url = f"/api/monitoring/alerts/{alert['id']}"
    empty = await client.post(f"{url}/acknowledge", headers=followed.doctor.headers, json={"comment": ""})
    assert empty.status_code == 422
    by_patient = await client.post(
        f"{url}/acknowledge", headers=followed.patient.headers, json={"comment": "ok"}
    )
    assert by_patient.status_code == 403
    comment = "Patient appelé : resucrage fait, glycémie de contrôle à 95."
    acked = await client.post(
        f"{url}/acknowledge", headers=followed.second.headers, json={"comment": comment}
    )
    assert acked.status_code == 200, acked.text
    assert (acked.json()["status"], acked.json()["acknowledgement"]) == ("acknowledged", comment)
    assert acked.json()["acknowledged_by_user_id"] == followed.second.user.id
    twice = await client.post(f"{url}/acknowledge", headers=followed.doctor.headers, json={"comment": "vu"})
    assert twice.status_code == 409
    assert "prise en compte" in twice.json()["detail"] and "attendu : résolue" in twice.json()["detail"]
    async with runtime.sessionmaker() as db:
        raw = (await db.execute(text("SELECT acknowledgement FROM monitoring_alerts"))).scalar_one()
    assert comment.encode() not in bytes(raw)  # encrypted at rest
    resolved = await client.post(
        f"{url}/resolve", headers=followed.doctor.headers, json={"comment": "épisode clos"}
    )
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    assert await alerts(client, followed.doctor, status="open") == []
    # Resolved: the next episode is a new alert.
    await send(client, followed, glucose(80, ago(minutes=20)), glucose(63, ago(minutes=10)))
    [new] = await alerts(client, followed.doctor, status="open")
    assert new["id"] != alert["id"]


async def test_alerts_over_fhir_as_detected_issue(
    client: AsyncClient, world: World, followed: Followed
) -> None:
    reading = await send(client, followed, glucose(62, ago(minutes=10)))
    [alert] = await alerts(client, followed.doctor)
    assert followed.patient.patient is not None
    patient = followed.patient.patient.id
    issue = (
        await client.get(f"/fhir/R4/DetectedIssue/{alert['id']}", headers=followed.doctor.headers)
    ).json()
    assert issue["resourceType"] == "DetectedIssue" and issue["status"] == "preliminary"
    assert issue["severity"] == "moderate" and issue["patient"]["reference"] == f"Patient/{patient}"
    assert issue["implicated"] == [{"reference": f"Observation/{reading.json()['id']}"}]
    observation = await client.get(
        f"/fhir/R4/{issue['implicated'][0]['reference']}", headers=followed.doctor.headers
    )
    assert observation.status_code == 200
    await client.post(
        f"/api/monitoring/alerts/{alert['id']}/acknowledge",
        headers=followed.doctor.headers,
        json={"comment": "appelé"},
    )
    searched = await client.get(
        "/fhir/R4/DetectedIssue", headers=followed.patient.headers, params={"patient": patient}
    )
    [entry] = searched.json()["entry"]
    assert entry["resource"]["status"] == "final"
    assert entry["resource"]["mitigation"][0]["action"]["text"] == "prise en compte : appelé"
    stranger = await world.professional("Inconnu")
    hidden = await client.get(f"/fhir/R4/DetectedIssue/{alert['id']}", headers=stranger.headers)
    assert hidden.status_code == 404 and hidden.json()["resourceType"] == "OperationOutcome"
    refused = await client.get(
        "/fhir/R4/DetectedIssue", headers=stranger.headers, params={"patient": patient}
    )
    assert refused.status_code == 404


async def test_live_events_after_commit(client: AsyncClient, followed: Followed, runtime: Runtime) -> None:
    received: list[dict[str, Any]] = []

    async def listen() -> None:
        async with runtime.bus.subscribe(user_channel(followed.second.user.id)) as messages:
            ready.set()
            async for message in messages:
                received.append(message)
                if message["type"] == "monitoring_alert":
                    return

    ready = asyncio.Event()
    listener = asyncio.create_task(listen())
    await ready.wait()
    await send(client, followed, glucose(66, ago(minutes=5)))
    await asyncio.wait_for(listener, 5)
    types = [m["type"] for m in received]
    assert "monitoring_measurement" in types and types[-1] == "monitoring_alert"
    assert received[-1]["rule_code"] == "glucose.hypo"
    assert followed.patient.patient is not None
    assert received[-1]["patient_id"] == followed.patient.patient.id
