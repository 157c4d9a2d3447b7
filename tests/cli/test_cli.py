"""The `telesante` command: demo data, users list, API tokens."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from telesante.identifiers import validate_finess, validate_nir, validate_rpps
from tests.fixtures.world import World


def telesante(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if data_dir is not None:  # a database of its own, on the embedded SQLite default
        env["TELESANTE_DATA_DIR"] = str(data_dir)
        env.pop("TELESANTE_DATABASE_URL")
    return subprocess.run(
        [sys.executable, "-m", "telesante", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_loads_valid_french_data_once_and_lists_the_accounts(tmp_path: Path) -> None:
    first = telesante("demo", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout and "claire.martin@demo.telesante.fr" in first.stdout
    again = telesante("demo", data_dir=tmp_path)
    assert again.stdout == first.stdout  # idempotent
    users = json.loads(telesante("users", "list", "--json", data_dir=tmp_path).stdout)
    roles = {u["role"] for u in users}
    assert roles == {"admin", "professional", "patient"}
    professions = {u["profession"] for u in users if u["role"] == "professional"}
    assert {
        "physician",
        "midwife",
        "dentist",
        "nurse",
        "pharmacist",
        "psychologist",
        "physiotherapist",
        "call_taker",
    } <= professions
    for user in users:
        if user["role"] == "professional":
            assert validate_rpps(user["rpps"])
    counts = _demo_counts(tmp_path)
    assert counts["patients"] >= 30 and counts["organisations"] >= 6 and counts["care_relations"] >= 30
    # Yesterday's téléconsultation: its signed report and billing line; the declared activity.
    assert counts["reports"] == 1 and counts["billing_lines"] == 1 and counts["activity_declarations"] == 2
    # Télésurveillance: four patients streaming for 14 days, alerts waiting for the team.
    assert counts["monitoring_programs"] == 4 and counts["monitoring_measurements"] > 4 * 14
    assert counts["monitoring_alerts"] >= 2
    # The SAMU room: files waiting at several priorities, an ambulance and a reflex SMUR out, a call ringing.
    assert counts["regulation_files"] >= 6 and counts["regulation_missions"] == 2
    assert counts["regulation_calls"] == 1 and counts["regulation_resources"] >= 8
    # Téléassistance: a guided dressing, with its annotated still and report.
    assert counts["assistance_sessions"] == 1 and counts["assistance_captures"] == 1


def _demo_counts(data_dir: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(data_dir / "telesante.sqlite3") as conn:
        for (finess,) in conn.execute("SELECT finess FROM organisations"):
            validate_finess(finess)
        for (matricule,) in conn.execute(
            "SELECT ins_matricule FROM patients WHERE ins_matricule IS NOT NULL"
        ):
            validate_nir(matricule)
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
            for t in (
                "patients",
                "organisations",
                "care_relations",
                "reports",
                "billing_lines",
                "activity_declarations",
                "monitoring_programs",
                "monitoring_measurements",
                "monitoring_alerts",
                "regulation_files",
                "regulation_missions",
                "regulation_calls",
                "regulation_resources",
                "assistance_sessions",
                "assistance_captures",
            )
        }


@pytest.mark.processes
async def test_api_token_create_prints_a_working_token_on_its_last_line(app: FastAPI, world: World) -> None:
    doctor = await world.professional()
    result = telesante("api-token", "create", "--user", doctor.user.email)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("ts_")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == doctor.user.email
    unknown = telesante("api-token", "create", "--user", "nobody@example.org")
    assert unknown.returncode != 0 and "no active account" in unknown.stderr
