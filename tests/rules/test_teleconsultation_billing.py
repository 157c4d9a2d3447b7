"""Téléconsultation billing rules, from acts.md and billing.md (table-driven)."""

from dataclasses import replace
from datetime import date

import pytest

from telesante.billing.tariffs import tariff
from telesante.billing.teleconsultation_rules import BY_GP_OF_RECORD, Facts, assess

GP_OWN_PATIENT = Facts(
    on=date(2026, 11, 23),
    video_held=True,
    specialty="Médecine générale",
    is_gp_of_record=True,
    referred_by_gp=False,
    has_gp=True,
    patient_age=45,
    known_patient=True,
)


@pytest.mark.parametrize(
    ("change", "reimbursable", "failing"),
    [
        ({}, True, []),
        ({"video_held": False}, False, ["video"]),  # a phone call is not a téléconsultation
        ({"is_gp_of_record": False}, False, ["parcours"]),  # out of the pathway: not reimbursed at all
        ({"is_gp_of_record": False, "referred_by_gp": True}, True, []),
        ({"known_patient": False}, False, ["known_patient"]),
        ({"is_gp_of_record": False, "known_patient": False, "patient_age": 15}, True, []),  # under 16
        (
            {"is_gp_of_record": False, "known_patient": False, "patient_age": 16},
            False,
            ["parcours", "known_patient"],
        ),
        (
            {"is_gp_of_record": False, "known_patient": False, "specialty": "Psychiatrie"},
            True,
            [],
        ),  # direct access
        ({"is_gp_of_record": False, "known_patient": False, "specialty": "Pédiatrie"}, True, []),
        (
            {"is_gp_of_record": False, "known_patient": False, "specialty": "Dermatologie"},
            False,
            ["parcours", "known_patient"],
        ),
        ({"is_gp_of_record": False, "known_patient": False, "emergency": True}, True, []),
        (
            {"is_gp_of_record": False, "known_patient": False, "has_gp": False},
            True,
            [],
        ),  # no médecin traitant
        ({"is_gp_of_record": False, "known_patient": False, "care_home_resident": True}, True, []),
        ({"is_gp_of_record": False, "known_patient": False, "detainee": True}, True, []),
        ({"video_held": False, "emergency": True}, False, ["video"]),  # no exception to video
    ],
)
def test_reimbursement_rules(change: dict[str, object], reimbursable: bool, failing: list[str]) -> None:
    result = assess(replace(GP_OWN_PATIENT, **change))  # type: ignore[arg-type]
    assert result.reimbursable is reimbursable
    assert [r.name for r in result.rules if not r.ok] == failing
    assert all(r.why for r in result.rules)


@pytest.mark.parametrize(
    ("specialty", "code", "amount"),
    [
        ("Médecine générale", "TCG", 2500),  # 25 €, unchanged by the 2024 convention (not 30 €)
        ("Cardiologie", "TC", 3000),
    ],
)
def test_codes_and_tariffs(specialty: str, code: str, amount: int) -> None:
    result = assess(replace(GP_OWN_PATIENT, specialty=specialty))
    assert (result.code, result.amount_cents) == (code, amount)
    assert result.tariff_verified is (code == "TCG")


@pytest.mark.parametrize(("on", "cents"), [(date(2025, 12, 31), 2000), (date(2026, 1, 1), 2300)])
def test_tariffs_are_dated(on: date, cents: int) -> None:
    assert tariff("TE2", on).amount_cents == cents  # téléexpertise requis: 23 € from 1 January 2026


def test_no_tariff_before_the_act_existed() -> None:
    with pytest.raises(LookupError):
        tariff("TCG", date(2017, 1, 1))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({}, BY_GP_OF_RECORD),  # the activity cap reads it back to leave the act out (share.py)
        ({"is_gp_of_record": False, "referred_by_gp": True}, "adressé par le médecin traitant"),
        ({"is_gp_of_record": False, "has_gp": False}, "exception : patient sans médecin traitant"),
    ],
)
def test_the_parcours_reason_is_recorded(change: dict[str, object], why: str) -> None:
    result = assess(replace(GP_OWN_PATIENT, **change))  # type: ignore[arg-type]
    assert next(r.why for r in result.rules if r.name == "parcours") == why
