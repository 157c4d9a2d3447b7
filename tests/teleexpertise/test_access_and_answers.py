"""Who sees a request; the pool claim race; the thread; answers side by side; 409 once it is over."""

import asyncio
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from telesante.audit.models import AuditEvent
from telesante.runtime import Runtime
from telesante.teleexpertise.models import ExpertAnswer, ExpertMessage
from tests.documents.files import pdf, photo_with_gps
from tests.fixtures.world import Person
from tests.teleexpertise.conftest import ANSWER, Team, create, created, pool_of, titles


async def status_of(client: AsyncClient, person: Person, request_id: str) -> int:
    return (await client.get(f"/api/expert-requests/{request_id}", headers=person.headers)).status_code


async def test_access_matrix_expert_sees_the_request_and_its_files_not_the_record(
    client: AsyncClient, team: Team, runtime: Runtime
) -> None:
    response = await create(client, team, [("dos.jpg", photo_with_gps(), "image/jpeg")])
    request = response.json()
    pooled = await created(client, team, expert_ids=[], pool=pool_of(team))
    assert await status_of(client, team.requester, request["id"]) == 200
    assert await status_of(client, team.expert, request["id"]) == 200
    assert await status_of(client, team.patient, request["id"]) == 200
    assert await status_of(client, team.outsider, request["id"]) == 404
    assert await status_of(client, team.pool[0], request["id"]) == 404  # not addressed to the pool
    assert await status_of(client, team.pool[0], pooled["id"]) == 200
    assert await status_of(client, team.expert, pooled["id"]) == 404
    assert (
        await status_of(client, team.outsider, pooled["id"]) == 404
    )  # dermatologist of another organisation
    # The expert reads the attachment, never the patient's record or its other documents.
    assert team.patient.patient is not None
    patient_id = team.patient.patient.id
    assert (await client.get(f"/api/patients/{patient_id}", headers=team.expert.headers)).status_code == 404
    assert (
        await client.get(f"/api/patients/{patient_id}/documents", headers=team.expert.headers)
    ).status_code == 404
    other = await client.post(
        f"/api/patients/{patient_id}/documents",
        content=pdf(),
        headers={**team.requester.headers, "Content-Type": "application/pdf"},
    )
    path = f"/api/expert-requests/{request['id']}/attachments"
    assert (await client.get(f"{path}/{other.json()['id']}", headers=team.expert.headers)).status_code == 404
    photo = request["attachments"][0]["document_id"]
    assert (await client.get(f"{path}/{photo}", headers=team.outsider.headers)).status_code == 404
    async with runtime.sessionmaker() as db:
        denied = await db.scalars(
            select(AuditEvent).where(AuditEvent.resource_id == request["id"], AuditEvent.outcome == "denied")
        )
        assert denied.all()
    inbox = (await client.get("/api/expert-requests", headers=team.expert.headers)).json()
    assert [r["id"] for r in inbox] == [request["id"]]
    assert (await client.get("/api/expert-requests", headers=team.outsider.headers)).json() == []


async def test_two_experts_claim_at_once_exactly_one_wins(client: AsyncClient, team: Team) -> None:
    request = await created(client, team, expert_ids=[], pool=pool_of(team))
    assert request["pool_open"] is True
    path = f"/api/expert-requests/{request['id']}/claim"
    first, second = await asyncio.gather(*(client.post(path, headers=p.headers) for p in team.pool))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    winner, loser = (team.pool[0], team.pool[1]) if first.status_code == 200 else (team.pool[1], team.pool[0])
    assert winner.professional is not None
    claimed = (await client.get(f"/api/expert-requests/{request['id']}", headers=winner.headers)).json()
    assert (claimed["status"], claimed["claimed_by_id"]) == ("accepted", winner.professional.id)
    assert await status_of(client, loser, request["id"]) == 404  # taken: no longer theirs to see
    assert "Téléexpertise prise en charge" in await titles(client, team.requester)


