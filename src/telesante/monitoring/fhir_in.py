"""FHIR R4 Observation → a Reading for ingestion: LOINC code, UCUM quantity, effective time.

The resource is read the way the vital-signs profile writes it: a LOINC coding in `code`,
`valueQuantity` in UCUM, or for the blood-pressure panel 85354-9 no value and one component per
pressure. Anything else is refused with a French reason naming the element.

Structure is checked with fhir.resources (R4B, the R4 structure), except for the plain shape
devices send in bulk (only the elements below, each well formed): that shape is checked here
directly, which is what fhir.resources would conclude, at a fraction of the cost. Anything else,
an extension, a date without time, an odd element, takes the full validation and its message.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from telesante.monitoring.ingest import Reading, Source, Value
from telesante.monitoring.measures import BLOOD_PRESSURE, kind_for_loinc, panel_for_loinc

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACCEPTED_STATUS = {"final", "amended", "corrected", "preliminary"}
PLAIN_KEYS = {
    "resourceType",
    "status",
    "category",
    "code",
    "subject",
    "effectiveDateTime",
    "valueQuantity",
    "component",
}
FHIR_CODE = re.compile(r"[^\s]+( [^\s]+)*")
FHIR_URI = re.compile(r"\S+")
# A FHIR dateTime with seconds and a zone (the zone is required once there is a time).
FHIR_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


class ResourceRefused(ValueError):
    """An entry that cannot become a measurement; the message says why, in French."""


@dataclass(frozen=True)
class _Quantity:
    value: Any
    system: str | None
    code: str | None
    unit: str | None


@dataclass(frozen=True)
class _Parts:
    """What ingestion reads of an Observation, whichever way it was checked."""

    status: str
    subject: str | None
    at: Any
    codes: list[str]
    quantity: _Quantity | None
    components: list[tuple[list[str], _Quantity | None]]


def reading_of(resource: Any, patient_id: str) -> Reading:
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        raise ResourceRefused("ressource Observation attendue")
    parts = _plain(resource) or _validated(resource)
    if parts.status not in ACCEPTED_STATUS:
        raise ResourceRefused(f"status « {parts.status} » : final, amended, corrected ou preliminary attendu")
    if parts.subject and parts.subject.removeprefix("Patient/") != patient_id:
        raise ResourceRefused("subject : ce patient n'est pas celui de l'appareil")
    at = _effective(parts.at)
    if any(panel_for_loinc(code) is BLOOD_PRESSURE for code in parts.codes):
        return Reading(_components(parts.components), at, Source.FHIR)
    kind = next((k for code in parts.codes if (k := kind_for_loinc(code)) is not None), None)
    if kind is None:
        raise ResourceRefused(
            f"code : aucun code LOINC de mesure connu ({', '.join(parts.codes) or 'aucun code LOINC'})"
        )
    return Reading((Value(kind, *_value(parts.quantity, "valueQuantity")),), at, Source.FHIR)


def _validated(resource: dict[str, Any]) -> _Parts:
    try:
        observation = Observation.model_validate(resource)
    except ValidationError as invalid:
        raise ResourceRefused(f"Observation invalide : {_first_error(invalid)}") from None
    return _Parts(
        status=str(observation.status),
        subject=observation.subject.reference if observation.subject else None,
        at=observation.effectiveDateTime or observation.effectiveInstant,
        codes=_loinc(observation.code.coding or []),
        quantity=_model_quantity(observation.valueQuantity),
        components=[
            (_loinc(c.code.coding or []), _model_quantity(c.valueQuantity))
            for c in observation.component or []
        ],
    )


def _loinc(coding: list[Any]) -> list[str]:
    return [c.code for c in coding if c.system == LOINC and c.code]


def _model_quantity(quantity: Any) -> _Quantity | None:
    if quantity is None:
        return None
    return _Quantity(quantity.value, quantity.system, quantity.code, quantity.unit)


def _plain(resource: dict[str, Any]) -> _Parts | None:
    """The parts of an Observation of the plain shape, or None to take the full validation."""
    if resource.get("resourceType") != "Observation" or not resource.keys() <= PLAIN_KEYS:
        return None
    at = _instant(resource.get("effectiveDateTime"))
    if at is None or not _is_code(resource.get("status")) or not _is_concept(resource.get("code")):
        return None
    if "category" in resource and not _is_list(resource["category"], _is_concept):
        return None
    subject, quantity = resource.get("subject"), resource.get("valueQuantity")
    if subject is not None and not _is_object(subject, {"reference": _is_text, "display": _is_text}):
        return None
    if quantity is not None and not _is_quantity(quantity):
        return None
    components = resource.get("component")
    if components is not None and not _is_list(components, _is_component):
        return None
    return _Parts(
        status=resource["status"],
        subject=subject.get("reference") if subject else None,
        at=at,
        codes=_plain_loinc(resource["code"]),
        quantity=_plain_quantity(quantity),
        components=[
            (_plain_loinc(c["code"]), _plain_quantity(c.get("valueQuantity"))) for c in components or []
        ],
    )


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str) or not FHIR_INSTANT.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # 2026-13-45…: the full validation says what is wrong
        return None


def _plain_loinc(concept: dict[str, Any]) -> list[str]:
    return [c["code"] for c in concept.get("coding", []) if c.get("system") == LOINC and c.get("code")]


def _plain_quantity(quantity: dict[str, Any] | None) -> _Quantity | None:
    if quantity is None:
        return None
    value = quantity.get("value")
    number = None if value is None else Decimal(str(value))  # as fhir.resources reads a JSON number
    return _Quantity(number, quantity.get("system"), quantity.get("code"), quantity.get("unit"))


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and FHIR_CODE.fullmatch(value) is not None


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and FHIR_URI.fullmatch(value) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_object(value: Any, fields: dict[str, Any]) -> bool:
    """A non-empty object with only these fields, each passing its check."""
    return (
        isinstance(value, dict)
        and bool(value)
        and value.keys() <= fields.keys()
        and all(fields[key](item) for key, item in value.items())
    )


def _is_list(value: Any, check: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(check(item) for item in value)


def _is_coding(value: Any) -> bool:
    return _is_object(value, {"system": _is_uri, "code": _is_code, "display": _is_text})


def _is_concept(value: Any) -> bool:
    return _is_object(value, {"coding": lambda c: _is_list(c, _is_coding), "text": _is_text})


def _is_quantity(value: Any) -> bool:
    return _is_object(value, {"value": _is_number, "unit": _is_text, "system": _is_uri, "code": _is_code})


def _is_component(value: Any) -> bool:
    return _is_object(value, {"code": _is_concept, "valueQuantity": _is_quantity}) and "code" in value


def _first_error(invalid: ValidationError) -> str:
    error = invalid.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where} : {error.get('msg', 'invalide')}"


def _effective(at: Any) -> datetime:
    if at is None:
        raise ResourceRefused("effectiveDateTime requis (date, heure et fuseau horaire)")
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ResourceRefused("effectiveDateTime : heure et fuseau horaire requis")
    return at


def _value(quantity: _Quantity | None, where: str) -> tuple[Any, str]:
    if quantity is None or quantity.value is None:
        raise ResourceRefused(f"{where} : valeur requise")
    if quantity.system not in (None, UCUM):
        raise ResourceRefused(f"{where}.system : unité UCUM attendue ({UCUM})")
    unit = quantity.code or quantity.unit
    if not unit:
        raise ResourceRefused(f"{where}.code : unité UCUM requise")
    return quantity.value, unit


def _components(components: list[tuple[list[str], _Quantity | None]]) -> tuple[Value, ...]:
    values: dict[str, Value] = {}
    for index, (codes, quantity) in enumerate(components):
        kind = next((k for code in codes if (k := kind_for_loinc(code)) in BLOOD_PRESSURE.components), None)
        if kind is not None:
            values[kind] = Value(kind, *_value(quantity, f"component[{index}].valueQuantity"))
    missing = [k.spec.label for k in BLOOD_PRESSURE.components if k not in values]
    if missing:
        raise ResourceRefused(f"component : {' et '.join(missing)} requise(s) dans le panel 85354-9")
    return tuple(values[k] for k in BLOOD_PRESSURE.components)
