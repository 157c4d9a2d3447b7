"""A patient's télésurveillance page for the professionals (charts with thresholds, AGP, time in
ranges, rules and their sources, the change log, alerts, monthly reports), and the patient's own
view in plain French (`/mes-mesures`). Both go through the access gate."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telesante.db import utcnow
from telesante.deps import DbSession
from telesante.monitoring import monthly, wording
from telesante.monitoring import overview as overviews
from telesante.monitoring import programs as program_service
from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.pages import HELPERS, require_professional
from telesante.patients.access import access_patient
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)


def _number(value: float | None, places: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:.{places}f}".replace(".", ",")


TEMPLATE_HELPERS: dict[str, Any] = {
    **HELPERS,
    "number": _number,
    "plain_title": lambda kind: wording.PLAIN_TITLES[MeasureKind(kind)],
}


@router.get("/telesurveillance/patients/{patient_id}")
async def patient_page(request: Request, patient_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    require_professional(actor)
    patient = await access_patient(db, actor, patient_id, resource_type="MonitoringPatientPage")
    seen = await overviews.overview(db, actor, patient, utcnow())
    prescriber_of = [v.program for v in seen.programs if v.program.prescriber_id == actor.professional_id]
    return page(
        request,
        "monitoring_patient.html",
        actor=actor,
        view=seen,
        names=seen.names,
        back=f"/telesurveillance/patients/{patient.id}",
        can_report=bool(prescriber_of),
        **TEMPLATE_HELPERS,
    )


@router.get("/mes-mesures")
async def my_measurements(request: Request, db: DbSession, actor: PageActor) -> Response:
    """The patient's own data and alerts, explained without jargon."""
    if actor.role != "patient" or not actor.patient_id:
        return RedirectResponse("/telesurveillance", status_code=303)
    patient = await access_patient(db, actor, actor.patient_id, resource_type="MonitoringOwnView")
    seen = await overviews.overview(db, actor, patient, utcnow())
    explained = [
        (row, wording.plain_alert(row.alert, seen.rules.get(row.alert.rule_code), row.evidence))
        for row in seen.alerts
    ]
    return page(
        request,
        "monitoring_mine.html",
        actor=actor,
        view=seen,
        alerts=explained,
        trends=wording.plain_trends(seen.measurements, seen.glucose),
        **TEMPLATE_HELPERS,
    )


@router.post("/telesurveillance/patients/{patient_id}/rapports")
async def report_now(
    patient_id: str, db: DbSession, actor: PageActor, month: Annotated[str, Form(max_length=7)]
) -> Response:
    """The prescriber asks for a month's report now (interim while the month runs)."""
    require_professional(actor)
    patient = await access_patient(db, actor, patient_id, action="create", resource_type="Document")
    found = await program_service.visible_programs(db, actor, patient_id=patient.id)
    await monthly.on_demand(db, actor, found, month)
    return RedirectResponse(f"/telesurveillance/patients/{patient.id}#rapports", status_code=303)
