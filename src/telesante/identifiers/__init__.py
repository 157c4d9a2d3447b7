"""French health identifiers: validation rules and FHIR identifier systems.

Every rule cites ../shared/domain/identifiers.md (the project's copy of the
sources). Facts marked unverified there are kept in one place here so they
can change without touching callers.
"""

from telesante.identifiers.errors import IdentifierError
from telesante.identifiers.finess import validate_finess
from telesante.identifiers.nir import NirParts, parse_nir, validate_nir
from telesante.identifiers.rpps import validate_rpps

__all__ = [
    "IdentifierError",
    "NirParts",
    "parse_nir",
    "validate_finess",
    "validate_nir",
    "validate_rpps",
]
