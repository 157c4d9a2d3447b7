"""A readable French summary of the patient's data (GDPR art. 15), as a PDF.

It is built from the same `PatientData` as the FHIR export; documents are listed, not
embedded (their content is in the FHIR export). reportlab's standard Helvetica covers
French (WinAnsi). Building a PDF is CPU work: the route runs it in a thread (ADR 0001).
"""

import io
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from telesante.gdpr.collect import PatientData
from telesante.gdpr.labels import (
    ACT_LABELS,
    AUDIT_ACTION_LABELS,
    CARE_REASON_LABELS,
    DECISION_LABELS,
    METHOD_LABELS,
    OUTCOME_LABELS,
    SEX_LABELS,
)
from telesante.patients.schemas import IDENTITY_STATUS_LABELS

PARIS = ZoneInfo("Europe/Paris")
STYLES = getSampleStyleSheet()
BODY = STYLES["BodyText"]
SMALL = STYLES["BodyText"].clone("small", fontSize=8, leading=10)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if moment else "—"


def _p(text: str | None, style: object = SMALL) -> Paragraph:
    return Paragraph(escape(text or "—"), style)


def _table(header: list[str], rows: list[list[str | None]], widths: list[float]) -> Flowable:
    if not rows:
        return _p("Aucun élément.", BODY)
    data = [[_p(h) for h in header]] + [[_p(cell) for cell in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _section(title: str, body: Flowable) -> list[Flowable]:
    return [Paragraph(escape(title), STYLES["Heading2"]), body, Spacer(1, 4 * mm)]


def render_pdf(data: PatientData) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Mes données de santé — Telesante",
        lang="fr-FR",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    )
    story: list[Flowable] = [
        Paragraph("Mes données — Telesante", STYLES["Title"]),
        _p(f"Document établi le {_when(data.generated_at)} (heure de Paris).", BODY),
        Spacer(1, 4 * mm),
    ]
    story += _section("Identité", identity(data))
    story += _section("Équipe de soins", care_team(data))
    story += _section("Historique", timeline(data))
    story += _section("Consentements", consents(data))
    story += _section("Documents", documents(data))
    story += _section("Accès à votre dossier", accesses(data))
    story.append(
        _p(
            "Le contenu complet (textes des comptes rendus, documents) figure dans l'export au format "
            "FHIR (fichier JSON), lisible par d'autres logiciels de santé.",
            BODY,
        )
    )
    doc.build(story)
    return buffer.getvalue()


def identity(data: PatientData) -> Flowable:
    p = data.patient
    rows: list[list[str | None]] = [
        ["Nom de naissance", p.birth_family_name],
        ["Prénoms de naissance", p.birth_given_names],
        ["Nom et prénom utilisés", p.display_name],
        ["Sexe", SEX_LABELS.get(p.sex, p.sex)],
        ["Date de naissance", p.birth_date.strftime("%d/%m/%Y")],
        ["Lieu de naissance (code INSEE)", p.birth_place_code],
        ["Matricule INS", p.ins_matricule],
        ["Statut de l'identité", IDENTITY_STATUS_LABELS.get(p.identity_status, p.identity_status)],
        ["Adresse e-mail", p.email],
        ["Téléphone", p.phone],
        ["Adresse", p.address],
    ]
    return _table(["Donnée", "Valeur"], rows, [60, 120])


def care_team(data: PatientData) -> Flowable:
    rows: list[list[str | None]] = [
        [
            r.professional.display_name,
            CARE_REASON_LABELS.get(r.reason, r.reason),
            _when(r.starts_at),
            _when(r.ends_at) if r.ends_at else "en cours",
        ]
        for r in data.relations
    ]
    return _table(["Professionnel", "Motif", "Depuis le", "Jusqu'au"], rows, [60, 40, 40, 40])


def timeline(data: PatientData) -> Flowable:
    rows: list[list[str | None]] = []
    for e in data.entries:
        author = data.professionals.get(e.author_professional_id or "")
        rows.append([_when(e.occurred_at), e.title, e.summary, author.display_name if author else None])
    return _table(["Date", "Évènement", "Résumé", "Auteur"], rows, [30, 50, 65, 35])


def consents(data: PatientData) -> Flowable:
    rows: list[list[str | None]] = [
        [
            ACT_LABELS.get(c.act, c.act),
            DECISION_LABELS.get(c.decision, c.decision),
            METHOD_LABELS.get(c.method, c.method),
            _when(c.recorded_at),
            _when(c.withdrawn_at) if c.withdrawn_at else None,
        ]
        for c in data.consents
    ]
    return _table(["Acte", "Décision", "Recueilli", "Le", "Retiré le"], rows, [45, 25, 40, 35, 35])


def documents(data: PatientData) -> Flowable:
    rows: list[list[str | None]] = [
        [d.filename, d.content_type, f"{d.size} octets", _when(d.created_at)] for d in data.documents
    ]
    return _table(["Fichier", "Type", "Taille", "Déposé le"], rows, [70, 40, 30, 40])


def accesses(data: PatientData) -> Flowable:
    rows: list[list[str | None]] = [
        [
            _when(a.event.at),
            a.who,
            AUDIT_ACTION_LABELS.get(a.event.action, a.event.action),
            a.event.resource_type,
            OUTCOME_LABELS.get(a.event.outcome, a.event.outcome),
        ]
        for a in data.accesses
    ]
    return _table(["Date", "Qui", "Action", "Sur", "Accès"], rows, [30, 55, 35, 35, 25])
