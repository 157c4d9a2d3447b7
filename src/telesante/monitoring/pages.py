"""The operator's pages: the live dashboard, acknowledging and resolving an alert, and going from an
alert to a téléconsultation with the patient.

The dashboard's list is also served alone (`/telesurveillance/liste`): monitoring_dashboard.js
fetches it again when a "monitoring_alert" event arrives over the WebSocket, so a new alert shows
without reloading the page.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telesante.auth.actor import Actor
from telesante.deps import DbSession
from telesante.errors import AppError, Forbidden, Invalid
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import dashboard, monthly, teleconsult, wording
from telesante.patients.access import access_patient
from telesante.teleconsultation.agenda import PARIS
from telesante.teleconsultation.routes import bus_of
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
HOME = "/telesurveillance"
HELPERS: dict[str, Any] = {
    "measure": wording.measurement_text,
    "kind_label": wording.kind_label,
    "indication": wording.indication_label,
    "severity_labels": wording.SEVERITY_LABELS,
    "status_labels": wording.STATUS_LABELS,
}


def require_professional(actor: Actor) -> None:
    if actor.role != "professional":
        raise Forbidden("réservé aux professionnels de santé")


async def _list_context(request: Request, db: DbSession, actor: Actor) -> dict[str, Any]:
    rows = await dashboard.dashboard(db, actor)
    users = {
        user_id
        for row in rows
        for item in row.alerts
        for user_id in (item.alert.acknowledged_by_user_id, item.alert.resolved_by_user_id)
        if user_id
    }
    names = await dashboard.names_of_users(db, users)
    return {"actor": actor, "rows": rows, "names": names, "back": HOME, **HELPERS}


@router.get("/telesurveillance")
async def dashboard_page(request: Request, db: DbSession, actor: PageActor) -> Response:
    if actor.role == "patient":
        return RedirectResponse("/mes-mesures", status_code=303)
    require_professional(actor)
    await monthly.ensure_scheduled(db)  # the monthly close starts its chain from the operators' screen
    return page(request, "monitoring_dashboard.html", **await _list_context(request, db, actor))


@router.get("/telesurveillance/liste")
async def dashboard_list(request: Request, db: DbSession, actor: PageActor) -> HTMLResponse:
    """The list alone, for the live refresh."""
    require_professional(actor)
    return page(request, "monitoring_dashboard_list.html", **await _list_context(request, db, actor))


def _back(next_page: str) -> str:
    """Only our own pages: a form field must not become an open redirect."""
    return next_page if next_page.startswith(HOME) and "//" not in next_page else HOME


@router.post("/telesurveillance/alertes/{alert_id}/prise-en-compte")
async def acknowledge(
    request: Request,
    alert_id: str,
    db: DbSession,
    actor: PageActor,
    comment: Annotated[str, Form(max_length=4000)] = "",
    next_page: Annotated[str, Form(alias="next", max_length=300)] = HOME,
) -> Response:
    alert = await alert_service.alert_for(db, actor, alert_id, action="update")
    if not comment.strip():
        raise Invalid.field("comment", "un commentaire est demandé pour prendre l'alerte en compte")
    await alert_service.acknowledge(db, bus_of(request), actor, alert, comment.strip())
    return RedirectResponse(f"{_back(next_page)}#alerte-{alert.id}", status_code=303)


@router.post("/telesurveillance/alertes/{alert_id}/resolution")
async def resolve(
    request: Request,
    alert_id: str,
    db: DbSession,
    actor: PageActor,
    comment: Annotated[str, Form(max_length=4000)] = "",
    next_page: Annotated[str, Form(alias="next", max_length=300)] = HOME,
) -> Response:
    alert = await alert_service.alert_for(db, actor, alert_id, action="update")
    await alert_service.resolve(db, bus_of(request), actor, alert, comment.strip() or None)
    return RedirectResponse(_back(next_page), status_code=303)


@router.get("/monitoring/alerts/{alert_id}")
async def alert_link(alert_id: str, db: DbSession, actor: PageActor) -> Response:
    """The link of the operators' notifications: the alert on its patient's page."""
    alert = await alert_service.alert_for(db, actor, alert_id)
    return RedirectResponse(f"{HOME}/patients/{alert.patient_id}#alerte-{alert.id}", status_code=303)


@router.get("/telesurveillance/patients/{patient_id}/teleconsultation")
async def booking_page(
    request: Request, patient_id: str, db: DbSession, actor: PageActor, alerte: str = ""
) -> HTMLResponse:
    """The professional's free slots, the alert's context as the reason, one click to book."""
    require_professional(actor)
    patient = await access_patient(db, actor, patient_id, resource_type="Appointment")
    reason = ""
    if alerte:
        alert = await alert_service.alert_for(db, actor, alerte[:36])
        if alert.patient_id == patient.id:
            reason = teleconsult.alert_reason(alert, await alert_service.evidence_of(db, alert))
    found = await teleconsult.offer(db, actor)
    return page(
        request,
        "monitoring_book.html",
        actor=actor,
        patient=patient,
        reason=reason,
        offer=found,
        paris=PARIS,
    )


@router.post("/telesurveillance/patients/{patient_id}/teleconsultation")
async def book(
    request: Request,
    patient_id: str,
    db: DbSession,
    actor: PageActor,
    consultation_type_id: Annotated[str, Form(max_length=36)],
    starts_at: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    require_professional(actor)
    patient = await access_patient(db, actor, patient_id, action="create", resource_type="Appointment")
    try:
        moment = datetime.fromisoformat(starts_at)
        if moment.tzinfo is None:
            raise ValueError(starts_at)
        appointment = await teleconsult.book_for_patient(
            db, bus_of(request), actor, patient, consultation_type_id, moment, reason.strip() or None
        )
    except (AppError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, AppError) else "créneau invalide"
        return page(request, "error.html", 409, actor=actor, title="Réservation impossible", detail=detail)
    return RedirectResponse(f"/teleconsultations/{appointment.id}", status_code=303)
