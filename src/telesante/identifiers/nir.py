"""NIR / NIA: the matricule of the INS (identifiers.md §1-2).

15 characters: sex, year, month, département (2A/2B for Corsica, 3 digits
overseas), commune or country, order number, then a 2-digit key equal to
97 - (N mod 97), with 2A read as 19 and 2B as 18 before computing N.
"""

import re
from dataclasses import dataclass

from telesante.identifiers.errors import IdentifierError

_SHAPE = re.compile(r"^[1-478](\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})$")
# Months 20-42 and 50-99 mark a civil-status record with no usable month
# (IsoCodes, unverified against an INSEE text): accepted, and never compared.
_UNKNOWN_MONTHS = set(range(20, 43)) | set(range(50, 100))


@dataclass(frozen=True)
class NirParts:
    sex_digit: str
    year: int
    month: int | None
    department: str


def normalize(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value).upper()


def nir_key(first13: str) -> int:
    numeric = first13.replace("2A", "19").replace("2B", "18")
    return 97 - (int(numeric) % 97)


def parse_nir(value: str) -> NirParts:
    nir = normalize(value)
    if len(nir) != 15:
        raise IdentifierError(f"a NIR has 15 characters (13 + a 2-digit key), got {len(nir)}")
    match = _SHAPE.match(nir)
    if not match:
        raise IdentifierError(
            "malformed NIR: expected sex 1/2 (3, 4, 7, 8 when provisional), year, month, "
            "département (digits, 2A or 2B), commune, order number and key"
        )
    month = int(match.group(2))
    if month == 0 or (month > 12 and month not in _UNKNOWN_MONTHS):
        raise IdentifierError(f"NIR month {month:02d} is not a valid month")
    if int(match.group(5)) == 0:
        raise IdentifierError("NIR order number 000 is not allowed")
    key = int(match.group(6))
    expected = nir_key(nir[:13])
    if key != expected:
        raise IdentifierError(f"NIR key {key:02d} is wrong for these 13 characters")
    return NirParts(
        sex_digit=nir[0],
        year=int(match.group(1)),
        month=month if month <= 12 else None,
        department=match.group(3),
    )


def validate_nir(value: str) -> str:
    """Return the normalized 15-character NIR, or raise IdentifierError saying why."""
    parse_nir(value)
    return normalize(value)
