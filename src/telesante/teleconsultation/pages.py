"""French pages: find a professional and book, consent and wait, admit from the waiting room."""

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from telesante.audit.service import record
from telesante.billing.activity import cap_warning
from telesante.consent import service as consent
from telesante.deps import DbSession
from telesante.directory.models import Professional
from telesante.errors import AppError
from telesante.patients.models import Patient
from telesante.teleconsultation import booking, waiting
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.agenda import PARIS
from telesante.teleconsultation.call.file_routes import OPEN_FOR_FILES
from telesante.teleconsultation.call.files import files_of
from telesante.teleconsultation.models import Appointment, ConsultationType
from telesante.teleconsultation.routes import bus_of, find_professionals
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
CONSENT_TEXT = (
    "J'ai été informé(e) du déroulement de la téléconsultation : échange par vidéo avec le professionnel, "
    "compte rendu versé à mon dossier, données hébergées chez un hébergeur certifié HDS. Je peux à tout "
    "moment demander une consultation en présentiel."
)


@router.get("/teleconsultations")
async def my_teleconsultations(request: Request, db: DbSession, actor: PageActor) -> HTMLResponse:
    column = Appointment.patient_id if actor.patient_id else Appointment.professional_id
    mine = actor.patient_id or actor.professional_id
    rows = list(
        await db.scalars(
            select(Appointment)
            .where(column == mine, Appointment.status != "cancelled")
            .order_by(Appointment.starts_at)
        )
    )
    names = await _names(db, rows)
    room = await waiting.waiting_room(db, actor) if actor.professional_id else []
    cap = await cap_warning(db, actor.professional_id) if actor.professional_id else None
    return page(request, "tlc_list.html", actor=actor, appointments=rows, names=names, room=room, cap=cap)


async def _names(db: DbSession, rows: list[Appointment]) -> dict[str, str]:
    names: dict[str, str] = {}
    for row in rows:
        professional = await db.get(Professional, row.professional_id)
        patient = await db.get(Patient, row.patient_id)
        names[row.id] = (
            f"{professional.display_name if professional else ''} — {patient.display_name if patient else ''}"
        )
    return names


@router.get("/teleconsultations/reserver")
async def booking_page(
    request: Request, db: DbSession, actor: PageActor, q: str = "", professional_id: str = ""
) -> HTMLResponse:
    choices = await find_professionals(db, actor, q[:120])
    chosen = None
    slots_by_day: dict[date, list[datetime]] = {}
    if professional_id:
        chosen = next((c for c in choices if c.id == professional_id), None)
        kinds = await agenda.types_of(db, professional_id)
        if chosen and kinds:
            today = datetime.now(PARIS).date()
            for slot in await agenda.slots(db, professional_id, kinds[0], today, today + timedelta(days=6)):
                slots_by_day.setdefault(slot.astimezone(PARIS).date(), []).append(slot)
            chosen_type = kinds[0].id
        else:
            chosen_type = ""
    return page(
        request,
        "tlc_book.html",
        actor=actor,
        q=q,
        choices=choices,
        chosen=chosen,
        slots_by_day=slots_by_day,
        type_id=chosen_type if professional_id else "",
        paris=PARIS,
    )


