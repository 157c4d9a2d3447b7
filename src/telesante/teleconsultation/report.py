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
from telesante.documents.models import Document
from telesante.errors import Conflict, Forbidden, Invalid, NotFound
from telesante.identifiers.systems import INS_TYPE_CODES
from telesante.notifications.service import notify
from telesante.patients.access import access_patient
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.teleconsultation.models import Appointment, JoinToken, Report
from telesante.teleconsultation.waiting import appointment_for
from telesante.timeline.service import add_entry

SECTIONS = ("motif", "anamnese", "examen", "conclusion", "conduite")
SECTION_LABELS = {
    "motif": "Motif",
    "anamnese": "Anamnèse",
    "examen": "Examen",
    "conclusion": "Conclusion",
    "conduite": "Conduite à tenir",
}
ROLE_LABELS = {"professional": "Professionnel", "patient": "Patient", "companion": "Accompagnant"}
# The kinds the call page reports (call/signaling.INCIDENT_KINDS).
INCIDENT_LABELS = {
    "reconnection": "Reconnexion",
    "ice_restart": "Renégociation de la connexion (ICE)",
    "relay_fallback": "Bascule sur le serveur relais (TURN)",
    "poor_network": "Réseau dégradé",
    "media_error": "Erreur caméra ou micro",
}
TEMPLATE_LABELS = {"renouvellement": "Renouvellement de traitement", "infection_orl": "Infection ORL"}
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


def sections_of(report: Report) -> ReportSections:
    return ReportSections.model_validate_json(report.sections)


def with_template(sections: ReportSections, name: str) -> ReportSections:
    """The sections with the empty ones filled from template `name`; what was written stays."""
    template = TEMPLATES.get(name)
    if template is None:
        reason = "modèle de compte rendu inconnu : choisissez-en un dans la liste"
        raise Invalid(reason, errors=[{"field": "template", "reason": reason}])
    filled = {key: text or template.get(key, "") for key, text in sections.model_dump().items()}
    return ReportSections.model_validate(filled)


def _author(actor: Actor, appointment: Appointment) -> str:
    if actor.professional_id != appointment.professional_id:
        raise Forbidden("seul le professionnel de la téléconsultation rédige le compte rendu")
    return actor.professional_id


async def report_of(db: AsyncSession, appointment: Appointment) -> Report | None:
    return await db.scalar(select(Report).where(Report.appointment_id == appointment.id))


async def signed_report(db: AsyncSession, actor: Actor, appointment: Appointment) -> Report:
    """The signed report. A draft is a conflict for its author and, for anyone else, does not exist."""
    found = await report_of(db, appointment)
    if found is None or (found.status != "signed" and actor.professional_id != found.author_id):
        raise NotFound("compte rendu introuvable")
    if found.status != "signed":
        raise Conflict("le compte rendu n'est pas encore signé")
    return found


async def report_appointment(db: AsyncSession, actor: Actor, appointment_id: str) -> Appointment:
    """The appointment whose report the actor may read: its professional and patient, or anyone
    the access gate lets see the patient (the médecin traitant receives the report)."""
    try:
        return await appointment_for(db, actor, appointment_id)
    except NotFound:
        appointment = await db.get(Appointment, appointment_id)
        if appointment is None:
            raise
        await access_patient(
            db, actor, appointment.patient_id, resource_type="Report", resource_id=appointment.id
        )
        return appointment


async def signed_report_by_id(db: AsyncSession, report_id: str) -> Report | None:
    found = await db.get(Report, report_id)
    return found if found is not None and found.status == "signed" else None


async def signed_reports_of(
    db: AsyncSession, patient_id: str, appointment_id: str | None = None, limit: int = 100
) -> list[Report]:
    query = select(Report).where(Report.patient_id == patient_id, Report.status == "signed")
    if appointment_id is not None:
        query = query.where(Report.appointment_id == appointment_id)
    return list(await db.scalars(query.order_by(Report.signed_at, Report.id).limit(limit)))


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
    sections = sections_of(report)
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
    companions = await db.scalars(
        select(JoinToken.display_name)
        .where(
            JoinToken.appointment_id == appointment.id,
            JoinToken.role == "companion",
            JoinToken.used_at.is_not(None),
        )
        .order_by(JoinToken.used_at)
    )
    return {
        "participants": [
            {
                "role": "professional",
                "name": professional.display_name if professional else "",
                "rpps": professional.rpps if professional else None,
            },
            _patient_identity(patient),
            *({"role": "companion", "name": name} for name in companions),
        ],
        "starts_at": appointment.starts_at.isoformat(),
        "admitted_at": appointment.admitted_at.isoformat() if appointment.admitted_at else None,
        "ended_at": appointment.ended_at.isoformat() if appointment.ended_at else None,
        "incidents": list(appointment.incidents or []),
        "documents": await _shared_documents(db, appointment),
    }


async def _shared_documents(db: AsyncSession, appointment: Appointment) -> list[dict[str, object]]:
    """Files shared before or during the call, sealed by their hash. No file name here: the
    record is plain JSON, and a name can say what the patient has (names stay encrypted)."""
    rows = await db.execute(
        select(Document.id, Document.content_type, Document.size, Document.sha256, Document.created_at)
        .where(Document.appointment_id == appointment.id)
        .order_by(Document.created_at)
    )
    return [
        {"id": id_, "media_type": kind, "size": size, "sha256": digest, "shared_at": at.isoformat()}
        for id_, kind, size, digest, at in rows
    ]


def _patient_identity(patient: Patient | None) -> dict[str, object]:
    """The patient as identified on the signed report; the INS only for a qualified identity."""
    if patient is None:
        return {"role": "patient", "name": ""}
    identity: dict[str, object] = {
        "role": "patient",
        "name": patient.display_name,
        "birth_date": patient.birth_date.isoformat(),
    }
    if patient.identity_status == "QUAL" and patient.ins_matricule and patient.ins_oid:
        identity["ins"] = {
            "matricule": patient.ins_matricule,
            "type": INS_TYPE_CODES.get(patient.ins_oid, ""),
        }
    return identity


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
            link=f"/teleconsultations/{appointment.id}/compte-rendu",
        )
