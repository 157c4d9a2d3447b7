"""The FHIR façade of télésurveillance: devices write Observations (one, or a batch/transaction
Bundle); professionals read Observations and alerts as DetectedIssue (ADR 0009)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, and_, or_, select

from telesante.deps import CurrentActor, DbSession
from telesante.errors import Invalid, NotFound
from telesante.fhir.mapping import searchset
from telesante.fhir.outcome import FHIR_JSON, FhirResponse, outcome
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import fhir_out
from telesante.monitoring.device_auth import CurrentDevice
from telesante.monitoring.fhir_in import ResourceRefused, reading_of
from telesante.monitoring.ingest import EntryRefused, Outcome, Reading, Result, ingest
from telesante.monitoring.measures import BLOOD_PRESSURE, kind_for_loinc, panel_for_loinc
from telesante.monitoring.models import Alert, Measurement
from telesante.patients.access import access_patient
from telesante.realtime.bus import Bus

router = APIRouter(prefix="/fhir/R4", tags=["fhir", "monitoring"], default_response_class=FhirResponse)
FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}}
    for status in (400, 401, 404, 409, 422)
}
MAX_ENTRIES = 10_000
MAX_COUNT = 1000
STATUS_LINES = {
    Result.CREATED: "201 Created",
    Result.DUPLICATE: "200 OK",
    Result.REFUSED: "422 Unprocessable Entity",
}
DATE_PREFIXES = {"ge": "__ge__", "gt": "__gt__", "le": "__le__", "lt": "__lt__", "eq": "__eq__"}


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.runtime.bus
    return bus


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise Invalid("corps JSON illisible") from None


@router.post("/Observation", status_code=201, responses=FHIR_RESPONSES)
async def create_observation(request: Request, db: DbSession, device: CurrentDevice) -> JSONResponse:
    """One measurement from a device: 201 stored, 200 if already stored, 422 with the reason."""
    try:
        reading = reading_of(await _json(request), device.patient_id)
        [result] = await ingest(db, bus_of(request), device, [reading], all_or_nothing=True)
    except (ResourceRefused, EntryRefused) as refused:
        raise Invalid(getattr(refused, "reason", str(refused))) from None
    resource = fhir_out.observation_resource(result.measurements)
    status = 201 if result.result is Result.CREATED else 200
    location = f"{_base(request)}/Observation/{resource['id']}"
    return FhirResponse(resource, status_code=status, headers={"Location": location})


@router.post("", responses=FHIR_RESPONSES)
async def post_bundle(request: Request, db: DbSession, device: CurrentDevice) -> FhirResponse:
    """A Bundle of Observations. `batch`: each entry stands alone, the good ones are kept and each
    answer says 201, 200 (already stored) or 422 and why. `transaction`: all or nothing."""
    bundle = await _json(request)
    kind = _bundle_type(bundle)
    entries = bundle.get("entry") or []
    readings: list[tuple[int, Reading]] = []
    refused: dict[int, str] = {}
    for index, entry in enumerate(entries):
        try:
            readings.append((index, _entry_reading(entry, device.patient_id)))
        except ResourceRefused as reason:
            if kind == "transaction":
                raise EntryRefused(index, str(reason)) from None
            refused[index] = str(reason)
    outcomes = await ingest(
        db, bus_of(request), device, [r for _, r in readings], all_or_nothing=kind == "transaction"
    )
    answers = {index: _answer(o) for (index, _), o in zip(readings, outcomes, strict=True)}
    answers |= {index: _refusal(reason) for index, reason in refused.items()}
    # Returned as is: a response of thousands of entries is not worth a pass through a response model.
    return FhirResponse(
        {
            "resourceType": "Bundle",
            "type": f"{kind}-response",
            "entry": [_numbered(answers[i], i) for i in range(len(entries))],
        }
    )


def _bundle_type(bundle: Any) -> str:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise Invalid("ressource Bundle attendue")
    if bundle.get("type") not in ("batch", "transaction"):
        raise Invalid.field("type", "batch ou transaction attendu")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise Invalid.field("entry", f"une liste d'au plus {MAX_ENTRIES} entrées")
    return str(bundle["type"])


def _entry_reading(entry: Any, patient_id: str) -> Reading:
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or request.get("method") != "POST":
        raise ResourceRefused("request.method POST attendu")
    if str(request.get("url", "")).rstrip("/").rsplit("/", 1)[-1] != "Observation":
        raise ResourceRefused("request.url Observation attendu")
    return reading_of(entry.get("resource"), patient_id)


def _answer(result: Outcome) -> dict[str, Any]:
    if result.result is Result.REFUSED:
        return _refusal(result.reason or "entrée refusée")
    response: dict[str, Any] = {
        "status": STATUS_LINES[result.result],
        "location": f"Observation/{result.resource_id}",
        "lastModified": result.measurements[0].received_at.isoformat(),
    }
    if result.result is Result.DUPLICATE:
        response["outcome"] = _information("mesure déjà enregistrée (doublon) : rien n'a changé")
    return {"response": response}


def _refusal(reason: str) -> dict[str, Any]:
    return {"response": {"status": STATUS_LINES[Result.REFUSED], "outcome": outcome(422, "invalid", reason)}}


def _numbered(answer: dict[str, Any], index: int) -> dict[str, Any]:
    """Name the entry in its OperationOutcome, so a reader of the response alone knows which."""
    outcome_ = answer["response"].get("outcome")
    if outcome_ and outcome_["issue"][0]["severity"] == "error":
        issue = outcome_["issue"][0]
        issue["details"]["text"] = f"entrée {index} : {issue['details']['text']}"
        issue["expression"] = [f"Bundle.entry[{index}]"]
    return answer


def _information(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "duplicate", "details": {"text": text}}],
    }


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir/R4"


def _count(request: Request) -> int:
    raw = request.query_params.get("_count", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise Invalid.field("_count", f"un entier de 1 à {MAX_COUNT}")
    return int(raw)


def _patient_param(request: Request) -> str:
    value = request.query_params.get("patient") or request.query_params.get("subject")
    if not value:
        raise Invalid.field("patient", "requis : Patient/{id}")
    return value.removeprefix("Patient/")


def _date_conditions(request: Request) -> list[ColumnElement[bool]]:
    conditions = []
    for raw in request.query_params.getlist("date"):
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in DATE_PREFIXES else ("eq", raw)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid.field(
                "date", "date ISO 8601 avec fuseau, précédée de ge, gt, le, lt ou eq"
            ) from None
        if moment.tzinfo is None:
            raise Invalid.field("date", "fuseau horaire requis (ex. 2026-11-23T08:00:00+01:00)")
        operator = getattr(Measurement.effective_at, DATE_PREFIXES[prefix])
        conditions.append(operator(moment))
    return conditions


def _code_condition(request: Request) -> ColumnElement[bool] | None:
    raw = request.query_params.get("code")
    if not raw:
        return None
    kinds: set[str] = set()
    for token in raw.split(","):
        code = token.split("|")[-1]
        if panel_for_loinc(code) is BLOOD_PRESSURE:
            kinds.update(k.value for k in BLOOD_PRESSURE.components)
        elif (kind := kind_for_loinc(code)) is not None:
            kinds.add(kind.value)
    return Measurement.kind.in_(sorted(kinds))


@router.get("/Observation", responses=FHIR_RESPONSES)
async def search_observation(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A patient's measurements, newest first: `patient`, `code` (LOINC), `date` (ge/le…), `_count`."""
    patient = await access_patient(
        db, actor, _patient_param(request), action="search", resource_type="Observation"
    )
    count = _count(request)
    conditions = [Measurement.patient_id == patient.id, *_date_conditions(request)]
    if (code := _code_condition(request)) is not None:
        conditions.append(code)
    rows = await db.scalars(
        select(Measurement)
        .where(and_(*conditions))
        .order_by(Measurement.effective_at.desc(), Measurement.id)
        .limit(count * 2)
    )
    resources = [fhir_out.observation_resource(g) for g in fhir_out.group(rows)][:count]
    return searchset(resources, _base(request), str(request.url), None)


