"""The authorization matrix, generated from the OpenAPI: every route that touches a patient's data,
every role, the actor's own patient, another patient and no relation at all.

For everyone outside the care team the answer for an existing patient must be exactly the answer for a
patient that does not exist: no data leaks, and the existence of the record is not revealed.
"""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response

from telesante.auth import service as auth
from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.settings import get_settings
from tests.fixtures.world import PASSWORD, Person, World

BODIES: dict[str, Any] = {
    "/api/patients/{patient_id}/care-relations": {"reason": "care_team"},
    "/api/patients/{patient_id}/consents": {
        "act": "teleconsultation",
        "method": "in_app",
        "information": "Information donnée au patient.",
    },
}


def patient_routes(spec: dict[str, Any]) -> list[tuple[str, str]]:
    routes = []
    for path, operations in spec["paths"].items():
        if "{patient_id}" not in path:
            continue
        routes += [
            (method.upper(), path) for method in operations if method in ("get", "post", "put", "delete")
        ]
    return sorted(routes)


def comparable(response: Response) -> tuple[int, Any]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


async def call(
    client: AsyncClient,
    method: str,
    path: str,
    patient_id: str,
    headers: dict[str, str],
    extra: dict[str, str],
) -> Response:
    url = path.replace("{patient_id}", patient_id)
    for name, value in extra.items():
        url = url.replace("{" + name + "}", value)
    body = BODIES.get(path, {})
    if "professional_id" in str(body) or path.endswith("care-relations"):
        body = {**body, "professional_id": extra["professional_id"]}
    if method == "GET":
        return await client.get(url, headers=headers)
    return await client.request(method, url, headers=headers, json=body)


@pytest.fixture
async def cast(world: World, runtime: Runtime) -> dict[str, Person]:
    carer = await world.professional("Soignant")
    self_ = await world.patient(carer, family="Cible", with_account=True)
    other_patient = await world.patient(carer, family="Autre", with_account=True)
    async with transaction(runtime.sessionmaker) as db:
        user = await auth.create_user(
            db, email="auditeur@test.telesante.fr", password=PASSWORD, role="auditor"
        )
        token, _ = await auth.create_api_token(db, user, get_settings())
    return {
        "carer": carer,
        "self": self_,
        "other_patient": other_patient,
        "stranger_professional": await world.professional("Etranger"),
        "admin": await world.admin(),
        "auditor": Person(user, token),
    }


async def test_no_role_outside_the_care_team_learns_anything(
    client: AsyncClient, cast: dict[str, Person]
) -> None:
    spec = (await client.get("/openapi.json")).json()
    routes = patient_routes(spec)
    assert len(routes) >= 8, routes  # the matrix follows the API as it grows
    target = cast["self"].patient
    assert target is not None
    ghost = str(uuid.uuid4())
    extra = {
        "professional_id": cast["carer"].professional.id if cast["carer"].professional else "",
        "consent_id": str(uuid.uuid4()),
        "document_id": str(uuid.uuid4()),
    }
    secrets = [target.birth_family_name, target.ins_matricule or "", target.id]
    outsiders = ("other_patient", "stranger_professional", "admin", "auditor")
    checked = 0
    for method, path in routes:
        for role in outsiders:
            headers = cast[role].headers
            real = await call(client, method, path, target.id, headers, extra)
            fake = await call(client, method, path, ghost, headers, extra)
            assert real.status_code < 500, (method, path, role, real.text)
            assert comparable(real) == comparable(fake), (
                f"{role} can tell that the patient exists: {method} {path}"
            )
            for secret in secrets[:2]:
                assert secret not in real.text, f"{role} sees patient data through {method} {path}"
            checked += 1
    assert checked == len(routes) * len(outsiders)


async def test_the_care_team_and_the_patient_get_through(
    client: AsyncClient, cast: dict[str, Person]
) -> None:
    target = cast["self"].patient
    assert target is not None
    for role in ("carer", "self"):
        for path in ("", "/timeline", "/care-relations", "/consents", "/access-log"):
            response = await client.get(f"/api/patients/{target.id}{path}", headers=cast[role].headers)
            assert response.status_code == 200, (role, path, response.text)


async def test_searches_only_return_visible_patients(client: AsyncClient, cast: dict[str, Person]) -> None:
    target = cast["self"].patient
    assert target is not None
    for role in ("other_patient", "stranger_professional", "admin", "auditor"):
        headers = cast[role].headers
        api = await client.get("/api/patients", params={"name": "Cible"}, headers=headers)
        fhir = await client.get("/fhir/R4/Patient", params={"name": "Cible"}, headers=headers)
        assert target.id not in api.text and target.id not in fhir.text, role
