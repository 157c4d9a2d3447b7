"""Password login cost with the chosen argon2id parameters.

    .venv/bin/python bench/login.py [--logins 30]

Prints the parameters, the p50/p95 of one argon2id verification, and of a whole
password login (POST /login through the application, session included).
Aim: 100-300 ms per login, expensive for an attacker, tolerable for a user.
"""

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def logins(count: int) -> list[float]:
    import httpx

    from telesante.app import create_app
    from telesante.auth import service as auth
    from telesante.db import transaction
    from telesante.migrations import upgrade
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    settings = get_settings()
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    app = create_app(settings, run_worker=False)
    app.state.runtime = runtime = Runtime.create(settings)
    async with transaction(runtime.sessionmaker) as db:
        await auth.create_user(
            db,
            email="bench@example.org",
            password="bench-password-123",
            role="patient",
        )
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for _ in range(count):
            form = await http.get("/login")
            token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            started = time.perf_counter()
            response = await http.post(
                "/login",
                data={"email": "bench@example.org", "password": "bench-password-123", "csrf_token": token},
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 303, response.text
            http.cookies.clear()
    await runtime.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=30)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from telesante.auth.passwords import _hasher, hash_password, verify_password

    stored = hash_password("bench-password-123")
    verify = []
    for _ in range(args.logins):
        started = time.perf_counter()
        verify_password(stored, "bench-password-123")
        verify.append((time.perf_counter() - started) * 1000)
    params = _hasher
    print(
        f"argon2id: time_cost={params.time_cost} memory_cost={params.memory_cost} KiB "
        f"parallelism={params.parallelism}"
    )
    print(f"  verify          p50 {percentile(verify, 50):6.1f} ms   p95 {percentile(verify, 95):6.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(TELESANTE_DATA_DIR=tmp, TELESANTE_ENVIRONMENT="test")
        os.environ.pop("TELESANTE_DATABASE_URL", None)
        timings = asyncio.run(logins(args.logins))
    print(
        f"  POST /login     p50 {percentile(timings, 50):6.1f} ms   p95 {percentile(timings, 95):6.1f} ms"
        f"   ({len(timings)} logins, SQLite)"
    )


if __name__ == "__main__":
    main()
