"""The prescription's public number: printed in clear and the only content of the QR code.

The CNAM format of the national number is not public (fhir-and-eprescription.md §3,
unverified), so ours lives in this one module: "ORD-" followed by 20 Crockford base32
characters (100 random bits: not guessable, and no I, L, O or U to misread when typed
by hand). It is the pharmacist's authorisation to read the prescription, so it must
never be derived from anything else.
"""

import re
import secrets

PREFIX = "ORD-"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
LENGTH = 20
_PATTERN = re.compile(rf"^ORD-[{ALPHABET}]{{{LENGTH}}}$")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_public_id() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def printed(public_id: str) -> str:
    """Grouped by five for reading aloud and typing: ORD-XXXXX-XXXXX-XXXXX-XXXXX."""
    body = public_id.removeprefix(PREFIX)
    return PREFIX + "-".join(body[i : i + 5] for i in range(0, len(body), 5))


def normalise(raw: str) -> str | None:
    """What a pharmacist typed or scanned, as the canonical id; None if it cannot be one."""
    if len(raw) > 80:
        return None
    compact = "".join(raw.split()).replace("-", "").upper()
    if not compact.startswith("ORD"):
        return None
    candidate = PREFIX + compact[3:].translate(_READ_AS)
    return candidate if _PATTERN.match(candidate) else None
