"""The téléassistance report: who assisted whom, for which act, the steps done, the captures,
date and times, technical incidents (CSP R6316-4: what the record must keep of any act)."""

import asyncio
import io
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.directory.models import Professional
from telesante.documents.models import Document
from telesante.kit.pdf import PageWriter
from telesante.patients.models import Patient
from telesante.teleassistance import service
from telesante.teleassistance.checklists import CHECKLISTS
from telesante.teleassistance.models import AssistanceSession
from telesante.teleconsultation.report_pdf import paris
from telesante.teleexpertise.report_pdf import patient_lines, who

TITLE = "Compte rendu de téléassistance médicale"
INCIDENTS = {
    "drop": "coupure de la connexion",
    "reconnected": "reconnexion",
    "relay": "passage par le relais TURN",
    "poor_quality": "qualité vidéo dégradée",
    "camera_lost": "caméra perdue",
}


async def render(db: AsyncSession, session: AssistanceSession) -> bytes:
    assisted = await db.get(Professional, session.assisted_id)
    doctor = await db.get(Professional, session.doctor_id) if session.doctor_id else None
    patient = await db.get(Patient, session.patient_id)
    steps = await service.steps_of(db, session)
    shots = await service.captures_of(db, session)
    documents = {s.document_id: await db.get(Document, s.document_id) for s in shots}
    lines = {
        "steps": [
            f"{s.position + 1}. {s.label} — {'fait à ' + paris(s.done_at) if s.done_at else 'non coché'}"
            for s in steps
        ],
        "captures": [
            f"{paris(s.created_at)} — {s.source}, {len(s.marks)} annotation(s), SHA-256 {d.sha256[:16]}…"
            for s in shots
            if (d := documents[s.document_id]) is not None
        ],
        "incidents": [
            f"{paris(datetime.fromisoformat(i['at']))} — {INCIDENTS.get(i['kind'], i['kind'])}"
            for i in session.incidents
        ],
    }
    return await asyncio.to_thread(_pdf, session, who(assisted), who(doctor), patient_lines(patient), lines)


def _pdf(
    session: AssistanceSession, assisted: str, doctor: str, patient: list[str], lines: dict[str, list[str]]
) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    canvas.setTitle(TITLE)
    page = PageWriter(canvas)
    page.line(TITLE, size=14, bold=True)
    page.gap()
    page.line("Patient", bold=True)
    for line in patient:
        page.text(line, indent=10)
    page.line("Professionnel assisté", bold=True)
    page.text(assisted, indent=10)
    page.line("Médecin qui a assisté", bold=True)
    page.text(doctor, indent=10)
    page.line("Acte", bold=True)
    page.text(session.act, indent=10)
    started = session.accepted_at or session.created_at
    page.line("Date et heures", bold=True)
    page.text(f"du {paris(started)} au {paris(session.ended_at) if session.ended_at else '—'}", indent=10)
    if session.checklist:
        page.line(f"Étapes : {CHECKLISTS[session.checklist][0]}", bold=True)
    for section, title in (
        ("steps", None),
        ("captures", "Images capturées"),
        ("incidents", "Incidents techniques"),
    ):
        if title:
            page.line(title, bold=True)
        for line in lines[section] or (["aucun"] if section == "incidents" else ["—"] if title else []):
            page.text(line, indent=10)
    canvas.save()
    return out.getvalue()
