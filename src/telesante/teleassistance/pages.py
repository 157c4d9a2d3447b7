"""French pages of téléassistance: the start form (where a doctor also sees the calls ringing for
them, live), and the session's page for its two participants (ta_session.js runs the call).

The start form posts here and calls the same service as the API; a refusal shows the form again
with the reason, and a savepoint drops what the refused attempt wrote.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from telesante.auth.actor import Actor
from telesante.consent import service as consent
from telesante.deps import DbSession
from telesante.directory.models import Organisation, Professional, professional_organisations
from telesante.directory.professions import MEDICAL_PROFESSIONS
from telesante.errors import AppError, Forbidden, Invalid
from telesante.patients import service as patients
from telesante.patients.access import access_patient
from telesante.patients.models import Patient
from telesante.teleassistance import service
from telesante.teleassistance.checklists import CHECKLISTS
from telesante.teleassistance.lifecycle import LABELS, Status
from telesante.teleassistance.models import AssistanceSession
from telesante.teleassistance.routes import bus_of
from telesante.teleassistance.schemas import ONE_CALLEE, StartIn
from telesante.teleassistance.video_routes import socket_path
from telesante.teleconsultation.waiting import appointment_for
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
CONSENT_TEXT = (
    "J'ai informé le patient qu'un médecin me guidera à distance par vidéo pendant l'acte, que des "
    "images annotées et un compte rendu seront versés à son dossier, hébergé chez un hébergeur "
    "certifié HDS ; il a donné son accord."
)
FormText = Annotated[str, Form(max_length=400)]


@router.get("/teleassistance")
async def start_page(
    request: Request, db: DbSession, actor: PageActor, appointment: str = ""
) -> HTMLResponse:
    form = {"appointment_id": appointment[:36], "callee": "doctor"}
    error = None
    if form["appointment_id"]:
        try:  # from a téléconsultation in progress: its patient is the one assisted
            form["patient_id"] = (await appointment_for(db, actor, form["appointment_id"])).patient_id
        except AppError as exc:
            form["appointment_id"], error = "", exc.detail
    return await _start_page(request, db, actor, form, error)


@router.post("/teleassistance")
async def start(
    request: Request,
    db: DbSession,
    actor: PageActor,
    patient_id: FormText = "",
    act: FormText = "",
    callee: FormText = "",
    doctor: FormText = "",
    team: FormText = "",
    appointment_id: FormText = "",
    agreed: FormText = "",
) -> Response:
    form = {
        "patient_id": patient_id,
        "act": act,
        "callee": callee,
        "doctor": doctor,
        "team": team,
        "appointment_id": appointment_id,
    }
    try:
        async with db.begin_nested():
            data = await _start_in(db, actor, form)
            if agreed == "oui":
                await _record_consent(db, actor, data.patient_id)
            session = await service.start(db, bus_of(request), actor, data)
    except AppError as exc:
        return await _start_page(request, db, actor, form, exc.detail, exc.status)
    return RedirectResponse(f"/teleassistance/{session.id}", status_code=303)


@router.get("/teleassistance/appels")
async def calls_list(request: Request, db: DbSession, actor: PageActor) -> HTMLResponse:
    """The start page's list of calls ringing for this doctor, refetched live."""
    return page(request, "ta_calls.html", actor=actor, calls=await _calls(db, actor))


