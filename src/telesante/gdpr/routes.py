"""The patient's own GDPR rights: download their data (art. 15, 20) and ask for erasure (art. 17)."""

import asyncio
import json
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, Response

from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.deps import CurrentActor, DbSession, SettingsDep
from telesante.errors import PROBLEM_RESPONSES, AppError, Forbidden
from telesante.gdpr import service
from telesante.gdpr.collect import PatientData, collect
from telesante.gdpr.export_fhir import FHIR_JSON, export_bundle
from telesante.gdpr.export_pdf import render_pdf
from telesante.gdpr.models import ErasureRequest
from telesante.gdpr.schemas import ErasureCreate, ErasureOut, ErasureResult, RetentionOut
from telesante.patients.access import access_patient
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter()
api = APIRouter(prefix="/api/me", tags=["gdpr"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)
# The export holds health data: no cache may keep a copy.
NO_STORE = {"Cache-Control": "no-store"}


def only_patient(actor: Actor) -> Actor:
    """These rights are the patient's own; a professional or administrator exports nothing here."""
    if actor.role != "patient":
        raise Forbidden("réservé aux patients, pour leurs propres données")
    return actor


async def patient_actor(actor: CurrentActor) -> Actor:
    return only_patient(actor)


PatientActor = Annotated[Actor, Depends(patient_actor)]


async def _gather(db: DbSession, actor: Actor, resource_type: str) -> PatientData:
    # The gate audits the export (action "export") like any other access to the record.
    patient = await access_patient(
        db, actor, actor.patient_id or "", purpose="export", action="export", resource_type=resource_type
    )
    return await collect(db, patient, utcnow())


def _attachment(filename: str) -> dict[str, str]:
    return {**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}


@api.get("/export.json", response_class=Response, responses={200: {"content": {FHIR_JSON: {}}}})
async def export_json(db: DbSession, actor: PatientActor, settings: SettingsDep) -> Response:
    """All the caller's data as a FHIR R4 Bundle (collection)."""
    data = await _gather(db, actor, "Bundle")
    bundle = export_bundle(data, f"{settings.base_url}/fhir/R4")
    body = json.dumps(bundle, ensure_ascii=False)
    return Response(body, media_type=FHIR_JSON, headers=_attachment("telesante-mes-donnees.json"))


@api.get("/export.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def export_pdf(db: DbSession, actor: PatientActor) -> Response:
    """A readable French summary of the caller's data."""
    data = await _gather(db, actor, "PatientSummaryPdf")
    pdf = await asyncio.to_thread(render_pdf, data)
    return Response(pdf, media_type="application/pdf", headers=_attachment("telesante-mes-donnees.pdf"))


def erasure_out(request: ErasureRequest) -> ErasureOut:
    return ErasureOut.model_validate(request, from_attributes=True)


def _retention_out(retention: service.Retention) -> RetentionOut:
    return RetentionOut(
        rule=service.RETENTION_RULE, last_activity=retention.last_activity, kept_until=retention.kept_until
    )


def erasure_result(outcome: service.ErasureOutcome) -> ErasureResult:
    retention = outcome.retention
    return ErasureResult(
        **erasure_out(outcome.request).model_dump(),
        erased=outcome.erased,
        retention=_retention_out(retention) if retention else None,
    )


@api.post("/erasure", status_code=status.HTTP_201_CREATED)
async def request_erasure(data: ErasureCreate, db: DbSession, actor: PatientActor) -> ErasureResult:
    """Erase the account; the medical record is kept for its legal retention period, said in the answer."""
    outcome = await service.request_erasure(db, actor, data.scope, data.password, utcnow())
    return erasure_result(outcome)


@api.get("/erasure")
async def list_erasure_requests(db: DbSession, actor: PatientActor) -> list[ErasureOut]:
    return [erasure_out(r) for r in await service.erasure_requests(db, actor.user)]


@pages.get("/mes-donnees")
async def my_data_page(request: Request, db: DbSession, actor: PageActor) -> HTMLResponse:
    only_patient(actor)
    requests = await service.erasure_requests(db, actor.user)
    return page(request, "gdpr_my_data.html", actor=actor, requests=requests, outcome=None)


@pages.post("/mes-donnees/effacement")
async def erasure_form(
    request: Request,
    db: DbSession,
    actor: PageActor,
    password: Annotated[str, Form(max_length=200)] = "",
    scope: Annotated[str, Form(max_length=10)] = "all",
) -> HTMLResponse:
    only_patient(actor)
    chosen = cast(service.Scope, scope if scope in ("all", "account", "record") else "all")
    try:
        outcome = await service.request_erasure(db, actor, chosen, password, utcnow())
    except AppError as error:  # the password check comes before any write, so nothing is half done
        requests = await service.erasure_requests(db, actor.user)
        return page(request, "gdpr_my_data.html", 403, actor=actor, requests=requests, error=error.detail)
    return page(request, "gdpr_my_data.html", actor=actor, requests=[outcome.request], outcome=outcome)


router.include_router(api)
router.include_router(pages)
