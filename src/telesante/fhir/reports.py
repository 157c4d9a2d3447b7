"""The signed compte rendu as FHIR R4: a Composition (the structured text) and a
DocumentReference (its PDF).

fr-core profiles neither resource, so both follow base R4 and carry no meta.profile. Codes
are LOINC document and section codes (as in HL7 C-CDA's consultation note); the technical
incidents, which LOINC does not name, sit in a section coded from our own code system.
Only signed reports are mapped: a draft is not part of the record.
"""

import base64
import hashlib
import html
import re
from typing import Any

from fhir.resources.R4B.composition import Composition
from fhir.resources.R4B.documentreference import DocumentReference

from telesante.teleconsultation.models import Report
from telesante.teleconsultation.report import SECTION_LABELS, SECTIONS, sections_of
from telesante.teleconsultation.report_pdf import incident_lines

LOINC = "http://loinc.org"
CONSULT_NOTE = {"system": LOINC, "code": "11488-4", "display": "Consult note"}
SECTION_CODES = {
    "motif": ("29299-5", "Reason for visit Narrative"),
    "anamnese": ("10164-2", "History of Present illness Narrative"),
    "examen": ("29545-1", "Physical findings Narrative"),
    "conclusion": ("51848-0", "Evaluation note"),
    "conduite": ("18776-5", "Plan of care note"),
}
LOCAL_SECTIONS = "https://telesante.fr/fhir/CodeSystem/report-section"
TITLE = "Compte rendu de téléconsultation"
# Characters XML 1.0 refuses: a narrative must stay well-formed XHTML whatever was typed.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _valid(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return result


def _narrative(lines: list[str]) -> dict[str, str]:
    body = "<br/>".join(html.escape(NOT_XML.sub("", line), quote=False) for line in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{body}</p></div>'}


def _section(key: str, text: str) -> dict[str, Any]:
    code, display = SECTION_CODES[key]
    return {
        "title": SECTION_LABELS[key],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        # R4 cmp-2: every section has text, so an empty one says so.
        "text": _narrative(text.splitlines() or ["Non renseigné."]),
    }


def _incidents(report: Report) -> dict[str, Any]:
    lines = incident_lines(report.record) or ["Aucun incident technique enregistré."]
    return {
        "title": "Incidents techniques de l'appel",
        "code": {"coding": [{"system": LOCAL_SECTIONS, "code": "call-incidents"}]},
        "text": _narrative(lines),
    }


def _signed_at(report: Report) -> str:
    if report.signed_at is None:
        raise ValueError(f"report {report.id} is not signed")
    return report.signed_at.isoformat()


def composition_resource(report: Report) -> dict[str, Any]:
    sections = sections_of(report).model_dump()
    author = {"reference": f"Practitioner/{report.author_id}"}
    return _valid(
        Composition,
        {
            "resourceType": "Composition",
            "id": report.id,
            "language": "fr-FR",
            "status": "final",
            "type": {"coding": [CONSULT_NOTE], "text": TITLE},
            "subject": {"reference": f"Patient/{report.patient_id}"},
            "encounter": {"reference": f"Encounter/{report.appointment_id}"},
            "date": _signed_at(report),
            "author": [author],
            "title": TITLE,
            "attester": [{"mode": "legal", "time": _signed_at(report), "party": author}],
            "section": [_section(key, sections[key]) for key in SECTIONS] + [_incidents(report)],
        },
    )


def pdf_content(pdf: bytes, url: str, title: str, created: str) -> list[dict[str, Any]]:
    """A DocumentReference's content: where the PDF is, its size and SHA-1 (R4), in French."""
    attachment = {
        "contentType": "application/pdf",
        "language": "fr-FR",
        "url": url,
        "size": len(pdf),
        "hash": sha1_base64(pdf),
        "title": title,
        "creation": created,
    }
    return [{"attachment": attachment}]


def sha1_base64(data: bytes) -> str:
    """FHIR R4 Attachment.hash: the SHA-1 of the data, base64."""
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def document_reference_resource(report: Report, pdf: bytes, pdf_url: str) -> dict[str, Any]:
    author = {"reference": f"Practitioner/{report.author_id}"}
    return _valid(
        DocumentReference,
        {
            "resourceType": "DocumentReference",
            "id": report.id,
            "status": "current",
            "docStatus": "final",
            "type": {"coding": [CONSULT_NOTE], "text": TITLE},
            "subject": {"reference": f"Patient/{report.patient_id}"},
            "date": _signed_at(report),
            "author": [author],
            "authenticator": author,
            "description": TITLE,
            "content": pdf_content(pdf, pdf_url, f"{TITLE}.pdf", _signed_at(report)),
            "context": {
                "encounter": [{"reference": f"Encounter/{report.appointment_id}"}],
                "related": [{"reference": f"Composition/{report.id}"}],
            },
        },
    )