@router.post("/teleconsultations/reserver")
async def book(
    request: Request,
    db: DbSession,
    actor: PageActor,
    professional_id: Annotated[str, Form(max_length=36)],
    consultation_type_id: Annotated[str, Form(max_length=36)],
    starts_at: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    referred_by_gp: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    try:
        moment = datetime.fromisoformat(starts_at)
        appointment = await booking.book(
            db,
            bus_of(request),
            actor,
            professional_id,
            consultation_type_id,
            moment,
            reason or None,
            referred_by_gp == "oui",
        )
    except (AppError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, AppError) else "créneau invalide"
        return page(request, "error.html", 409, actor=actor, title="Réservation impossible", detail=detail)
    return RedirectResponse(f"/teleconsultations/{appointment.id}", status_code=303)


@router.get("/teleconsultations/{appointment_id}")
async def appointment_page(
    request: Request, appointment_id: str, db: DbSession, actor: PageActor
) -> HTMLResponse:
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    consented = await consent.current_consent(db, appointment.patient_id, "teleconsultation") is not None
    names = await _names(db, [appointment])
    shared = await files_of(db, appointment)
    if shared:
        record(
            db,
            actor,
            action="search",
            resource_type="Document",
            resource_id=appointment.id,
            patient_id=appointment.patient_id,
        )
    return page(
        request,
        "tlc_appointment.html",
        actor=actor,
        appointment=appointment,
        consented=consented,
        consent_text=CONSENT_TEXT,
        who=names[appointment.id],
        opens=appointment.starts_at - waiting.EARLY,
        shared=shared,
        open_for_files=appointment.status in OPEN_FOR_FILES,
    )


@router.get("/teleconsultations/{appointment_id}/deplacer")
async def move_page(request: Request, appointment_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    """The same professional's free slots of the coming week, to move the appointment to one."""
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    kind = await db.get(ConsultationType, appointment.consultation_type_id)
    assert kind is not None  # the appointment's foreign key
    today = datetime.now(PARIS).date()
    slots_by_day: dict[date, list[datetime]] = {}
    for slot in await agenda.slots(db, appointment.professional_id, kind, today, today + timedelta(days=6)):
        slots_by_day.setdefault(slot.astimezone(PARIS).date(), []).append(slot)
    names = await _names(db, [appointment])
    return page(
        request,
        "tlc_move.html",
        actor=actor,
        appointment=appointment,
        who=names[appointment.id],
        slots_by_day=slots_by_day,
        paris=PARIS,
    )


@router.post("/teleconsultations/{appointment_id}/deplacer")
async def move(
    request: Request,
    appointment_id: str,
    db: DbSession,
    actor: PageActor,
    starts_at: Annotated[str, Form(max_length=40)],
) -> Response:
    appointment = await waiting.appointment_for(db, actor, appointment_id, action="update")
    try:
        await booking.reschedule(db, bus_of(request), actor, appointment, datetime.fromisoformat(starts_at))
    except (AppError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, AppError) else "créneau invalide"
        return page(request, "error.html", 409, actor=actor, title="Déplacement impossible", detail=detail)
    return RedirectResponse(f"/teleconsultations/{appointment_id}", status_code=303)


@router.post("/teleconsultations/{appointment_id}/annuler")
async def cancel(request: Request, appointment_id: str, db: DbSession, actor: PageActor) -> Response:
    appointment = await waiting.appointment_for(db, actor, appointment_id, action="update")
    try:
        await booking.cancel(db, bus_of(request), actor, appointment)
    except AppError as exc:
        return page(
            request, "error.html", exc.status, actor=actor, title="Annulation impossible", detail=exc.detail
        )
    return RedirectResponse(f"/teleconsultations/{appointment_id}", status_code=303)


@router.post("/teleconsultations/{appointment_id}/salle-attente")
async def enter(
    request: Request,
    appointment_id: str,
    db: DbSession,
    actor: PageActor,
    consent_given: Annotated[str, Form()] = "",
) -> Response:
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    patient = await db.get(Patient, appointment.patient_id)
    try:
        if consent_given == "oui" and patient is not None:
            await consent.record_consent(
                db,
                actor,
                patient,
                consent.ConsentCreate(act="teleconsultation", method="in_app", information=CONSENT_TEXT),
            )
        await waiting.enter(db, bus_of(request), actor, appointment)
    except AppError as exc:
        return page(
            request, "error.html", exc.status, actor=actor, title="Salle d'attente", detail=exc.detail
        )
    return RedirectResponse(f"/teleconsultations/{appointment_id}", status_code=303)


@router.post("/teleconsultations/{appointment_id}/admettre")
async def admit(request: Request, appointment_id: str, db: DbSession, actor: PageActor) -> Response:
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    try:
        await waiting.admit(db, bus_of(request), actor, appointment)
    except AppError as exc:
        return page(
            request, "error.html", exc.status, actor=actor, title="Salle d'attente", detail=exc.detail
        )
    return RedirectResponse(f"/teleconsultations/{appointment_id}/appel", status_code=303)


@router.get("/appareils")
async def device_check(request: Request, actor: PageActor) -> HTMLResponse:
    """Camera, microphone and network check, open at any time before the call."""
    return page(request, "tlc_devices.html", actor=actor)
