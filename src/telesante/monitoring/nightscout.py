"""Nightscout API v1, the part CGM uploaders use (xDrip+, Spike, AndroidAPS…), so they send to
Telesante unchanged: the device token is their API_SECRET, sent hashed in `api-secret`.

Entries: `sgv` is interstitial glucose, `mbg` a meter reading, both in mg/dL; `date` is epoch ms
and `dateString` ISO 8601 with the device's offset (preferred when present, as Nightscout's
sysTime). Nightscout upserts on sysTime + type; we store once per (device, kind, instant), which
is the same key for one uploader. Unlike Nightscout, a POST answers one object per entry sent:
stored or already stored ones with their `_id`, refused ones (Dexcom error codes 1–12, impossible
values) with `refused` and the reason, and no `_id`: uploaders only look at the status code, and a
refused entry must not be retried forever.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from telesante import __version__
from telesante.audit.service import record
from telesante.db import utcnow
from telesante.deps import DbSession
from telesante.errors import PROBLEM_RESPONSES, Invalid
from telesante.monitoring import devices
from telesante.monitoring.fhir_routes import bus_of
from telesante.monitoring.ingest import Outcome, Reading, Result, Source, ingest
from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Device, Measurement

NIGHTSCOUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    401: {
        "description": "Nightscout refusal {status: 401, message: Unauthorized, description: Invalid/Missing}"
    },
}
router = APIRouter(prefix="/api/v1", tags=["nightscout"], responses=NIGHTSCOUT_RESPONSES)
TYPES = {"sgv": MeasureKind.GLUCOSE_CGM, "mbg": MeasureKind.GLUCOSE_METER}
KIND_TYPES = {kind.value: name for name, kind in TYPES.items()}
MAX_ENTRIES = 10_000
UNAUTHORIZED = {"status": 401, "message": "Unauthorized", "description": "Invalid/Missing"}


async def _device(request: Request, db: DbSession) -> Device | None:
    secret = request.headers.get("api-secret") or request.query_params.get("secret") or ""
    return await devices.by_nightscout_secret(db, secret) if secret else None


def _unauthorized() -> JSONResponse:
    return JSONResponse(UNAUTHORIZED, status_code=401)


@router.post("/entries", response_model=None)
@router.post("/entries.json", response_model=None, include_in_schema=False)
async def post_entries(request: Request, db: DbSession) -> Any:
    device = await _device(request, db)
    if device is None:
        return _unauthorized()
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("corps JSON illisible") from None
    entries = body if isinstance(body, list) else [body]
    if len(entries) > MAX_ENTRIES:
        raise Invalid(f"au plus {MAX_ENTRIES} entrées par envoi")
    parsed = [_reading(entry) for entry in entries]
    readings = [p for p in parsed if isinstance(p, Reading)]
    outcomes = iter(await ingest(db, bus_of(request), device, readings))
    return [
        _answer(entry, next(outcomes)) if isinstance(p, Reading) else {**_echo(entry), **p}
        for entry, p in zip(entries, parsed, strict=True)
    ]


def _reading(entry: Any) -> Reading | dict[str, str]:
    """The reading of one entry, or what to answer instead (ignored or refused, and why)."""
    if not isinstance(entry, dict):
        return {"refused": "objet JSON attendu"}
    kind = TYPES.get(str(entry.get("type", "sgv")))
    if kind is None:
        return {"ignored": f"type « {entry.get('type')} » non conservé (seuls sgv et mbg sont des mesures)"}
    value = entry.get(entry.get("type", "sgv"))
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("-").replace(".", "", 1).isdigit():
            return {"refused": f"valeur « {value} » non numérique"}
        value = float(value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return {"refused": f"{entry.get('type', 'sgv')} : valeur numérique requise"}
    at = _moment(entry)
    if at is None:
        return {"refused": "date (ms) ou dateString (ISO 8601 avec fuseau) requis"}
    return Reading.single(kind, value, "mg/dL", at, Source.NIGHTSCOUT)


def _moment(entry: dict[str, Any]) -> datetime | None:
    text = entry.get("dateString") or entry.get("sysTime")
    if isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    date = entry.get("date")
    if isinstance(date, int | float) and not isinstance(date, bool) and 0 < date < 10**14:
        return datetime.fromtimestamp(date / 1000, UTC)
    return None


def _echo(entry: Any) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "_id"} if isinstance(entry, dict) else {}


def _answer(entry: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    if outcome.result is Result.REFUSED:
        return {**_echo(entry), "refused": outcome.reason}
    stored = _entry(outcome.measurements[0])
    if outcome.result is Result.DUPLICATE:
        stored["duplicate"] = True
    return {**_echo(entry), **stored}


def _entry(measurement: Measurement) -> dict[str, Any]:
    """A stored measurement as Nightscout writes an entry (times in UTC, value in mg/dL)."""
    kind = KIND_TYPES[measurement.kind]
    at = measurement.effective_at.astimezone(UTC)
    iso = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "_id": measurement.id,
        "type": kind,
        kind: int(measurement.value.to_integral_value()),
        "date": int(at.timestamp() * 1000),
        "dateString": iso,
        "sysTime": iso,
        "utcOffset": 0,
    }


@router.get("/entries", response_model=None)
@router.get("/entries.json", response_model=None, include_in_schema=False)
async def get_entries(
    request: Request, db: DbSession, count: Annotated[int, Query(ge=1, le=1000)] = 10
) -> Any:
    """The device patient's latest glucose, newest first (`count`, `find[date][$gte]`, `find[type]`)."""
    device = await _device(request, db)
    if device is None:
        return _unauthorized()
    query = select(Measurement).where(
        Measurement.patient_id == device.patient_id, Measurement.kind.in_(list(KIND_TYPES))
    )
    if (since := request.query_params.get("find[date][$gte]")) is not None:
        if not since.isdigit():
            raise Invalid.field("find[date][$gte]", "millisecondes depuis 1970 attendues")
        query = query.where(Measurement.effective_at >= datetime.fromtimestamp(int(since) / 1000, UTC))
    if (kind := request.query_params.get("find[type]")) is not None:
        query = query.where(Measurement.kind == (TYPES[kind].value if kind in TYPES else ""))
    rows = list(await db.scalars(query.order_by(Measurement.effective_at.desc()).limit(count)))
    # A device reads back its own patient's glucose (uploaders and followers do): traced like any read.
    record(
        db,
        None,
        action="search",
        resource_type="NightscoutEntries",
        resource_id=device.id,
        patient_id=device.patient_id,
        purpose="device",
    )
    return [_entry(m) for m in rows]


