"""The pseudonymised research export: no direct identifier survives, pseudonyms are stable per key."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from telesante.db import commit
from telesante.gdpr.research import departement
from telesante.runtime import Runtime
from telesante.timeline.service import add_entry
from tests.fixtures.world import Person, World
from tests.gdpr.arrange import SUMMARY

KEY_A = "a" * 16 + "research-key-A-0123456789"
KEY_B = "b" * 16 + "research-key-B-0123456789"


def telesante(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("TELESANTE_RESEARCH_KEY", None)
    if key is not None:
        env["TELESANTE_RESEARCH_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "telesante", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def export(out: Path, key: str | None = KEY_A, *extra: str) -> list[dict[str, object]]:
    result = telesante("export", "research", "--out", str(out), *extra, key=key)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


async def identified_patients(world: World, runtime: Runtime) -> list[dict[str, str]]:
    """Two patients with every kind of direct identifier, one born overseas, one in Corsica."""
    doctor = await world.professional(family="Lenormand")
    people = []
    for family, given, birth, place in (
        ("Quenouille", "Ysolde Amarante", date(1961, 3, 14), "97411"),
        ("Santoni", "Maria Antonia", date(1990, 12, 1), "2A004"),
    ):
        person = await world.patient(doctor, family=family, given=given, birth=birth, with_account=True)
        assert isinstance(person, Person) and person.patient
        patient = person.patient
        ids = {
            "id": patient.id,
            "family": family,
            "given": given.split()[1],
            "ins": patient.ins_matricule or "",
            "email": f"{given.split()[0].lower()}.{family.lower()}@mail.example",
            "phone": "06 12 34 56 78" if family == "Quenouille" else "+33698765432",
            "address": f"12 rue des Glycines, 75011 Paris ({family})",
            "birth": birth.isoformat(),
            "birth_fr": birth.strftime("%d/%m/%Y"),
            "account": person.user.email,
            "place": place,
        }
        async with runtime.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE patients SET email = :e, phone = :ph, address = :a, birth_place_code = :pl"
                    " WHERE id = :i"
                ),
                {"e": ids["email"], "ph": ids["phone"], "a": ids["address"], "pl": place, "i": patient.id},
            )
        async with runtime.sessionmaker() as db:
            add_entry(
                db,
                patient.id,
                kind="teleconsultation",
                title=f"Téléconsultation de {family}",
                summary=SUMMARY,
            )
            await commit(db)
        people.append(ids)
    return people


async def test_no_direct_identifier_survives_and_quasi_identifiers_are_generalised(
    world: World, runtime: Runtime, tmp_path: Path
) -> None:
    people = await identified_patients(world, runtime)
    out = tmp_path / "research.jsonl"
    rows = export(out)
    raw = out.read_text().lower()
    for person in people:
        for key in (
            "id",
            "family",
            "given",
            "ins",
            "email",
            "phone",
            "address",
            "birth",
            "birth_fr",
            "account",
            "place",
        ):
            assert person[key].lower() not in raw, f"{key} {person[key]!r} leaked"
        assert person["phone"].replace(" ", "") not in raw.replace(" ", "")
    for leak in ("ysolde", "lenormand", "glycines", "douleur", "ecg"):
        assert leak not in raw
    by_year = {r["birth_year"]: r for r in rows}
    assert by_year[1961]["birth_departement"] == "974" and by_year[1990]["birth_departement"] == "2A"
    assert set(by_year[1961]) == {"pseudonym", "sex", "birth_year", "birth_departement", "events"}
    kinds = sorted(e["kind"] for e in by_year[1961]["events"])  # type: ignore[union-attr]
    assert kinds == ["care_relation", "identity", "teleconsultation"]


async def test_pseudonyms_are_stable_under_one_key_and_unlinkable_across_keys(
    world: World, runtime: Runtime, tmp_path: Path
) -> None:
    await identified_patients(world, runtime)
    first = {r["pseudonym"] for r in export(tmp_path / "1.jsonl")}
    again = {r["pseudonym"] for r in export(tmp_path / "2.jsonl")}
    key_file = tmp_path / "key"
    key_file.write_text(KEY_B + "\n")
    other = {r["pseudonym"] for r in export(tmp_path / "3.jsonl", None, "--key-file", str(key_file))}
    assert len(first) == 2 and first == again
    assert not first & other and len(other) == 2
    # The key file takes the place of the variable: the same key gives the same pseudonyms.
    key_file.write_text(KEY_A)
    assert {r["pseudonym"] for r in export(tmp_path / "4.jsonl", None, "--key-file", str(key_file))} == first


@pytest.mark.parametrize("key", [None, "", "too-short"])
def test_it_refuses_to_run_without_a_real_key(tmp_path: Path, key: str | None) -> None:
    out = tmp_path / "research.jsonl"
    result = telesante("export", "research", "--out", str(out), key=key)
    assert result.returncode != 0
    assert "TELESANTE_RESEARCH_KEY" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("75112", "75"),
        ("2A004", "2A"),
        ("2B033", "2B"),
        ("97411", "974"),
        ("98735", "987"),
        ("99134", "99"),
        (None, None),
    ],
)
def test_birth_place_becomes_its_departement(code: str | None, expected: str | None) -> None:
    assert departement(code) == expected