@router.get("/Observation/{observation_id}", responses=FHIR_RESPONSES)
async def read_observation(observation_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    parts = list(
        await db.scalars(
            select(Measurement).where(
                or_(
                    and_(Measurement.id == observation_id, Measurement.panel_id.is_(None)),
                    Measurement.panel_id == observation_id,
                )
            )
        )
    )
    if not parts:
        raise NotFound("Observation introuvable")
    try:
        await access_patient(
            db, actor, parts[0].patient_id, resource_type="Observation", resource_id=observation_id
        )
    except NotFound:
        raise NotFound("Observation introuvable") from None
    return fhir_out.observation_resource(parts)


async def _evidence(db: DbSession, alerts: list[Alert]) -> dict[str, list[Measurement]]:
    ids = {mid for alert in alerts for mid in alert.evidence}
    found = (
        {m.id: m for m in await db.scalars(select(Measurement).where(Measurement.id.in_(ids)))} if ids else {}
    )
    return {a.id: [found[mid] for mid in a.evidence if mid in found] for a in alerts}


@router.get("/DetectedIssue", responses=FHIR_RESPONSES)
async def search_detected_issue(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A patient's télésurveillance alerts, most severe then newest first, each linked to its measurements."""
    patient = await access_patient(
        db, actor, _patient_param(request), action="search", resource_type="DetectedIssue"
    )
    found = await alert_service.visible_alerts(db, actor, patient_id=patient.id, limit=_count(request))
    evidence = await _evidence(db, found)
    resources = [fhir_out.detected_issue_resource(a, evidence[a.id]) for a in found]
    return searchset(resources, _base(request), str(request.url), None)


@router.get("/DetectedIssue/{alert_id}", responses=FHIR_RESPONSES)
async def read_detected_issue(alert_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    alert = await alert_service.alert_for(db, actor, alert_id)
    evidence = await _evidence(db, [alert])
    return fhir_out.detected_issue_resource(alert, evidence[alert.id])
