"""The compte rendu: a structured editor with templates, then signed and locked.

Signing freezes what the health code asks the record to hold (CSP R6316-4; security.md §3):
the report, who took part, date and time, and the technical incidents of the call. It goes to
the patient's timeline and, when the médecin traitant is someone else, to their inbox.
"""

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.errors import Conflict, Forbidden, NotFound
from telesante.notifications.service import notify
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.teleconsultation.models import Appointment, Report
from telesante.timeline.service import add_entry

SECTIONS = ("motif", "anamnese", "examen", "conclusion", "conduite")
TEMPLATES = {
    "renouvellement": {
        "motif": "Renouvellement de traitement",
        "anamnese": "Traitement bien toléré.",
        "examen": "Examen par vidéo sans particularité.",
        "conclusion": "Pathologie stable.",
        "conduite": "Renouvellement pour 3 mois. Consultation en présentiel à la prochaine échéance.",
    },
    "infection_orl": {
        "motif": "Mal de gorge, fièvre",
        "anamnese": "",
        "examen": "Examen oropharyngé à la caméra.",
        "conclusion": "",
        "conduite": "Antalgiques, réévaluation à 48 h si persistance.",
    },
}


class ReportSections(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    motif: str = Field(default="", max_length=2000)
    anamnese: str = Field(default="", max_length=8000)
    examen: str = Field(default="", max_length=8000)
    conclusion: str = Field(default="", max_length=4000)
    conduite: str = Field(default="", max_length=4000)


def _author(actor: Actor, appointment: Appointment) -> str:
    if actor.professional_id != appointment.professional_id:
        raise Forbidden("seul le professionnel de la téléconsultation rédige le compte rendu")
    return actor.professional_id


async def report_of(db: AsyncSession, appointment: Appointment) -> Report | None:
    return await db.scalar(select(Report).where(Report.appointment_id == appointment.id))


async def save_draft(
    db: AsyncSession, actor: Actor, appointment: Appointment, sections: ReportSections
) -> Report:
    author = _author(actor, appointment)
    if appointment.status not in ("in_call", "done"):
        raise Conflict("le compte rendu se rédige pendant ou après l'appel")
    report = await report_of(db, appointment)
    if report is None:
        report = Report(
            appointment_id=appointment.id,
            patient_id=appointment.patient_id,
            author_id=author,
            sections="{}",
            status="draft",
            record={},
        )
        db.add(report)
    if report.status == "signed":
        raise Conflict("le compte rendu est signé : il ne peut plus être modifié")
    report.sections = json.dumps(sections.model_dump(), ensure_ascii=False)
    await db.flush()
    return report


async def sign(db: AsyncSession, bus: Bus | None, actor: Actor, appointment: Appointment) -> Report:
    _author(actor, appointment)
    report = await report_of(db, appointment)
    if report is None:
        raise NotFound("aucun brouillon de compte rendu")
    if report.status == "signed":
        raise Conflict("le compte rendu est déjà signé")
    sections = ReportSections.model_validate_json(report.sections)
    if not sections.conclusion:
        raise Conflict("la conclusion est obligatoire pour signer")
    report.status, report.signed_at = "signed", utcnow()
    report.record = await _frozen_record(db, appointment)
    report.content_sha256 = hashlib.sha256(
        (report.sections + json.dumps(report.record, sort_keys=True)).encode()
    ).hexdigest()
    add_entry(
        db,
        appointment.patient_id,
        kind="teleconsultation",
        title="Compte rendu de téléconsultation",
        summary=f"{sections.motif} — {sections.conclusion}",
        occurred_at=appointment.starts_at,
        source_type="Report",
        source_id=report.id,
        author_professional_id=report.author_id,
    )
    await _send_to_gp(db, bus, appointment, report)
    return report


async def _frozen_record(db: AsyncSession, appointment: Appointment) -> dict[str, object]:
    professional = await db.get(Professional, appointment.professional_id)
    patient = await db.get(Patient, appointment.patient_id)
    return {
        "participants": [
            {
                "role": "professional",
                "name": professional.display_name if professional else "",
                "rpps": professional.rpps if professional else None,
            },
            {"role": "patient", "name": patient.display_name if patient else ""},
        ],
        "starts_at": appointment.starts_at.isoformat(),
        "admitted_at": appointment.admitted_at.isoformat() if appointment.admitted_at else None,
        "ended_at": appointment.ended_at.isoformat() if appointment.ended_at else None,
        "incidents": list(appointment.incidents or []),
    }


async def _send_to_gp(db: AsyncSession, bus: Bus | None, appointment: Appointment, report: Report) -> None:
    patient = await db.get(Patient, appointment.patient_id)
    if patient is None or patient.gp_of_record_id in (None, appointment.professional_id):
        return
    gp_user = await db.scalar(select(User.id).where(User.professional_id == patient.gp_of_record_id))
    if gp_user:
        await notify(
            db,
            bus,
            gp_user,
            "Compte rendu de téléconsultation d'un de vos patients",
            "Un compte rendu signé a été versé au dossier.",
            link=f"/patients/{patient.id}",
        )
