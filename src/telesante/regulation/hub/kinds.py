"""The Hub Santé message kinds this centre speaks, and their validation.

Every model but one is ANS's generated `hubsante-model` (from SAMU-Hub-Modeles), RS-BPV included
(its root is `interventionReport`). Version 0.1.1 has no RS-ERROR: `HubError` below follows the
published RS-ERROR schema (errorCode {statusCode, statusString}, errorCause, sourceMessage,
referencedDistributionID; nothing else allowed).
"""

from dataclasses import dataclass
from enum import Enum
from typing import Any

import hubsante_model as ans  # type: ignore[import-untyped]  # generated, ships no py.typed
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from telesante.regulation.hub.envelope import DistributionKind, reasons


class _Strict(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class ErrorCode(_Strict):
    status_code: int = Field(alias="statusCode")
    status_string: str = Field(alias="statusString")


class HubError(_Strict):
    error_code: ErrorCode = Field(alias="errorCode")
    error_cause: str = Field(alias="errorCause")
    source_message: dict[str, Any] | None = Field(default=None, alias="sourceMessage")
    referenced_distribution_id: str = Field(alias="referencedDistributionID")


class ErrorWrapper(_Strict):
    error: HubError


class Failure(Enum):
    """The Hub's own error codes (SAMU-Hub-Sante `ErrorCode`) that a receiver may answer with."""

    UNRECOGNIZED_MESSAGE_FORMAT = 102
    INVALID_MESSAGE = 300
    SCHEMA_NOT_FOUND = 301


@dataclass(frozen=True)
class Kind:
    code: str  # the Hub's name of the message: RS-EDA, RC-REF…
    root: str  # its key in the content's message
    distribution_kind: DistributionKind
    model: type[BaseModel]


KINDS = {
    kind.code: kind
    for kind in (
        Kind("RS-EDA", "createCaseHealth", "Report", ans.CreateCaseHealthWrapper),
        Kind("RC-EDA", "createCase", "Report", ans.CreateCaseWrapper),
        Kind("RS-SR", "resourcesStatus", "Update", ans.ResourcesStatusWrapper),
        Kind("RS-BPV", "interventionReport", "Update", ans.InterventionReportWrapper),
        Kind("RC-REF", "reference", "Ack", ans.ReferenceWrapper),
        Kind("RS-ERROR", "error", "Error", ErrorWrapper),
    )
}
BY_ROOT = {kind.root: kind for kind in KINDS.values()}
# The RC-DE header shares the message with the use case's root.
HEADER_FIELDS = frozenset({"messageId", "sender", "sentAt", "kind", "status", "recipient"})
# Acknowledgements and errors are never acknowledged themselves: no endless exchange.
ACKNOWLEDGED = frozenset(KINDS) - {"RC-REF", "RS-ERROR"}


class InvalidContent(ValueError):
    """The content does not validate against its model; the text names the fields."""


def validate(kind: Kind, message: dict[str, Any]) -> None:
    """`message` ({root: {…}}, the header may be there too) against the kind's model."""
    try:
        kind.model.model_validate({kind.root: message.get(kind.root)})
    except ValidationError as error:
        raise InvalidContent(f"contenu {kind.code} invalide : {reasons(error)}") from None


def kind_of(message: dict[str, Any]) -> Kind | None:
    """The kind of a received message: exactly one known root besides the header."""
    roots = set(message) - HEADER_FIELDS
    if len(roots) != 1:
        return None
    return BY_ROOT.get(roots.pop())
