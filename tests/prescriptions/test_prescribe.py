"""Prescribing: who may, and every legal mention of CSP R5132-3 checked before signing."""

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from telesante.runtime import Runtime
from tests.fixtures.world import Person, World
from tests.prescriptions.conftest import (
    LEVOTHYROX,
    PARACETAMOL,
    Cast,
    complete_prescriber,
    prescription_body,
    set_patient,
)


async def test_a_doctor_prescribes_and_gets_a_signed_public_id(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    response = await rx.post(
        "/api/prescriptions", json=prescription_body(cast.patient_id), headers=cast.doctor.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"ORD-[0-9A-HJKMNP-TV-Z]{20}", body["public_id"])
    assert body["key_id"].startswith("ed25519-")
    content = body["content"]
    assert content["prescriber"]["address"] == "Cabinet du Parc, Lyon, France"
    assert content["prescriber"]["phone"] == "+33 4 78 12 34 56"
    assert content["patient"]["sex"] == "F" and content["patient"]["age_years"] >= 18
    assert [line["non_substitution"] for line in content["lines"]] == [None, "MTE"]
    async with runtime.sessionmaker() as db:
        raw = (await db.execute(text("SELECT content FROM prescriptions"))).scalar_one()
    assert b"paracetamol" not in bytes(raw).lower() and b"Doliprane" not in bytes(raw)  # encrypted at rest


async def test_public_ids_differ(rx: httpx.AsyncClient, cast: Cast) -> None:
    ids = set()
    for _ in range(3):
        response = await rx.post(
            "/api/prescriptions", json=prescription_body(cast.patient_id), headers=cast.doctor.headers
        )
        ids.add(response.json()["public_id"])
    assert len(ids) == 3


def _without(line: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k not in keys}


# (what is wrong, the body's lines and extras, the field named in the 422, a word of the rule)
LINE_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], str, str]] = [
    ("no drug nor DCI", [_without(PARACETAMOL, "drug", "dci")], {}, "lines[0].drug", "DCI"),
    ("no posology", [_without(PARACETAMOL, "posology")], {}, "lines[0].posology", "posologie"),
    ("blank posology", [{**PARACETAMOL, "posology": "  "}], {}, "lines[0].posology", "posologie"),
    (
        "no duration, quantity nor packs",
        [_without(PARACETAMOL, "duration", "packs", "quantity")],
        {},
        "lines[0].duration",
        "durée",
    ),
    (
        "renewals not stated",
        [PARACETAMOL, _without(LEVOTHYROX, "renewals")],
        {},
        "lines[1].renewals",
        "renouvellements",
    ),
    ("too many renewals", [{**PARACETAMOL, "renewals": 12}], {}, "lines[0].renewals", "renouvellements"),
    (
        "unknown non-substitution code",
        [{**LEVOTHYROX, "non_substitution": "XYZ"}],
        {},
        "lines[0].non_substitution",
        "MTE",
    ),
    ("EFG for an adult", [{**LEVOTHYROX, "non_substitution": "EFG"}], {}, "lines[0].non_substitution", "EFG"),
    ("no line at all", [], {}, "lines", "médicament"),
    ("implausible height", [PARACETAMOL], {"patient_height_cm": 900}, "patient.height_cm", "taille"),
]


@pytest.mark.parametrize(
    ("case", "lines", "extra", "field", "word"), LINE_CASES, ids=[c[0] for c in LINE_CASES]
)
async def test_each_missing_mention_of_a_line_is_a_422_naming_it(
    rx: httpx.AsyncClient,
    cast: Cast,
    case: str,
    lines: list[dict[str, Any]],
    extra: dict[str, Any],
    field: str,
    word: str,
) -> None:
    body = {"patient_id": cast.patient_id, "lines": lines, **extra}
    response = await rx.post("/api/prescriptions", json=body, headers=cast.doctor.headers)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert word in errors[0]["reason"]


# (what is wrong, the prescriber's details, the field named, a word of the rule)
PRESCRIBER_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("no e-mail", {"email": None}, "prescriber.email", "électronique"),
    ("no phone", {"phone": None}, "prescriber.phone", "+33"),
    ("a foreign phone", {"phone": "+32 2 123 45 67"}, "prescriber.phone", "+33"),
    ("no practice city", {"city": None}, "prescriber.address", "France"),
]