@router.get("/status.json", response_model=None)
@router.get("/status", response_model=None, include_in_schema=False)
async def status(request: Request, db: DbSession) -> dict[str, Any]:
    device = await _device(request, db)
    now = utcnow()
    return {
        "status": "ok",
        "name": "Telesante",
        "version": f"15.0.0-telesante-{__version__}",
        "serverTime": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "serverTimeEpoch": int(now.timestamp() * 1000),
        "apiEnabled": True,
        "careportalEnabled": False,
        "boluscalcEnabled": False,
        "settings": {
            "units": "mg/dl",
            "enable": [],
            "thresholds": {"bgHigh": 250, "bgTargetTop": 180, "bgTargetBottom": 70, "bgLow": 54},
        },
        "extendedSettings": {},
        "authorized": {"canWrite": True} if device else None,
    }


@router.get("/verifyauth", response_model=None)
async def verify_auth(request: Request, db: DbSession) -> dict[str, Any]:
    device = await _device(request, db)
    return {
        "status": 200,
        "message": {
            "canRead": device is not None,
            "canWrite": device is not None,
            "isAdmin": False,
            "message": "OK" if device else "UNAUTHORIZED",
            "rolefound": "FOUND" if device else "NOTFOUND",
            "permissions": "ROLE" if device else "DEFAULT",
        },
    }
