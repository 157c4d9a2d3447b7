"""A requérant with a consenting patient, named experts, a dermatology pool, and an expert not asked."""

import json
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import insert

from telesante.directory.models import professional_organisations
from telesante.runtime import Runtime
from tests.fixtures.acts import record_consent
from tests.fixtures.world import Person, World

QUESTION = "Lésion pigmentée du dos, évolutive depuis 3 mois : avis sur la conduite à tenir ?"
ANSWER = {
    "opinion": "Aspect de naevus atypique, asymétrique, à exciser.",
    "management": "Exérèse avec marge de 2 mm, analyse anatomopathologique.",
    "see_patient": "soon",
}


@dataclass
class Team:
    requester: Person  # the GP, the patient's médecin
    patient: Person  # with an account
    expert: Person  # a named dermatologist
    second: Person  # another dermatologist, named in multi-expert tests
    pool: list[Person]  # two dermatologists of the hospital
    organisation_id: str
    outsider: Person  # a dermatologist nobody asked


async def join(runtime: Runtime, person: Person, organisation_id: str) -> None:
    assert person.professional is not None
    async with runtime.sessionmaker() as db:
        await db.execute(
            insert(professional_organisations).values(
                professional_id=person.professional.id, organisation_id=organisation_id
            )
        )
        await db.commit()


async def consent(client: AsyncClient, doctor: Person, patient_id: str) -> None:
    information = "Avis d'un dermatologue à distance sur les photos de la lésion."
    await record_consent(client, doctor, patient_id, "teleexpertise", information)


@pytest.fixture
async def team(client: AsyncClient, world: World, runtime: Runtime) -> Team:
    requester = await world.professional("Requérante")
    patient = await world.patient(requester, with_account=True)
    assert isinstance(patient, Person) and patient.patient is not None
    await consent(client, requester, patient.patient.id)
    expert = await world.professional("Expert", specialty="Dermatologie")
    second = await world.professional("Second", specialty="Dermatologie")
    hospital = await world.organisation("CHU de Lyon", kind="hospital")
    pool = [await world.professional(f"Pool{i}", specialty="Dermatologie") for i in (1, 2)]
    for member in pool:
        await join(runtime, member, hospital.id)
    outsider = await world.professional("Dehors", specialty="Dermatologie")
    await join(runtime, outsider, (await world.organisation("Autre clinique")).id)
    return Team(requester, patient, expert, second, pool, hospital.id, outsider)


def body(team: Team, **changes: Any) -> dict[str, Any]:
    assert team.patient.patient is not None and team.expert.professional is not None
    data: dict[str, Any] = {
        "patient_id": team.patient.patient.id,
        "question": QUESTION,
        "expert_ids": [team.expert.professional.id],
    }
    data.update(changes)
    return data


def pool_of(team: Team) -> dict[str, str]:
    return {"specialty": "Dermatologie", "organisation_id": team.organisation_id}


async def create(
    client: AsyncClient, team: Team, files: list[tuple[str, bytes, str]] | None = None, **changes: Any
) -> Response:
    data = body(team, **changes)
    if files is None:
        return await client.post("/api/expert-requests", json=data, headers=team.requester.headers)
    return await client.post(
        "/api/expert-requests",
        data={"request": json.dumps(data)},
        files=[("files", f) for f in files],
        headers=team.requester.headers,
    )


async def created(client: AsyncClient, team: Team, **changes: Any) -> dict[str, Any]:
    response = await create(client, team, **changes)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def titles(client: AsyncClient, person: Person) -> list[str]:
    response = await client.get("/api/notifications", headers=person.headers)
    assert response.status_code == 200, response.text
    return [n["title"] for n in response.json()]
