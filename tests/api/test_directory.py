"""Organisations (FINESS) and professionals (RPPS) in the registry."""

from httpx import AsyncClient

from tests.fixtures.world import World


async def test_admin_registers_an_organisation_with_a_valid_finess(client: AsyncClient, world: World) -> None:
    admin = await world.admin()
    created = await client.post(
        "/api/organisations",
        headers=admin.headers,
        json={"name": "EHPAD Les Tilleuls", "kind": "nursing_home", "finess": "750712184"},
    )
    assert created.status_code == 201
    assert created.json()["finess"] == "750712184"
    duplicate = await client.post(
        "/api/organisations",
        headers=admin.headers,
        json={"name": "Autre", "kind": "practice", "finess": "750712184"},
    )
    assert duplicate.status_code == 409


async def test_an_invalid_finess_gets_a_422_naming_the_field(client: AsyncClient, world: World) -> None:
    admin = await world.admin()
    response = await client.post(
        "/api/organisations",
        headers=admin.headers,
        json={"name": "X", "kind": "hospital", "finess": "750000003"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body.finess", "reason": "FINESS check digit (Luhn) is wrong"}
    ]


async def test_an_invalid_rpps_gets_a_422_naming_the_field(client: AsyncClient, world: World) -> None:
    admin = await world.admin()
    response = await client.post(
        "/api/professionals",
        headers=admin.headers,
        json={
            "rpps": "1000000000",
            "family_name": "Martin",
            "given_name": "Claire",
            "profession": "physician",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "body.rpps",
        "reason": "an RPPS number has exactly 11 digits",
    }


async def test_professionals_carry_profession_and_medical_status(client: AsyncClient, world: World) -> None:
    admin = await world.admin()
    organisation = await world.organisation()
    for rpps, profession, medical in (("10000000009", "midwife", True), ("10001234565", "nurse", False)):
        response = await client.post(
            "/api/professionals",
            headers=admin.headers,
            json={
                "rpps": rpps,
                "family_name": "Moreau",
                "given_name": "Léa",
                "profession": profession,
                "organisation_ids": [organisation.id],
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["is_medical"] is medical
        assert response.json()["organisation_ids"] == [organisation.id]
    duplicate = await client.post(
        "/api/professionals",
        headers=admin.headers,
        json={"rpps": "10000000009", "family_name": "X", "given_name": "Y", "profession": "physician"},
    )
    assert duplicate.status_code == 409
    unknown = await client.post(
        "/api/professionals",
        headers=admin.headers,
        json={"rpps": "10005173140", "family_name": "X", "given_name": "Y", "profession": "sorcier"},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.profession"
    listed = await client.get("/api/professionals", params={"profession": "midwife"}, headers=admin.headers)
    assert [p["rpps"] for p in listed.json()] == ["10000000009"]


async def test_only_an_administrator_manages_the_registry(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    response = await client.post(
        "/api/organisations", headers=doctor.headers, json={"name": "X", "kind": "practice"}
    )
    assert response.status_code == 403
    assert (await client.get("/api/organisations")).status_code == 401


async def test_admin_creates_accounts_tied_to_existing_records(client: AsyncClient, world: World) -> None:
    admin = await world.admin()
    doctor = await world.professional()
    missing = await client.post(
        "/api/admin/users",
        headers=admin.headers,
        json={
            "email": "x@test.telesante.fr",
            "password": "long enough password",
            "role": "professional",
            "professional_id": "no-such-id",
        },
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "professional_id"
    taken = await client.post(
        "/api/admin/users",
        headers=admin.headers,
        json={
            "email": "y@test.telesante.fr",
            "password": "long enough password",
            "role": "professional",
            "professional_id": doctor.professional.id,
        },
    )
    assert taken.status_code == 409
    short = await client.post(
        "/api/admin/users",
        headers=admin.headers,
        json={"email": "z@test.telesante.fr", "password": "short", "role": "admin"},
    )
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "body.password"
    created = await client.post(
        "/api/admin/users",
        headers=admin.headers,
        json={"email": "Admin2@Test.Telesante.fr", "password": "long enough password", "role": "admin"},
    )
    assert created.status_code == 201 and created.json()["email"] == "admin2@test.telesante.fr"
    assert (await client.get("/api/admin/users", headers=doctor.headers)).status_code == 403
