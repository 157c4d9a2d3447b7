"""A professional's home, patient search, the patient record, administration."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from telesante.audit.access_log import access_log
from telesante.auth import service as auth
from telesante.consent.service import consents_of
from telesante.deps import DbSession
from telesante.directory import service as directory
from telesante.directory.schemas import OrganisationCreate
from telesante.errors import AppError, Forbidden
from telesante.notifications.service import inbox
from telesante.patients import service as patients
from telesante.patients.access import access_patient, emergency_grant
from telesante.patients.break_glass import open_break_glass
from telesante.timeline.service import entries_for
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, db: DbSession, actor: PageActor) -> Response:
    if actor.role == "admin":
        return RedirectResponse("/admin", status_code=303)
    if actor.role == "patient" and actor.patient_id:
        return RedirectResponse(f"/patients/{actor.patient_id}", status_code=303)
    my_patients = await patients.search_patients(db, actor, limit=10)
    return page(
        request,
        "home.html",
        actor=actor,
        patients=my_patients,
        notifications=await inbox(db, actor.user.id, limit=10),
    )


@router.get("/patients")
async def patient_search(
    request: Request,
    db: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=120)] = "",
    birth_date: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    """Search by name, birth date or INS. Answers a fragment to htmx, a page otherwise."""
    q = q.strip()
    ins = q.replace(" ", "") if q.replace(" ", "").isdigit() else None
    born = _parse_date(birth_date)
    results = []
    if q or born:
        results = await patients.search_patients(
            db, actor, name=None if ins else q or None, ins=ins, birth_date=born, limit=50
        )
    template = "_patient_results.html" if request.headers.get("hx-request") else "patients.html"
    return page(
        request, template, actor=actor, q=q, birth_date=birth_date, results=results, searched=bool(q or born)
    )


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/patients/{patient_id}")
async def patient_record(request: Request, patient_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    patient = await access_patient(db, actor, patient_id, resource_type="PatientRecord")
    grant = await emergency_grant(db, actor, patient.id)
    return page(
        request,
        "patient.html",
        actor=actor,
        patient=patient,
        grant=grant,
        timeline=await entries_for(db, patient),
        relations=await patients.care_relations(db, patient),
        consents=await consents_of(db, patient),
        access=await access_log(db, patient) if actor.role == "patient" else [],
    )


@router.get("/admin")
async def admin(request: Request, db: DbSession, actor: PageActor, message: str = "") -> HTMLResponse:
    if actor.role != "admin":
        raise Forbidden("réservé aux administrateurs")
    return page(
        request,
        "admin.html",
        actor=actor,
        message=message,
        error=None,
        organisations=await directory.list_organisations(db),
        professionals=await directory.search_professionals(db, limit=200),
        accounts=await auth.list_users(db),
    )


@router.post("/admin/organisations")
async def admin_create_organisation(
    request: Request,
    db: DbSession,
    actor: PageActor,
    name: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(max_length=40)],
    finess: Annotated[str, Form(max_length=20)] = "",
    city: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    if actor.role != "admin":
        raise Forbidden("réservé aux administrateurs")
    try:
        data = OrganisationCreate(name=name, kind=kind, finess=finess or None, city=city or None)
        await directory.create_organisation(db, data)
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))} : {e['msg']}" for e in exc.errors())
        return await _admin_error(request, db, actor, errors)
    except AppError as exc:
        return await _admin_error(request, db, actor, exc.detail)
    return RedirectResponse("/admin?message=Organisation+cr%C3%A9%C3%A9e", status_code=303)


@router.post("/admin/accounts")
async def admin_create_account(
    request: Request,
    db: DbSession,
    actor: PageActor,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=20)],
    professional_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    if actor.role != "admin":
        raise Forbidden("réservé aux administrateurs")
    try:
        await auth.create_user(
            db, email=email, password=password, role=role, professional_id=professional_id or None
        )
    except AppError as exc:
        return await _admin_error(request, db, actor, exc.detail)
    return RedirectResponse("/admin?message=Compte+cr%C3%A9%C3%A9", status_code=303)


async def _admin_error(request: Request, db: DbSession, actor: PageActor, error: str) -> HTMLResponse:
    return page(
        request,
        "admin.html",
        422,
        actor=actor,
        message="",
        error=error,
        organisations=await directory.list_organisations(db),
        professionals=await directory.search_professionals(db, limit=200),
        accounts=await auth.list_users(db),
    )


@router.get("/urgence")
async def break_glass_form(request: Request, actor: PageActor) -> HTMLResponse:
    return page(request, "break_glass.html", actor=actor, error=None)


@router.post("/urgence")
async def break_glass_open(
    request: Request,
    db: DbSession,
    actor: PageActor,
    ins: Annotated[str, Form(max_length=20)],
    birth_date: Annotated[str, Form(max_length=10)],
    reason: Annotated[str, Form(max_length=1000)],
) -> Response:
    born = _parse_date(birth_date)
    if born is None or len(reason.strip()) < 15:
        error = "Indiquez le matricule INS, la date de naissance et un motif précis (15 caractères au moins)."
        return page(request, "break_glass.html", 422, actor=actor, error=error)
    try:
        grant = await open_break_glass(db, request.app.state.runtime.bus, actor, ins, born, reason.strip())
    except AppError as exc:
        return page(request, "break_glass.html", exc.status, actor=actor, error=exc.detail)
    return RedirectResponse(f"/patients/{grant.patient_id}", status_code=303)
