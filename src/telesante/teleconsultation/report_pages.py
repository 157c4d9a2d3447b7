"""The compte rendu page: the professional writes the five sections, applies a template, saves
the draft and signs; once signed, the report is shown locked, to the patient as well.

Plain forms (no script): every button posts the sections, so nothing typed is lost, whichever
button was pressed; a refused signature keeps the draft and says why.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.deps import DbSession
from telesante.directory.models import Professional
from telesante.errors import AppError, Forbidden, Invalid
from telesante.patients.models import Patient
from telesante.teleconsultation import report, waiting
from telesante.teleconsultation.models import Appointment, Report
from telesante.teleconsultation.report_pdf import document_lines, incident_lines, paris
from telesante.teleconsultation.routes import bus_of
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
NOTICES = {
    "brouillon": "Brouillon enregistré.",
    "modele": "Modèle appliqué aux sections vides, brouillon enregistré.",
    "signer": "Compte rendu signé et verrouillé.",
}
TOO_LONG = "Un des textes dépasse la longueur permise : raccourcissez-le."
Text = Annotated[str, Form()]


def _url(appointment: Appointment) -> str:
    return f"/teleconsultations/{appointment.id}/compte-rendu"


def _audit(db: DbSession, actor: Actor, found: Report, action: str) -> None:
    record(
        db, actor, action=action, resource_type="Report", resource_id=found.id, patient_id=found.patient_id
    )


async def _render(
    request: Request,
    db: DbSession,
    actor: Actor,
    appointment: Appointment,
    found: Report | None,
    sections: report.ReportSections,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    professional = await db.get(Professional, appointment.professional_id)
    patient = await db.get(Patient, appointment.patient_id)
    names = (professional.display_name if professional else "", patient.display_name if patient else "")
    signed = found is not None and found.status == "signed"
    return page(
        request,
        "tlc_report.html",
        status_code,
        actor=actor,
        appointment=appointment,
        report=found,
        signed=signed,
        sections=sections.model_dump(),
        section_labels=report.SECTION_LABELS,
        templates=report.TEMPLATE_LABELS,
        who=" — ".join(names),
        can_write=actor.professional_id == appointment.professional_id
        and appointment.status in ("in_call", "done"),
        error=error,
        notice=notice,
        **(_locked(found) if signed and found else {}),
    )


def _locked(found: Report) -> dict[str, Any]:
    """What the signed report shows besides its sections: who, when, what went wrong."""
    frozen = found.record
    participants = [
        {
            "role": report.ROLE_LABELS.get(p.get("role", ""), p.get("role", "")),
            "name": p.get("name", ""),
            "rpps": p.get("rpps"),
        }
        for p in frozen.get("participants", [])
    ]
    times = [
        ("Rendez-vous", paris(frozen.get("starts_at"))),
        ("Début de l'appel", paris(frozen.get("admitted_at"))),
        ("Fin de l'appel", paris(frozen.get("ended_at"))),
    ]
    documents = [
        {"line": line, "id": d["id"], "patient_id": found.patient_id}
        for line, d in zip(document_lines(frozen), frozen.get("documents", []), strict=True)
    ]
    return {
        "participants": participants,
        "times": times,
        "incidents": incident_lines(frozen),
        "documents": documents,
    }


@router.get("/teleconsultations/{appointment_id}/compte-rendu")
async def report_page(
    request: Request, appointment_id: str, db: DbSession, actor: PageActor, fait: str = ""
) -> HTMLResponse:
    """The editor for the professional of the téléconsultation; the signed report for the patient
    and for those who care for them (the médecin traitant is sent its link)."""
    appointment = await report.report_appointment(db, actor, appointment_id)
    if actor.professional_id == appointment.professional_id:
        found = await report.report_of(db, appointment)
    else:
        found = await report.signed_report(db, actor, appointment)  # never the draft
    if found is not None:
        _audit(db, actor, found, "read")
    sections = report.sections_of(found) if found else report.ReportSections()
    return await _render(request, db, actor, appointment, found, sections, notice=NOTICES.get(fait))


@router.post("/teleconsultations/{appointment_id}/compte-rendu")
async def save_report_page(
    request: Request,
    appointment_id: str,
    db: DbSession,
    actor: PageActor,
    action: Text = "brouillon",
    template: Text = "",
    motif: Text = "",
    anamnese: Text = "",
    examen: Text = "",
    conclusion: Text = "",
    conduite: Text = "",
) -> Response:
    """Save the draft ("brouillon"), fill the empty sections from a template ("modele"), or
    save and sign ("signer"). CSRF-checked by deps for a cookie session."""
    appointment = await waiting.appointment_for(db, actor, appointment_id, action="update")
    if actor.professional_id != appointment.professional_id:
        raise Forbidden("seul le professionnel de la téléconsultation rédige le compte rendu")
    typed = {"motif": motif, "anamnese": anamnese, "examen": examen, "conclusion": conclusion}
    typed["conduite"] = conduite
    try:
        await _apply(request, db, actor, appointment, action, template, typed)
    except (AppError, ValidationError) as exc:
        status_code, error = (exc.status, exc.detail) if isinstance(exc, AppError) else (422, TOO_LONG)
        found = await report.report_of(db, appointment)
        shown = report.ReportSections.model_construct(None, **typed)  # as typed, to be corrected
        return await _render(
            request, db, actor, appointment, found, shown, status_code=status_code, error=error
        )
    return RedirectResponse(f"{_url(appointment)}?fait={action}", status_code=303)


async def _apply(
    request: Request,
    db: DbSession,
    actor: Actor,
    appointment: Appointment,
    action: str,
    template: str,
    typed: dict[str, str],
) -> None:
    if action not in NOTICES:
        raise Invalid.field("action", "action inconnue")
    sections = report.ReportSections.model_validate(typed)
    if action == "modele":
        sections = report.with_template(sections, template)
    saved = await report.save_draft(db, actor, appointment, sections)
    _audit(db, actor, saved, "update")
    if action == "signer":
        await report.sign(db, bus_of(request), actor, appointment)
        _audit(db, actor, saved, "update")


@router.get("/teleconsultations/{appointment_id}/compte-rendu/lien")
async def report_link(appointment_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    """The link to the signed report, or nothing: loaded by htmx on the appointment page."""
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    found = await report.report_of(db, appointment)
    if found is None or found.status != "signed":
        return HTMLResponse("")
    return HTMLResponse(
        f'<p id="report-link"><a href="{_url(appointment)}">Compte rendu de la téléconsultation</a></p>'
    )
