"""Identifier rules, with the vectors of ../shared/domain/identifiers.md."""

from datetime import date

import pytest

from telesante.identifiers import IdentifierError, parse_nir, validate_finess, validate_nir, validate_rpps
from telesante.identifiers.builders import make_finess, make_nir, make_rpps
from telesante.identifiers.luhn import luhn_valid


@pytest.mark.parametrize(
    "nir",
    [
        "1 85 05 75 056 123 88",  # Paris
        "2 90 12 2A 004 015 78",  # Corse-du-Sud: 2A read as 19
        "2 90 12 2B 004 015 08",  # Haute-Corse: 2B read as 18, key zero-padded
        "1 02 03 971 05 042 06",  # Guadeloupe, 3-digit département
        "2 78 11 99 352 007 86",  # born abroad
        "2 95 10 99 126 111 93",  # python-stdnum doctest
        "2 53 07 2A 073 004 43",
        "2 53 07 2B 073 004 70",
        "2 84 05 88 321 025 32",  # CNAM validator spec
        "2 84 05 2A 321 025 52",
        "2 84 05 2B 321 025 79",
    ],
)
def test_valid_nir(nir: str) -> None:
    assert validate_nir(nir) == nir.replace(" ", "")


@pytest.mark.parametrize(
    ("nir", "reason"),
    [
        ("2 95 10 99 126 111 99", "key"),  # should be 93
        ("1 85 13 75 056 123 22", "month"),  # key right, month 13 impossible
        ("2 90 12 2A 004 015 51", "key"),  # the 2A -> 20 bug
        ("2 55 08 14 168 025 00", "key"),  # should be 38
        ("1 85 05 75 056 123 8", "15 characters"),
        ("5 85 05 75 056 123 88", "malformed"),
        ("1 85 05 2C 056 123 88", "malformed"),
        ("1 85 05 75 056 000 88", "order number"),
    ],
)
def test_invalid_nir_says_why(nir: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        validate_nir(nir)


def test_unknown_month_codes_are_accepted_but_not_compared() -> None:
    first13 = "1853075056123"
    nir = first13 + f"{97 - int(first13) % 97:02d}"
    assert parse_nir(nir).month is None


@pytest.mark.parametrize("rpps", ["10000000009", "10001234565", "10100473148", "10005173140"])
def test_valid_rpps(rpps: str) -> None:
    assert validate_rpps(rpps) == rpps


def test_rpps_luhn_failure_is_only_a_warning() -> None:
    # The ANS / fr-core examples fail Luhn; the key rule is unverified (identifiers.md §3).
    assert validate_rpps("10101201234") == "10101201234"


@pytest.mark.parametrize("rpps", ["1000000000", "100000000091", "1000000000A", ""])
def test_rpps_format_is_strict(rpps: str) -> None:
    with pytest.raises(IdentifierError, match="11 digits"):
        validate_rpps(rpps)


@pytest.mark.parametrize(
    "finess", ["750712184", "770000446", "010000602", "750000002", "690001235", "2A0000001"]
)
def test_valid_finess(finess: str) -> None:
    assert validate_finess(finess) == finess


@pytest.mark.parametrize(
    ("finess", "reason"),
    [
        ("750000003", "Luhn"),
        ("75000000", "9 characters"),
        ("7500000021", "9 characters"),
        ("2C0000001", "9 characters"),
    ],
)
def test_invalid_finess(finess: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        validate_finess(finess)


@pytest.mark.parametrize("value", ["10000000001", "750000003"])
def test_luhn_rejects_the_documented_invalid_values(value: str) -> None:
    assert not luhn_valid(value)


@pytest.mark.parametrize(
    ("sex", "born", "department", "commune"),
    [
        ("F", date(1990, 12, 1), "2A", "004"),
        ("M", date(2002, 3, 9), "971", "105"),
        ("F", date(1938, 1, 31), "99", "352"),
    ],
)
def test_builders_make_valid_numbers(sex: str, born: date, department: str, commune: str) -> None:
    nir = make_nir(sex, born, department, commune)
    assert parse_nir(nir).sex_digit == {"M": "1", "F": "2"}[sex]
    assert validate_rpps(make_rpps(42)) and luhn_valid(make_rpps(42))
    assert validate_finess(make_finess("69", 7))
