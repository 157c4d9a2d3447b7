"""API bearer tokens: stored hashed, revocable, expiring."""

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import select

from telesante.auth import service as auth
from telesante.auth.models import ApiToken
from telesante.db import transaction, utcnow
from telesante.kit.tokens import token_hash
from telesante.runtime import Runtime
from tests.fixtures.world import World


async def test_a_token_is_stored_only_as_its_hash(world: World, runtime: Runtime) -> None:
    doctor = await world.professional()
    async with runtime.sessionmaker() as db:
        stored = list(await db.scalars(select(ApiToken.token_hash)))
    assert stored == [token_hash(doctor.token)] and doctor.token not in stored


async def test_revoked_and_expired_tokens_are_refused(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor, nurse = await world.professional(), await world.professional("Petit", "nurse")
    assert (await client.get("/api/me", headers=doctor.headers)).status_code == 200
    async with transaction(runtime.sessionmaker) as db:
        record = await db.scalar(select(ApiToken).where(ApiToken.user_id == doctor.user.id))
        assert record is not None and await auth.revoke_api_token(db, record.id)
        expiring = await db.scalar(select(ApiToken).where(ApiToken.user_id == nurse.user.id))
        assert expiring is not None
        expiring.expires_at = utcnow() - timedelta(seconds=1)
    for person in (doctor, nurse):
        response = await client.get("/api/me", headers=person.headers)
        assert response.status_code == 401 and "expiré ou révoqué" in response.json()["detail"]
