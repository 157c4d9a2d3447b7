"""The signed compte rendu as a PDF: who, when, the five sections, the incidents, the seal.

Built in memory (reportlab) from what signing froze. `invariant` makes the same report
always give the same bytes, so the hash and size announced by the FHIR DocumentReference
stay true however often the PDF is served. Building it is CPU work: callers use a thread.
"""

import asyncio
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.documents.service import LABELS
from telesante.errors import Conflict
from telesante.kit.pdf import PageWriter
from telesante.patients.models import Patient
from telesante.teleconsultation.models import Report
from telesante.teleconsultation.report import (
    INCIDENT_LABELS,
    ROLE_LABELS,
    SECTION_LABELS,
    SECTIONS,
    sections_of,
)

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class PrintedReport:
    """Everything the PDF shows, read from the database before rendering in a thread."""

    professional: dict[str, Any]
    patient: dict[str, Any]
    companions: list[str]
    record: dict[str, Any]
    sections: list[tuple[str, str]]
    signed_at: datetime
    content_sha256: str


def printed(report: Report, patient: Patient | None) -> PrintedReport:
    if report.signed_at is None or report.content_sha256 is None:
        raise Conflict("le compte rendu n'est pas encore signé")
    participants: list[dict[str, Any]] = report.record.get("participants", [])
    professional: dict[str, Any] = next((p for p in participants if p.get("role") == "professional"), {})
    frozen_patient: dict[str, Any] = next((p for p in participants if p.get("role") == "patient"), {})
    if "birth_date" not in frozen_patient and patient is not None:  # signed before it was frozen
        frozen_patient = {**frozen_patient, "birth_date": patient.birth_date.isoformat()}
    sections = sections_of(report).model_dump()
    return PrintedReport(
        professional=professional,
        patient=frozen_patient,
        companions=[p["name"] for p in participants if p.get("role") == "companion"],
        record=report.record,
        sections=[(SECTION_LABELS[key], sections[key]) for key in SECTIONS],
        signed_at=report.signed_at,
        content_sha256=report.content_sha256,
    )


async def report_pdf(db: AsyncSession, report: Report) -> bytes:
    """The PDF of a signed report."""
    content = printed(report, await db.get(Patient, report.patient_id))
    return await asyncio.to_thread(render_report_pdf, content)


def paris(moment: datetime | str | None, pattern: str = "%d/%m/%Y à %H:%M") -> str:
    if moment is None:
        return "—"
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(PARIS).strftime(pattern)


def document_lines(record: dict[str, Any]) -> list[str]:
    """One line per document shared for the call: its type, size and the start of its hash."""
    return [
        f"{paris(d.get('shared_at'), '%d/%m/%Y %H:%M')} — {LABELS.get(str(d.get('media_type')), 'fichier')}, "
        f"{max(1, round(int(d.get('size', 0)) / 1024))} Ko, SHA-256 {str(d.get('sha256', ''))[:16]}…"
        for d in record.get("documents", [])
    ]


def incident_lines(record: dict[str, Any]) -> list[str]:
    """One French line per technical incident of the call, in Paris time."""
    lines = []
    for incident in record.get("incidents", []):
        kind = str(incident.get("kind", ""))
        text = f"{paris(incident.get('at'), '%d/%m/%Y %H:%M:%S')} — {INCIDENT_LABELS.get(kind, kind)}"
        if role := incident.get("role"):
            text += f" ({ROLE_LABELS.get(str(role), str(role)).lower()})"
        if detail := incident.get("detail"):
            text += f" : {detail}"
        lines.append(text)
    return lines


def render_report_pdf(content: PrintedReport) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle("Compte rendu de téléconsultation")
    canvas.setAuthor("Telesante")
    out = PageWriter(canvas)
    _header(out, content)
    for label, text in content.sections:
        out.line(label, size=11, bold=True)
        out.text(text or "—", indent=4 * mm)
        out.gap(6)
    out.line("Documents partagés", size=11, bold=True)
    for line in document_lines(content.record) or ["Aucun document partagé."]:
        out.line(line, indent=4 * mm)
    out.gap(6)
    out.line("Incidents techniques de l'appel", size=11, bold=True)
    for line in incident_lines(content.record) or ["Aucun incident technique enregistré."]:
        out.line(line, indent=4 * mm)
    out.gap(12)
    out.line(
        f"Signé et verrouillé le {paris(content.signed_at)} (heure de Paris) "
        f"par {content.professional.get('name', '')}",
        size=9,
        bold=True,
    )
    out.line(f"Empreinte du contenu (SHA-256) : {content.content_sha256}", size=8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _header(out: PageWriter, content: PrintedReport) -> None:
    professional, patient, record = content.professional, content.patient, content.record
    out.line(str(professional.get("name", "")), size=13, bold=True)
    out.line(f"RPPS : {professional.get('rpps') or '—'}")
    out.gap(10)
    out.line("COMPTE RENDU DE TÉLÉCONSULTATION", size=15, bold=True)
    out.line(f"Rendez-vous du {paris(record.get('starts_at'))} (heure de Paris)")
    out.line(
        f"Appel de {paris(record.get('admitted_at'), '%H:%M')} à {paris(record.get('ended_at'), '%H:%M')}"
    )
    out.gap(6)
    out.line(f"Patient : {patient.get('name', '')}", bold=True)
    details = []
    if birth := patient.get("birth_date"):
        details.append(f"Né(e) le {date.fromisoformat(birth).strftime('%d/%m/%Y')}")
    if ins := patient.get("ins"):
        details.append(f"INS ({ins['type']}) : {ins['matricule']}")
    if details:
        out.line(" — ".join(details))
    people = [f"{professional.get('name', '')} (professionnel)", f"{patient.get('name', '')} (patient)"]
    people += [f"{name} (accompagnant)" for name in content.companions]
    out.line(f"Participants : {', '.join(people)}")
    out.gap(10)
