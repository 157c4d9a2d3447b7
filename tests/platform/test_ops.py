"""Operations: liveness, readiness, metrics, request ids, logs free of patient data."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from telesante.app import create_app
from telesante.runtime import Runtime
from telesante.settings import Settings
from tests.fixtures.world import World


async def test_healthz_and_readyz(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}


async def test_readyz_is_503_on_a_database_without_migrations(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    app: FastAPI = create_app(settings, run_worker=False)
    app.state.runtime = Runtime.create(settings)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert "expected" in response.json()["reason"]
    finally:
        await app.state.runtime.close()


async def test_metrics_count_requests_by_route_template(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    await client.get(f"/api/patients/{patient.id}", headers=doctor.headers)
    metrics = (await client.get("/metrics")).text
    assert 'route="/api/patients/{patient_id}"' in metrics
    assert patient.id not in metrics


async def test_every_response_has_a_request_id(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert len(response.headers["x-request-id"]) == 36
    echoed = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"


async def test_logs_are_json_and_carry_no_patient_data(
    client: AsyncClient, world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    doctor = await world.professional()
    await world.patient(doctor, family="Zacharie")
    await client.get(
        "/api/patients", params={"name": "Zacharie", "birth_date": "1985-05-17"}, headers=doctor.headers
    )
    logs = capfd.readouterr().err
    assert '"path": "/api/patients"' in logs and '"request_id"' in logs
    assert "Zacharie" not in logs and "1985" not in logs
