"""Login throttling: per account and per address, growing locks, no hint that an account
exists; second-factor codes throttled too; shared across processes through Redis."""

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pyotp
import redis.asyncio as redis
from fastapi import FastAPI
from httpx import AsyncClient

from telesante.app import create_app
from telesante.auth.throttle import InProcessLimiter, RedisLimiter, make_limiter
from telesante.runtime import Runtime
from telesante.settings import get_settings
from tests.fixtures.world import World
from tests.web.test_login_and_pages import enrol, field, password_step

_addresses = itertools.count(1)


@asynccontextmanager
async def client_from(app: FastAPI, ip: str | None = None) -> AsyncIterator[AsyncClient]:
    """A client with its own address (so tests do not share the per-address counters)."""
    address = ip or f"198.51.100.{next(_addresses) % 250 + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def with_clock(app: FastAPI) -> Clock:
    clock = Clock()
    app.state.auth_limiter = InProcessLimiter(clock=clock)
    return clock


async def test_five_failures_lock_the_account_even_for_the_right_password(app: FastAPI, world: World) -> None:
    doctor = await world.professional()
    async with client_from(app) as client:
        for _ in range(5):
            assert (await password_step(client, doctor.user.email, "wrong password!")).status_code == 401
        locked = await password_step(client, doctor.user.email)
        assert locked.status_code == 429 and "Trop de tentatives" in locked.text
        assert "ts_session" not in locked.headers.get("set-cookie", "")
    async with client_from(app) as elsewhere:  # the lock is on the account, not only the address
        assert (await password_step(elsewhere, doctor.user.email)).status_code == 429


async def test_an_unknown_account_locks_exactly_like_a_real_one(app: FastAPI, world: World) -> None:
    doctor = await world.professional()
    answers: list[list[tuple[int, str]]] = []
    for email in (doctor.user.email, "nobody-here@test.telesante.fr"):
        async with client_from(app) as client:
            seen = []
            for _ in range(7):
                response = await password_step(client, email, "wrong password!")
                error = response.text.split('role="alert">')[1].split("<")[0]
                seen.append((response.status_code, error))
            answers.append(seen)
    assert answers[0] == answers[1]
    assert [status for status, _ in answers[0]] == [401] * 5 + [429] * 2


async def test_the_lock_grows_then_ends(app: FastAPI, world: World) -> None:
    doctor = await world.professional()
    clock = with_clock(app)
    async with client_from(app) as client:
        for _ in range(5):
            await password_step(client, doctor.user.email, "wrong password!")
        assert (await password_step(client, doctor.user.email)).status_code == 429
        clock.now += 61  # the first lock is one minute
        assert (await password_step(client, doctor.user.email, "wrong again!")).status_code == 401
        clock.now += 61  # the sixth failure locked for two minutes
        assert (await password_step(client, doctor.user.email)).status_code == 429
        clock.now += 60
        assert (await password_step(client, doctor.user.email)).status_code == 303


async def test_a_success_clears_the_account_counter(app: FastAPI, world: World) -> None:
    doctor = await world.professional()
    async with client_from(app) as client:
        for _ in range(4):
            await password_step(client, doctor.user.email, "wrong password!")
        assert (await password_step(client, doctor.user.email)).status_code == 303
        client.cookies.clear()
        for _ in range(4):
            assert (await password_step(client, doctor.user.email, "wrong password!")).status_code == 401
        assert (await password_step(client, doctor.user.email)).status_code == 303


async def test_one_address_spraying_many_accounts_is_locked(app: FastAPI, world: World) -> None:
    doctor = await world.professional()
    async with client_from(app, "203.0.113.9") as sprayer:
        for n in range(20):
            await password_step(sprayer, f"victim{n}@test.telesante.fr", "Password123!")
        assert (await password_step(sprayer, doctor.user.email)).status_code == 429
    async with client_from(app) as someone_else:
        assert (await password_step(someone_else, doctor.user.email)).status_code == 303


async def test_second_factor_codes_are_throttled(app: FastAPI, world: World) -> None:
    doctor = await world.professional()
    async with client_from(app) as client:
        secret = await enrol(client, doctor)
        token = field((await client.get("/")).text, "csrf_token")
        await client.post("/logout", data={"csrf_token": token})
        client.cookies.clear()
        await password_step(client, doctor.user.email)
        form = await client.get("/mfa")
        for _ in range(5):
            wrong = await client.post(
                "/mfa", data={"code": "000000", "csrf_token": field(form.text, "csrf_token")}
            )
            assert wrong.status_code == 401
        right = pyotp.TOTP(secret).now()
        locked = await client.post("/mfa", data={"code": right, "csrf_token": field(form.text, "csrf_token")})
        assert locked.status_code == 429 and "Trop de tentatives" in locked.text
        assert (await client.get("/api/me")).status_code == 403


def app_on_redis(runtime: Runtime, redis_url: str, prefix: str) -> FastAPI:
    """Another server process, as far as the limiter is concerned: its own app, a shared Redis.

    Each test run gets its own key prefix: Redis outlives test runs, whose accounts and
    addresses repeat.
    """
    settings = runtime.settings.model_copy(update={"redis_url": redis_url})
    application = create_app(get_settings(), run_worker=False)
    application.state.runtime = Runtime(settings, runtime.engine, runtime.sessionmaker, runtime.bus)
    application.state.auth_limiter = RedisLimiter(redis_url, prefix=prefix)
    return application


async def test_with_redis_every_process_sees_the_lock(runtime: Runtime, world: World, redis_url: str) -> None:
    chosen = make_limiter(redis_url)  # what an app configured with TELESANTE_REDIS_URL uses
    assert isinstance(chosen, RedisLimiter)
    await chosen.close()
    doctor = await world.professional()
    prefix = f"telesante-test:{uuid.uuid4().hex}:"
    first, second = app_on_redis(runtime, redis_url, prefix), app_on_redis(runtime, redis_url, prefix)
    try:
        async with client_from(first, "192.0.2.77") as client:
            for _ in range(5):
                assert (await password_step(client, doctor.user.email, "wrong password!")).status_code == 401
        async with client_from(second) as client:
            assert (await password_step(client, doctor.user.email)).status_code == 429
    finally:
        raw = redis.from_url(redis_url)
        keys = [key async for key in raw.scan_iter(match=f"{prefix}*")]
        ttls = [await raw.ttl(key) for key in keys]
        assert ttls and all(0 < ttl <= 3600 for ttl in ttls)  # nothing is kept forever
        await raw.delete(*keys)
        await raw.aclose()
        for application in (first, second):
            await application.state.auth_limiter.close()
