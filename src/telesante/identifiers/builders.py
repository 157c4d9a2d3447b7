"""Build valid identifiers for tests and demo data (never real people)."""

from datetime import date

from telesante.identifiers.luhn import luhn_key
from telesante.identifiers.nir import nir_key


def make_nir(sex: str, birth: date, department: str = "75", commune: str = "056", order: int = 1) -> str:
    """A NIR consistent with the traits; `department` may be 2A/2B or a 3-digit overseas code."""
    sex_digit = {"M": "1", "F": "2"}[sex]
    place = department + commune if len(department) == 2 else department + commune[-2:]
    first13 = f"{sex_digit}{birth.year % 100:02d}{birth.month:02d}{place}{order:03d}"
    return f"{first13}{nir_key(first13):02d}"


def make_rpps(sequence: int) -> str:
    payload = f"1000{sequence:06d}"
    return payload + luhn_key(payload)


def make_finess(department: str, sequence: int) -> str:
    payload = f"{department}{sequence:06d}"
    return payload + luhn_key(payload)
