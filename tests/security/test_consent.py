"""Consent per act: recorded with who, when, how and what was said; a withdrawal blocks new acts at once."""

import pytest
from httpx import AsyncClient

from telesante.consent.service import ConsentMissing, require_consent
from telesante.runtime import Runtime
from tests.fixtures.world import World

INFO = "Information orale : déroulé de la téléconsultation, vidéo obligatoire, données hébergées HDS."


async def test_a_consent_is_recorded_then_withdrawn(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    me = await world.patient(doctor, with_account=True)
    base = f"/api/patients/{me.patient.id}/consents"
    status = await client.get(f"{base}/status/teleconsultation", headers=doctor.headers)
    assert status.json() == {"act": "teleconsultation", "in_force": False}

    created = await client.post(
        base,
        headers=doctor.headers,
        json={"act": "teleconsultation", "method": "in_person", "information": INFO},
    )
    assert created.status_code == 201 and created.json()["in_force"] is True
    assert (await client.get(f"{base}/status/teleconsultation", headers=doctor.headers)).json()["in_force"]
    async with runtime.sessionmaker() as db:
        assert (await require_consent(db, me.patient.id, "teleconsultation")).information == INFO

    withdrawn = await client.post(f"{base}/{created.json()['id']}/withdraw", headers=me.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    assert not (await client.get(f"{base}/status/teleconsultation", headers=doctor.headers)).json()[
        "in_force"
    ]
    async with runtime.sessionmaker() as db:
        with pytest.raises(ConsentMissing):
            await require_consent(db, me.patient.id, "teleconsultation")
    timeline = (await client.get(f"/api/patients/{me.patient.id}/timeline", headers=me.headers)).json()
    titles = [e["title"] for e in timeline]
    assert (
        "Consentement retiré : téléconsultation" in titles
        and "Consentement donné : téléconsultation" in titles
    )


async def test_a_refusal_is_recorded_and_consent_is_per_act(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    base = f"/api/patients/{patient.id}/consents"
    await client.post(
        base,
        headers=doctor.headers,
        json={"act": "telemonitoring", "decision": "refused", "method": "in_person", "information": INFO},
    )
    await client.post(
        base,
        headers=doctor.headers,
        json={"act": "teleexpertise", "method": "in_person", "information": INFO},
    )
    assert not (await client.get(f"{base}/status/telemonitoring", headers=doctor.headers)).json()["in_force"]
    assert (await client.get(f"{base}/status/teleexpertise", headers=doctor.headers)).json()["in_force"]
    listed = (await client.get(base, headers=doctor.headers)).json()
    assert {(c["act"], c["decision"]) for c in listed} == {
        ("telemonitoring", "refused"),
        ("teleexpertise", "granted"),
    }


async def test_a_patient_consents_in_the_app_only_and_strangers_see_nothing(
    client: AsyncClient, world: World
) -> None:
    doctor, stranger = await world.professional(), await world.professional("Inconnu")
    me = await world.patient(doctor, with_account=True)
    base = f"/api/patients/{me.patient.id}/consents"
    in_person = await client.post(
        base, headers=me.headers, json={"act": "teleexpertise", "method": "in_person", "information": INFO}
    )
    assert in_person.status_code == 403
    in_app = await client.post(
        base, headers=me.headers, json={"act": "teleexpertise", "method": "in_app", "information": INFO}
    )
    assert in_app.status_code == 201
    assert (await client.get(base, headers=stranger.headers)).status_code == 404
    bad = await client.post(
        base, headers=doctor.headers, json={"act": "telepathy", "method": "in_app", "information": INFO}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.act"
