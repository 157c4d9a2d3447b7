"""FINESS: 9 characters, the first two the département (identifiers.md §3).

The last digit is a Luhn key over all nine digits (verified on real numbers).
How Corsica's 2A/2B codes enter the key is unverified, so for them only the
format is checked.
"""

import re

from telesante.identifiers.errors import IdentifierError
from telesante.identifiers.luhn import luhn_valid


def validate_finess(value: str) -> str:
    finess = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"(\d{2}|2A|2B)\d{7}", finess):
        raise IdentifierError(
            "a FINESS number has 9 characters: département (2 digits, 2A or 2B) then 7 digits"
        )
    if finess[:2] in ("2A", "2B"):
        return finess
    if not luhn_valid(finess):
        raise IdentifierError("FINESS check digit (Luhn) is wrong")
    return finess