@pytest.mark.parametrize(
    ("case", "details", "field", "word"), PRESCRIBER_CASES, ids=[c[0] for c in PRESCRIBER_CASES]
)
async def test_each_missing_mention_of_the_prescriber_is_a_422_naming_it(
    rx: httpx.AsyncClient,
    world: World,
    runtime: Runtime,
    case: str,
    details: dict[str, Any],
    field: str,
    word: str,
) -> None:
    doctor = await complete_prescriber(runtime, await world.professional("Bernard"), **details)
    patient = await world.patient(doctor)
    assert not isinstance(patient, Person)
    response = await rx.post("/api/prescriptions", json=prescription_body(patient.id), headers=doctor.headers)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert word in errors[0]["reason"] and "R5132-3" in errors[0]["reason"]


async def test_a_prescriber_without_practice_gets_the_address_named(
    rx: httpx.AsyncClient, world: World
) -> None:
    doctor = await world.professional("Sans-Cabinet")  # no organisation, no e-mail, no phone
    patient = await world.patient(doctor)
    assert not isinstance(patient, Person)
    response = await rx.post("/api/prescriptions", json=prescription_body(patient.id), headers=doctor.headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "prescriber.address",
        "prescriber.phone",
        "prescriber.email",
    }


async def test_a_minor_needs_a_weight(rx: httpx.AsyncClient, cast: Cast, runtime: Runtime) -> None:
    from datetime import date

    await set_patient(runtime, cast.patient_id, birth_date=date(date.today().year - 4, 1, 1))
    response = await rx.post(
        "/api/prescriptions", json=prescription_body(cast.patient_id), headers=cast.doctor.headers
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["patient.weight_kg"]
    # With a weight it passes, and EFG is then allowed for a child under six.
    body = prescription_body(
        cast.patient_id, {**LEVOTHYROX, "non_substitution": "EFG"}, patient_weight_kg=16.5
    )
    response = await rx.post("/api/prescriptions", json=body, headers=cast.doctor.headers)
    assert response.status_code == 201, response.text
    assert response.json()["content"]["patient"]["weight_kg"] == 16.5


async def test_an_unknown_sex_is_a_missing_mention(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    await set_patient(runtime, cast.patient_id, sex="U")
    response = await rx.post(
        "/api/prescriptions", json=prescription_body(cast.patient_id), headers=cast.doctor.headers
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["patient.sex"]


@pytest.mark.parametrize("profession", ["midwife", "dentist"])
async def test_midwives_and_dentists_prescribe(
    rx: httpx.AsyncClient, world: World, runtime: Runtime, profession: str
) -> None:
    prescriber = await complete_prescriber(
        runtime, await world.professional("Roux", profession, specialty=None)
    )
    patient = await world.patient(prescriber)
    assert not isinstance(patient, Person)
    response = await rx.post(
        "/api/prescriptions", json=prescription_body(patient.id), headers=prescriber.headers
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("profession", ["nurse", "pharmacist", "physiotherapist"])
async def test_a_non_medical_professional_of_the_care_team_cannot_prescribe(
    rx: httpx.AsyncClient, world: World, runtime: Runtime, profession: str
) -> None:
    carer = await complete_prescriber(runtime, await world.professional("Leroy", profession, specialty=None))
    patient = await world.patient(carer)
    assert not isinstance(patient, Person)
    response = await rx.post("/api/prescriptions", json=prescription_body(patient.id), headers=carer.headers)
    assert response.status_code == 403


async def test_a_doctor_outside_the_care_team_gets_404(
    rx: httpx.AsyncClient, cast: Cast, world: World, runtime: Runtime
) -> None:
    stranger = await complete_prescriber(runtime, await world.professional("Inconnu"))
    response = await rx.post(
        "/api/prescriptions", json=prescription_body(cast.patient_id), headers=stranger.headers
    )
    assert response.status_code == 404
    async with runtime.sessionmaker() as db:
        assert (await db.execute(text("SELECT count(*) FROM prescriptions"))).scalar_one() == 0


async def test_a_patient_cannot_prescribe(rx: httpx.AsyncClient, cast: Cast) -> None:
    response = await rx.post(
        "/api/prescriptions", json=prescription_body(cast.patient_id), headers=cast.patient.headers
    )
    assert response.status_code == 403


async def test_an_appointment_of_someone_else_is_refused(rx: httpx.AsyncClient, cast: Cast) -> None:
    body = prescription_body(cast.patient_id, appointment_id="00000000-0000-0000-0000-000000000000")
    response = await rx.post("/api/prescriptions", json=body, headers=cast.doctor.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "appointment_id"
