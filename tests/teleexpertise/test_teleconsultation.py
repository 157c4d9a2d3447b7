"""From an opinion to a téléconsultation in the expert's own agenda, the request's context as reason."""

from datetime import datetime, timedelta

from httpx import AsyncClient

from tests.fixtures.acts import open_agenda
from tests.teleexpertise.conftest import Team, created, titles


async def test_the_expert_proposes_a_teleconsultation_the_request_links_it(
    client: AsyncClient, team: Team
) -> None:
    request = await created(client, team)
    path = f"/api/expert-requests/{request['id']}/teleconsultation"
    day = (datetime.now().astimezone() + timedelta(days=2)).date()
    assert team.expert.professional is not None
    no_agenda = await client.post(
        path,
        json={"consultation_type_id": "x", "starts_at": f"{day}T10:00:00+00:00"},
        headers=team.expert.headers,
    )
    assert no_agenda.status_code == 409 and "pas d'agenda" in no_agenda.json()["detail"]
    type_id = await open_agenda(client, team.expert, billing_code="TC")
    slots = await client.get(
        f"/api/professionals/{team.expert.professional.id}/slots",
        headers=team.patient.headers,
        params={"consultation_type_id": type_id, "from": day.isoformat(), "to": day.isoformat()},
    )
    slot = slots.json()[0]
    proposed = await client.post(
        path, json={"consultation_type_id": type_id, "starts_at": slot}, headers=team.expert.headers
    )
    assert proposed.status_code == 201, proposed.text
    appointment_id = proposed.json()["appointment_id"]
    assert appointment_id
    mine = await client.get("/api/teleconsultations", headers=team.patient.headers)
    assert appointment_id in [a["id"] for a in mine.json()]
    assert "Téléconsultation proposée par le médecin expert" in await titles(client, team.patient)
    refused = await client.post(
        path, json={"consultation_type_id": type_id, "starts_at": slot}, headers=team.requester.headers
    )
    assert refused.status_code == 403