async def answer(client: AsyncClient, person: Person, request_id: str, **changes: Any) -> Any:
    return await client.post(
        f"/api/expert-requests/{request_id}/answers", json={**ANSWER, **changes}, headers=person.headers
    )


async def test_thread_then_answers_side_by_side(client: AsyncClient, team: Team, runtime: Runtime) -> None:
    assert team.expert.professional and team.second.professional
    request = await created(
        client, team, expert_ids=[team.expert.professional.id, team.second.professional.id]
    )
    path = f"/api/expert-requests/{request['id']}"
    asked = await client.post(
        f"{path}/messages", json={"body": "Depuis quand ?"}, headers=team.expert.headers
    )
    assert asked.status_code == 201, asked.text
    assert "Téléexpertise : nouveau message" in await titles(client, team.requester)
    replied = await client.post(
        f"{path}/messages", json={"body": "Trois mois."}, headers=team.requester.headers
    )
    assert replied.status_code == 201
    assert "Téléexpertise : nouveau message" in await titles(client, team.expert)
    assert (
        await client.post(f"{path}/messages", json={"body": "x"}, headers=team.outsider.headers)
    ).status_code == 404
    first = await answer(client, team.expert, request["id"])
    assert first.status_code == 201, first.text
    assert first.json()["billing"][0]["produced"] is True
    assert (await client.get(path, headers=team.requester.headers)).json()["status"] == "in_progress"
    second = await answer(
        client, team.second, request["id"], see_patient="none", opinion="Lésion bénigne, surveiller."
    )
    assert second.status_code == 201, second.text
    seen = (await client.get(path, headers=team.requester.headers)).json()
    assert seen["status"] == "completed"
    assert [(a["expert"], a["see_patient"]) for a in seen["answers"]] == [
        ("Dr Claire Expert", "soon"),
        ("Dr Claire Second", "none"),
    ]
    assert [m["body"] for m in seen["messages"]] == ["Depuis quand ?", "Trois mois."]
    assert "Téléexpertise : avis reçu" in await titles(client, team.requester)
    async with runtime.sessionmaker() as db:
        from sqlalchemy import text

        stored = [bytes(b) for b in (await db.execute(text("SELECT body FROM expert_messages"))).scalars()]
        assert stored and all(b"Trois mois" not in b for b in stored)
        assert len((await db.scalars(select(ExpertMessage))).all()) == 2


async def test_answering_a_closed_cancelled_or_reassigned_request_is_409_and_writes_nothing(
    client: AsyncClient, team: Team, runtime: Runtime
) -> None:
    assert team.second.professional
    request = await created(client, team)
    path = f"/api/expert-requests/{request['id']}"
    moved = await client.post(
        f"{path}/reassign", json={"expert_id": team.second.professional.id}, headers=team.requester.headers
    )
    assert moved.status_code == 200, moved.text
    assert [(e["display_name"], e["status"]) for e in moved.json()["experts"]] == [
        ("Dr Claire Expert", "reassigned"),
        ("Dr Claire Second", "active"),
    ]
    refused = await answer(client, team.expert, request["id"])
    assert refused.status_code == 409 and "autre expert" in refused.json()["detail"]
    closed = await created(client, team)
    assert (
        await client.post(f"/api/expert-requests/{closed['id']}/close", headers=team.requester.headers)
    ).status_code == 200
    assert (await answer(client, team.expert, closed["id"])).status_code == 409
    cancelled = await created(client, team)
    assert (
        await client.post(f"/api/expert-requests/{cancelled['id']}/cancel", headers=team.requester.headers)
    ).status_code == 200
    assert (await answer(client, team.expert, cancelled["id"])).status_code == 409
    async with runtime.sessionmaker() as db:
        assert (await db.scalars(select(ExpertAnswer))).all() == []
        from tests.conftest import count

        assert await count(db, "SELECT count(*) FROM billing_lines") == 0