@router.get("/teleassistance/{session_id}")
async def session_page(request: Request, session_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    session = await service.session_for(db, actor, session_id[:36])
    role = service.role_in(actor, session)
    doctor = await db.get(Professional, session.doctor_id) if session.doctor_id else None
    return page(
        request,
        "ta_session.html",
        actor=actor,
        s=session,
        role=role,
        status_label=LABELS[Status(session.status)],
        assisted=await db.get(Professional, session.assisted_id),
        doctor=doctor,
        # behind the session's gate; a doctor still being rung learns who calls and why, not for whom
        patient=None if role == "rung" else await db.get(Patient, session.patient_id),
        checklists=CHECKLISTS,
        socket=socket_path(session.id),
    )


@router.post("/teleassistance/{session_id}/accepter")
async def accept(request: Request, session_id: str, db: DbSession, actor: PageActor) -> Response:
    session = await service.session_for(db, actor, session_id[:36], action="update")
    await service.accept(db, bus_of(request), actor, session)
    return RedirectResponse(f"/teleassistance/{session.id}", status_code=303)


@router.post("/teleassistance/{session_id}/annuler")
async def cancel(request: Request, session_id: str, db: DbSession, actor: PageActor) -> Response:
    session = await service.session_for(db, actor, session_id[:36], action="update")
    await service.cancel(db, bus_of(request), actor, session)
    return RedirectResponse(f"/teleassistance/{session.id}", status_code=303)


async def _start_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if actor.role != "professional":
        raise Forbidden("réservé aux professionnels de santé")
    return page(
        request,
        "ta_start.html",
        status_code,
        actor=actor,
        form=form,
        error=error,
        patients=await patients.search_patients(db, actor, limit=200),
        teams=await _teams(db),
        calls=await _calls(db, actor),
        consent_text=CONSENT_TEXT,
    )


async def _calls(db: DbSession, actor: Actor) -> list[tuple[AssistanceSession, Professional | None]]:
    return [(s, await db.get(Professional, s.assisted_id)) for s in await service.calls_for(db, actor)]


async def _start_in(db: DbSession, actor: Actor, form: dict[str, str]) -> StartIn:
    """The API's body from the form, each missing piece named in French."""
    if not form["patient_id"]:
        raise Invalid.field("patient_id", "choisissez le patient")
    act = form["act"].strip()
    if not 3 <= len(act) <= 300:
        raise Invalid.field("act", "décrivez l'acte en 3 à 300 caractères")
    body: dict[str, Any] = {
        "patient_id": form["patient_id"][:36],
        "act": act,
        "appointment_id": form["appointment_id"][:36] or None,
    }
    if form["callee"] == "doctor":
        body["doctor_id"] = await _doctor_id(db, actor, form["doctor"].strip())
    elif form["callee"] == "team":
        organisation_id, _, specialty = form["team"].partition("|")
        if not organisation_id or not specialty:
            raise Invalid.field("team", "choisissez une équipe")
        body |= {"team_organisation_id": organisation_id[:36], "team_specialty": specialty}
    else:
        raise Invalid.field("callee", "choisissez d'appeler un médecin nommé ou une équipe")
    try:
        return StartIn.model_validate(body)
    except ValidationError:
        raise Invalid(ONE_CALLEE) from None


async def _doctor_id(db: DbSession, actor: Actor, wanted: str) -> str:
    """A named doctor, by RPPS or by name: one match, or the reason in French."""
    if not wanted:
        raise Invalid.field("doctor", "indiquez le RPPS ou le nom du médecin")
    query = select(Professional.id).where(
        Professional.profession.in_(MEDICAL_PROFESSIONS), Professional.id != actor.professional_id
    )
    if wanted.isdigit():
        query = query.where(Professional.rpps == wanted)
    else:
        name = func.lower(Professional.given_name + " " + Professional.family_name)
        query = query.where(name.contains(wanted.lower(), autoescape=True))
    found = list(await db.scalars(query.limit(2)))
    if not found:
        raise Invalid.field("doctor", f"aucun médecin inscrit ne correspond à « {wanted} »")
    if len(found) > 1:
        raise Invalid.field("doctor", f"plusieurs médecins correspondent à « {wanted} » : indiquez son RPPS")
    return found[0]


async def _record_consent(db: DbSession, actor: Actor, patient_id: str) -> None:
    """The patient's agreement given in person, recorded unless already there."""
    patient = await access_patient(db, actor, patient_id, action="create", resource_type="Consent")
    if await consent.current_consent(db, patient.id, "teleassistance") is None:
        data = consent.ConsentCreate(act="teleassistance", method="in_person", information=CONSENT_TEXT)
        await consent.record_consent(db, actor, patient, data)


async def _teams(db: DbSession) -> list[tuple[str, str, str]]:
    """(organisation id, its name, specialty) wherever doctors of a specialty work together."""
    rows = await db.execute(
        select(Organisation.id, Organisation.name, Professional.specialty)
        .join(professional_organisations, professional_organisations.c.organisation_id == Organisation.id)
        .join(Professional, Professional.id == professional_organisations.c.professional_id)
        .where(Professional.profession.in_(MEDICAL_PROFESSIONS), Professional.specialty.is_not(None))
        .distinct()
        .order_by(Organisation.name, Professional.specialty)
    )
    return [(org_id, name, specialty or "") for org_id, name, specialty in rows]
