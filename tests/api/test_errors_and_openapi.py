"""Errors are problem+json, never 500 for what a client sends; the OpenAPI documents them."""

import pytest
from httpx import AsyncClient

from tests.fixtures.world import World


@pytest.mark.parametrize("payload", [b"{", b"[]", b'{"birth_date": "not a date"}', b"\xff\xfe", b'"text"'])
async def test_garbage_bodies_get_a_clear_4xx(client: AsyncClient, world: World, payload: bytes) -> None:
    doctor = await world.professional()
    response = await client.post(
        "/api/patients", content=payload, headers={**doctor.headers, "content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


async def test_unknown_fields_are_refused(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    response = await client.post(
        "/api/patients",
        headers=doctor.headers,
        json={
            "birth_family_name": "A",
            "birth_given_names": "B",
            "sex": "F",
            "birth_date": "2000-01-01",
            "is_admin": True,
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.is_admin"


async def test_unknown_routes_are_problem_json(client: AsyncClient) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_openapi_documents_every_4xx(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"401", "403", "404", "422"} <= documented, f"{method.upper()} {path} lacks 4xx docs"


async def test_a_nul_character_is_a_422_not_a_server_error(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    searched = await client.get("/api/patients", params={"name": "Du\x00rand"}, headers=doctor.headers)
    created = await client.post(
        "/api/patients",
        headers=doctor.headers,
        json={
            "birth_family_name": "Du\u0000rand",
            "birth_given_names": "Marie",
            "sex": "F",
            "birth_date": "1985-05-17",
        },
    )
    for response in (searched, created):
        assert response.status_code in (200, 201, 422), (
            response.text
        )  # SQLite stores NUL; PostgreSQL refuses it
        assert response.headers["content-type"].startswith("application/")
