"""FHIR Patient search latency with 100,000 patients, on SQLite and PostgreSQL.

    .venv/bin/python bench/fhir_patient_search.py [--patients 100000] [--queries 200] [--postgres URL]

Loads the patients into a fresh database (the professional searching has a care
relation with every one of them: the widest search the access gate allows),
then times FHIR searches through the whole application stack (ASGI, access
gate, audit write, fr-core mapping and validation) and prints p50/p99.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


def name_lists() -> tuple[list[str], list[str]]:
    from telesante.demo.data import FAMILY_NAMES, GIVEN_F, GIVEN_M

    return FAMILY_NAMES, [g.split()[0] for g in GIVEN_F + GIVEN_M]


async def load(url: str, count: int) -> tuple[str, list[str]]:
    from sqlalchemy import insert

    from telesante.auth import service as auth
    from telesante.db import transaction
    from telesante.directory.models import Professional
    from telesante.identifiers.builders import make_nir, make_rpps
    from telesante.kit.text import fold
    from telesante.migrations import upgrade
    from telesante.patients.models import CareRelation, Patient
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    await asyncio.to_thread(upgrade, url)
    runtime = Runtime.create(get_settings())
    rng = random.Random(7)
    now = datetime.now(UTC)
    async with transaction(runtime.sessionmaker) as db:
        professional = Professional(
            rpps=make_rpps(1), family_name="Bench", given_name="Claire", profession="physician"
        )
        db.add(professional)
        await db.flush()
        user = await auth.create_user(
            db,
            email="bench@example.org",
            password="bench-password-123",
            role="professional",
            professional_id=professional.id,
        )
        token, _ = await auth.create_api_token(db, user, get_settings())
    matricules = []
    for start in range(0, count, 5000):
        patients, relations = [], []
        for index in range(start, min(start + 5000, count)):
            sex = "F" if index % 2 else "M"
            birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
            family = rng.choice(name_lists()[0])
            nir = make_nir(
                sex,
                birth,
                f"{rng.randrange(1, 96):02d}",
                f"{rng.randrange(1, 999):03d}",
                order=index % 999 + 1,
            )
            patient_id = str(uuid.uuid4())
            unique = nir if index < 999 * 90 else None  # builders repeat past this; keep INS unique
            patients.append(
                dict(
                    id=patient_id,
                    ins_matricule=unique,
                    ins_oid="urn:oid:1.2.250.1.213.1.4.10",
                    identity_status="QUAL" if unique else "PROV",
                    birth_family_name=family,
                    birth_given_names=rng.choice(name_lists()[1]),
                    sex=sex,
                    birth_date=birth,
                    search_name=fold(family),
                    created_at=now,
                )
            )
            relations.append(
                dict(
                    id=str(uuid.uuid4()),
                    patient_id=patient_id,
                    professional_id=professional.id,
                    reason="care_team",
                    starts_at=now - timedelta(days=1),
                    created_at=now,
                )
            )
            if unique:
                matricules.append(unique)
        async with transaction(runtime.sessionmaker) as db:
            await db.execute(insert(Patient), patients)
            await db.execute(insert(CareRelation), relations)
    await runtime.close()
    return token, list(dict.fromkeys(matricules))


async def measure(token: str, matricules: list[str], queries: int) -> dict[str, list[float]]:
    import httpx

    from telesante.app import create_app
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    app = create_app(get_settings(), run_worker=False)
    app.state.runtime = Runtime.create(get_settings())
    rng = random.Random(11)
    kinds = {
        "identifier": lambda: {"identifier": f"urn:oid:1.2.250.1.213.1.4.10|{rng.choice(matricules)}"},
        "name": lambda: {"name": rng.choice(name_lists()[0])[:3], "_count": "20"},
        "birthdate": lambda: {
            "birthdate": (date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))).isoformat()
        },
    }
    timings: dict[str, list[float]] = {k: [] for k in kinds}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for kind, params in kinds.items():
            for _ in range(10):  # warm-up
                await http.get("/fhir/R4/Patient", params=params(), headers=headers)
            for _ in range(queries):
                started = time.perf_counter()
                response = await http.get("/fhir/R4/Patient", params=params(), headers=headers)
                timings[kind].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
    await app.state.runtime.close()
    return timings


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(label: str, url: str, patients: int, queries: int) -> None:
    os.environ["TELESANTE_DATABASE_URL"] = url
    from telesante.settings import get_settings

    get_settings.cache_clear()
    started = time.perf_counter()
    token, matricules = asyncio.run(load(url, patients))
    load_s = time.perf_counter() - started
    timings = asyncio.run(measure(token, matricules, queries))
    print(f"{label}: {patients} patients loaded in {load_s:.1f} s")
    for kind, values in timings.items():
        print(
            f"  Patient?{kind:<11} p50 {percentile(values, 50):6.1f} ms"
            f"   p99 {percentile(values, 99):6.1f} ms   ({len(values)} searches)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="an existing database; a scratch database is created beside it",
    )
    args = parser.parse_args()
    os.environ.setdefault("TELESANTE_ENVIRONMENT", "test")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import logging

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", args.patients, args.queries)
    if args.postgres:
        import psycopg

        admin = args.postgres.replace("+psycopg", "")
        name = f"telesante_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/" + name, args.patients, args.queries)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
