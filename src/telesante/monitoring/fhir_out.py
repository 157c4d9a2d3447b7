"""Measurements → Observation, alerts → DetectedIssue (ADR 0009), validated before they leave."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.observation import Observation

from telesante.monitoring.measures import BLOOD_PRESSURE, MeasureKind
from telesante.monitoring.models import Alert, Measurement

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
RULE_SYSTEM = "https://telesante.fr/fhir/CodeSystem/monitoring-rule"
DETECTED_ISSUE_CATEGORY = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SEVERITY = {"critical": "high", "warning": "moderate", "info": "low"}
# Raised by the platform and not yet reviewed: preliminary; reviewed by the team: final;
# resolved: final too, the mitigations say what was done and when.
STATUS = {"open": "preliminary", "acknowledged": "final", "resolved": "final"}


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


def observation_id(measurement: Measurement) -> str:
    return measurement.panel_id or measurement.id


def group(measurements: Iterable[Measurement]) -> list[list[Measurement]]:
    """Measurements grouped as Observations (a panel's components together), in the given order."""
    groups: dict[str, list[Measurement]] = {}
    for measurement in measurements:
        groups.setdefault(observation_id(measurement), []).append(measurement)
    return list(groups.values())


def observation_resource(parts: list[Measurement]) -> dict[str, Any]:
    first = parts[0]
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id(first),
        "status": "final",
        "subject": {"reference": f"Patient/{first.patient_id}"},
        "effectiveDateTime": first.effective_at.isoformat(),
        "issued": first.received_at.isoformat(),
        "device": {"display": f"appareil {first.device_id}"},
    }
    if first.panel_id:
        data["category"] = [_category("vital-signs")]
        data["code"] = _code(BLOOD_PRESSURE.loinc, BLOOD_PRESSURE.label)
        order = {k.value: i for i, k in enumerate(BLOOD_PRESSURE.components)}
        data["component"] = [
            {"code": _kind_code(m), "valueQuantity": _quantity(m)}
            for m in sorted(parts, key=lambda m: order.get(m.kind, 9))
        ]
    else:
        kind = MeasureKind(first.kind)
        data["category"] = [_category(kind.spec.category)]
        data["code"] = _kind_code(first)
        data["valueQuantity"] = _quantity(first)
    return _valid(Observation, data)


def detected_issue_resource(alert: Alert, evidence: list[Measurement]) -> dict[str, Any]:
    references = [
        {"reference": f"Observation/{oid}"} for oid in dict.fromkeys(observation_id(m) for m in evidence)
    ]
    data: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": alert.id,
        "status": STATUS[alert.status],
        "code": {
            "coding": [{"system": RULE_SYSTEM, "code": alert.rule_code, "display": alert.label}],
            "text": alert.label,
        },
        "severity": SEVERITY.get(alert.severity, "low"),
        "patient": {"reference": f"Patient/{alert.patient_id}"},
        "identifiedDateTime": alert.occurred_at.isoformat(),
        "detail": _detail(alert),
        "implicated": references,
        "evidence": [{"detail": references}] if references else [],
        "mitigation": _mitigations(alert),
    }
    return _valid(DetectedIssue, {k: v for k, v in data.items() if v != []})


def _detail(alert: Alert) -> str:
    parts = [alert.label]
    if alert.late:
        parts.append("mesures arrivées en retard")
    if alert.episodes > 1:
        parts.append(f"{alert.episodes} épisodes")
    parts.append("condition en cours" if alert.condition_active else "valeurs revenues dans la cible")
    return " ; ".join(parts)


def _mitigations(alert: Alert) -> list[dict[str, Any]]:
    out = []
    if alert.acknowledged_at:
        out.append(_mitigation("prise en compte", alert.acknowledgement, alert.acknowledged_at.isoformat()))
    if alert.resolved_at:
        out.append(_mitigation("résolue", alert.resolution, alert.resolved_at.isoformat()))
    return out


def _mitigation(what: str, comment: str | None, when: str) -> dict[str, Any]:
    text = f"{what} : {comment}" if comment else what
    return {"action": {"text": text}, "date": when}


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": CATEGORY, "code": code}]}


def _code(loinc: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": loinc, "display": display}], "text": display}


def _kind_code(measurement: Measurement) -> dict[str, Any]:
    spec = MeasureKind(measurement.kind).spec
    return _code(spec.loinc[0], spec.label)


def _quantity(measurement: Measurement) -> dict[str, Any]:
    unit = MeasureKind(measurement.kind).spec.unit
    return {"value": plain(measurement.value), "unit": unit, "system": UCUM, "code": unit}


def plain(value: Decimal) -> Decimal | int:
    """No trailing zeros and no exponent: 100.0000 → 100, 63.0560 → 63.056."""
    return int(value) if value == value.to_integral_value() else value.normalize()
