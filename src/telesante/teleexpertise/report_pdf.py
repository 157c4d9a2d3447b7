"""The expert's answer as a PDF report: who asked whom about which patient, the question, what was
attached, the thread, the structured answer and the seal.

Built in memory (reportlab) with `invariant`, from what existed when the answer was signed (later
messages or attachments do not change it), so the size and hash announced by the FHIR
DocumentReference stay true however often it is served. Attachments appear by type, size and
hash only: file names can say what the patient has. Rendering is CPU work: it runs in a thread.
"""

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.directory.models import Professional
from telesante.documents.service import LABELS
from telesante.errors import NotFound
from telesante.identifiers.systems import INS_TYPE_CODES
from telesante.kit.pdf import PageWriter
from telesante.patients.models import Patient
from telesante.teleconsultation.report_pdf import PARIS, paris
from telesante.teleexpertise import attachments, thread
from telesante.teleexpertise.answers import SEE_LABELS
from telesante.teleexpertise.models import ExpertAnswer, ExpertRequest

TITLE = "Compte rendu de téléexpertise"
URGENCY_LABELS = {"normal": "non urgente (48 h)", "urgent": "urgente"}


@dataclass(frozen=True)
class PrintedAnswer:
    """Everything the PDF shows, read from the database before rendering in a thread."""

    requester: str
    expert: str
    patient: list[str]
    request: ExpertRequest
    attachments: list[str]
    thread: list[str]
    answer: ExpertAnswer


def who(professional: Professional | None) -> str:
    if professional is None:
        return "—"
    specialty = f", {professional.specialty}" if professional.specialty else ""
    return f"{professional.display_name}{specialty} — RPPS {professional.rpps}"


def patient_lines(patient: Patient | None) -> list[str]:
    """The patient as identified on the report; the INS only for a qualified identity."""
    if patient is None:
        return ["—"]
    lines = [f"{patient.display_name}, né(e) le {patient.birth_date:%d/%m/%Y}"]
    if patient.identity_status == "QUAL" and patient.ins_matricule and patient.ins_oid:
        lines.append(f"INS ({INS_TYPE_CODES.get(patient.ins_oid, '')}) : {patient.ins_matricule}")
    return lines


async def _attachment_lines(db: AsyncSession, request: ExpertRequest, until: datetime) -> list[str]:
    documents = await attachments.attached_documents(db, request)
    measurements = await attachments.attached_measurements(db, request)
    return [
        f"{LABELS.get(d.content_type, 'fichier')}, {_kilobytes(d.size)} Ko, SHA-256 {d.sha256[:16]}…"
        for d in documents
        if d.created_at <= until
    ] + [f"Mesure {m.kind} : {m.value} ({paris(m.effective_at)})" for m in measurements]


def _kilobytes(size: int) -> int:
    return max(1, round(size / 1024))


async def _thread_lines(db: AsyncSession, request: ExpertRequest, until: datetime) -> list[str]:
    messages = [m for m in await thread.messages_of(db, request) if m.created_at <= until]
    authors = {
        m.author_professional_id: await db.get(Professional, m.author_professional_id) for m in messages
    }
    return [
        f"{paris(m.created_at)} — {_name(authors[m.author_professional_id])} : {m.body}" for m in messages
    ]


def _name(professional: Professional | None) -> str:
    return professional.display_name if professional else "—"


async def printed(db: AsyncSession, request: ExpertRequest, answer: ExpertAnswer) -> PrintedAnswer:
    return PrintedAnswer(
        requester=who(await db.get(Professional, request.requester_id)),
        expert=who(await db.get(Professional, answer.professional_id)),
        patient=patient_lines(await db.get(Patient, request.patient_id)),
        request=request,
        attachments=await _attachment_lines(db, request, answer.signed_at),
        thread=await _thread_lines(db, request, answer.signed_at),
        answer=answer,
    )


async def answer_pdf(db: AsyncSession, request: ExpertRequest, answer: ExpertAnswer) -> bytes:
    """The PDF of a signed answer."""
    content = await printed(db, request, answer)
    return await asyncio.to_thread(render_answer_pdf, content)


def render_answer_pdf(content: PrintedAnswer) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(TITLE)
    canvas.setAuthor("Telesante")
    out = PageWriter(canvas)
    _header(out, content)
    _section(out, "Question posée", content.request.question.splitlines())
    _section(out, "Pièces jointes", content.attachments or ["Aucune pièce jointe."])
    _section(out, "Échanges sur la demande", content.thread or ["Aucun échange avant l'avis."])
    answer = content.answer
    _section(out, "Avis de l'expert", answer.opinion.splitlines())
    _section(out, "Conduite à tenir proposée", answer.management.splitlines())
    _section(out, "Voir le patient", [SEE_LABELS[answer.see_patient].capitalize() + "."])
    out.gap(6)
    out.line(
        f"Avis signé le {paris(answer.signed_at)} (heure de Paris) par {content.expert}", size=9, bold=True
    )
    out.line(f"Empreinte du contenu signé (SHA-256) : {answer.content_sha256}", size=8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _header(out: PageWriter, content: PrintedAnswer) -> None:
    request = content.request
    out.line(TITLE.upper(), size=15, bold=True)
    out.line(
        f"Demande du {paris(request.created_at)}, {URGENCY_LABELS.get(request.urgency, request.urgency)}, "
        f"réponse attendue le {paris(request.due_at)} (heure de Paris)"
    )
    out.gap(6)
    out.line(f"Requérant : {content.requester}")
    out.line(f"Requis : {content.expert}")
    out.gap(4)
    out.line(f"Patient : {content.patient[0]}", bold=True)
    for line in content.patient[1:]:
        out.line(line)
    out.gap(10)


def _section(out: PageWriter, label: str, lines: list[str]) -> None:
    out.line(label, size=11, bold=True)
    for line in lines or ["—"]:
        out.line(line, indent=4 * mm)
    out.gap(6)


async def answer_of(db: AsyncSession, request: ExpertRequest, answer_id: str) -> ExpertAnswer:
    """One answer of this request; 404 for any other."""
    found = await db.get(ExpertAnswer, answer_id)
    if found is None or found.request_id != request.id:
        raise NotFound("avis de téléexpertise introuvable")
    return found


def file_name(answer: ExpertAnswer) -> str:
    return f"teleexpertise-{answer.signed_at.astimezone(PARIS):%Y-%m-%d}.pdf"
