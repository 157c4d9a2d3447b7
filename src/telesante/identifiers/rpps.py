"""RPPS: 11 digits (identifiers.md §3).

The check key is unverified: real numbers pass Luhn but the ANS and fr-core
examples do not. So the format is checked strictly and a Luhn failure is only
reported, never refused.
"""

import re

import structlog

from telesante.identifiers.errors import IdentifierError
from telesante.identifiers.luhn import luhn_valid

log = structlog.get_logger()


def validate_rpps(value: str) -> str:
    rpps = re.sub(r"\s", "", value)
    if not re.fullmatch(r"\d{11}", rpps):
        raise IdentifierError("an RPPS number has exactly 11 digits")
    if not luhn_valid(rpps):
        log.warning("rpps.luhn_mismatch", hint="accepted: the RPPS key rule is unverified")
    return rpps


def rpps_luhn_ok(rpps: str) -> bool:
    return luhn_valid(rpps)
