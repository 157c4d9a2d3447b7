"""The printed ordonnance: every legal mention, the lines, the QR code and the number in clear.

Built in memory (reportlab, segno): the QR code PNG never touches the disk. The QR code
holds only the public number (fhir-and-eprescription.md §3).
"""

import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from telesante.kit.pdf import PageWriter
from telesante.prescriptions import public_id as ids
from telesante.prescriptions.rules import NON_SUBSTITUTION

PARIS = ZoneInfo("Europe/Paris")
SEX = {"M": "Masculin", "F": "Féminin"}


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def _fr_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def line_text(line: dict[str, Any]) -> list[str]:
    name = " ".join(str(line[k]) for k in ("drug", "dose", "form") if line.get(k))
    if line.get("dci"):
        name = f"{name} (DCI : {line['dci']})" if name else f"DCI : {line['dci']}"
    parts = [name, f"Posologie : {line['posology']}"]
    amounts = [
        f"Durée : {line['duration']}" if line.get("duration") else "",
        f"Quantité : {line['quantity']}" if line.get("quantity") else "",
        f"Nombre de boîtes : {line['packs']}" if line.get("packs") else "",
    ]
    parts.append(" — ".join(a for a in amounts if a))
    renewals = int(line["renewals"])
    parts.append(f"À renouveler {renewals} fois" if renewals else "Non renouvelable")
    code = line.get("non_substitution")
    if code:
        parts.append(f"Non substituable ({code}) — {NON_SUBSTITUTION[code]}")
    return parts


def render_pdf(content: dict[str, Any], key_id: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    public_id = content["public_id"]
    canvas.setTitle(f"Ordonnance {public_id}")
    canvas.setAuthor("Telesante")
    prescriber, patient = content["prescriber"], content["patient"]
    issued = datetime.fromisoformat(content["issued_at"]).astimezone(PARIS)

    qr_size = 38 * mm
    canvas.drawImage(
        ImageReader(io.BytesIO(qr_png(public_id))),
        A4[0] - 20 * mm - qr_size,
        A4[1] - 15 * mm - qr_size,
        qr_size,
        qr_size,
    )
    out = PageWriter(canvas)
    out.line(f"{prescriber['given_names']} {prescriber['family_name'].upper()}", size=13, bold=True)
    title = prescriber["qualification"]
    if prescriber.get("specialty"):
        title += f" — {prescriber['specialty']}"
    out.line(title)
    out.line(f"RPPS : {prescriber['rpps']}")
    out.line(prescriber["address"])
    out.line(f"Tél. : {prescriber['phone']} — Courriel : {prescriber['email']}")
    out.gap(10)
    out.line("ORDONNANCE", size=16, bold=True)
    out.line(f"Le {issued.strftime('%d/%m/%Y à %H:%M')}")
    out.gap(6)
    family = patient["family_name"].upper()
    if patient.get("used_family_name"):
        family += f" (nom d'usage : {patient['used_family_name'].upper()})"
    out.line(f"Patient : {patient['given_names']} {family}", bold=True)
    details = [
        f"Sexe : {SEX.get(patient['sex'], patient['sex'])}",
        f"Né(e) le {_fr_date(patient['birth_date'])} ({patient['age_years']} ans)",
    ]
    if patient.get("weight_kg") is not None:
        details.append(f"Poids : {patient['weight_kg']:g} kg")
    if patient.get("height_cm") is not None:
        details.append(f"Taille : {patient['height_cm']:g} cm")
    out.line(" — ".join(details))
    out.gap(10)
    for number, line in enumerate(content["lines"], start=1):
        texts = line_text(line)
        out.line(f"{number}. {texts[0]}", bold=True)
        for text in texts[1:]:
            if text:
                out.line(text, indent=6 * mm)
        out.gap(4)
    out.gap(10)
    out.line(f"N° d'ordonnance : {ids.printed(public_id)}", size=11, bold=True)
    out.line(f"(à saisir si le QR code ne peut être lu : {public_id})", size=8)
    out.line(
        f"Signée électroniquement par la plateforme Telesante pour le prescripteur — clé {key_id} (Ed25519)",
        size=8,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
