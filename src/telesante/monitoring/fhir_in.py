"""FHIR R4 Observation → a Reading for ingestion: LOINC code, UCUM quantity, effective time.

The resource is first validated with fhir.resources (R4B, the R4 structure), then read the way the
vital-signs profile writes it: a LOINC coding in `code`, `valueQuantity` in UCUM, or for the
blood-pressure panel 85354-9 no value and one component per pressure. Anything else is refused
with a French reason naming the element.
"""

from datetime import datetime
from typing import Any

from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from telesante.monitoring.ingest import Reading, Source, Value
from telesante.monitoring.measures import BLOOD_PRESSURE, kind_for_loinc, panel_for_loinc

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACCEPTED_STATUS = {"final", "amended", "corrected", "preliminary"}


class ResourceRefused(ValueError):
    """An entry that cannot become a measurement; the message says why, in French."""


def reading_of(resource: Any, patient_id: str) -> Reading:
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        raise ResourceRefused("ressource Observation attendue")
    try:
        observation = Observation.model_validate(resource)
    except ValidationError as invalid:
        raise ResourceRefused(f"Observation invalide : {_first_error(invalid)}") from None
    if observation.status not in ACCEPTED_STATUS:
        raise ResourceRefused(
            f"status « {observation.status} » : final, amended, corrected ou preliminary attendu"
        )
    _check_subject(observation, patient_id)
    at = _effective(observation)
    codes = [c.code for c in observation.code.coding or [] if c.system == LOINC and c.code]
    if any(panel_for_loinc(code) is BLOOD_PRESSURE for code in codes):
        return Reading(_components(observation), at, Source.FHIR)
    kind = next((k for code in codes if (k := kind_for_loinc(code)) is not None), None)
    if kind is None:
        raise ResourceRefused(
            f"code : aucun code LOINC de mesure connu ({', '.join(codes) or 'aucun code LOINC'})"
        )
    return Reading((Value(kind, *_quantity(observation.valueQuantity, "valueQuantity")),), at, Source.FHIR)


def _first_error(invalid: ValidationError) -> str:
    error = invalid.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where} : {error.get('msg', 'invalide')}"


def _check_subject(observation: Observation, patient_id: str) -> None:
    reference = observation.subject.reference if observation.subject else None
    if reference and reference.removeprefix("Patient/") != patient_id:
        raise ResourceRefused("subject : ce patient n'est pas celui de l'appareil")


def _effective(observation: Observation) -> datetime:
    at = observation.effectiveDateTime or observation.effectiveInstant
    if at is None:
        raise ResourceRefused("effectiveDateTime requis (date, heure et fuseau horaire)")
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ResourceRefused("effectiveDateTime : heure et fuseau horaire requis")
    return at


def _quantity(quantity: Any, where: str) -> tuple[Any, str]:
    if quantity is None or quantity.value is None:
        raise ResourceRefused(f"{where} : valeur requise")
    if quantity.system not in (None, UCUM):
        raise ResourceRefused(f"{where}.system : unité UCUM attendue ({UCUM})")
    unit = quantity.code or quantity.unit
    if not unit:
        raise ResourceRefused(f"{where}.code : unité UCUM requise")
    return quantity.value, unit


def _components(observation: Observation) -> tuple[Value, ...]:
    values: dict[str, Value] = {}
    for index, component in enumerate(observation.component or []):
        codes = [c.code for c in component.code.coding or [] if c.system == LOINC and c.code]
        kind = next((k for code in codes if (k := kind_for_loinc(code)) in BLOOD_PRESSURE.components), None)
        if kind is not None:
            values[kind] = Value(
                kind, *_quantity(component.valueQuantity, f"component[{index}].valueQuantity")
            )
    missing = [k.spec.label for k in BLOOD_PRESSURE.components if k not in values]
    if missing:
        raise ResourceRefused(f"component : {' et '.join(missing)} requise(s) dans le panel 85354-9")
    return tuple(values[k] for k in BLOOD_PRESSURE.components)
