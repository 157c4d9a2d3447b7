"""The doctor writes the ordonnance of a téléconsultation in a French form of drug lines.

The form posts url-encoded fields named `lines-<n>-<field>`. They become a PrescriptionCreate
and go through the same service as the API, so the schema and the legal mentions (rules.py)
are checked in one place; their errors are shown in French next to the field, with what was
typed kept. A refused prescription leaves nothing behind: it is attempted in a savepoint.
"""

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from telesante.auth.actor import Actor
from telesante.deps import DbSession
from telesante.errors import Forbidden, Invalid, NotFound
from telesante.patients.access import access_patient
from telesante.prescriptions import pdf, service
from telesante.prescriptions import public_id as ids
from telesante.prescriptions.routes import SignerDep
from telesante.prescriptions.rules import NON_SUBSTITUTION, WEIGHT_REQUIRED_UNDER
from telesante.prescriptions.schemas import PrescriptionCreate
from telesante.prescriptions.signing import Signer
from telesante.teleconsultation.models import Appointment
from telesante.teleconsultation.waiting import appointment_for
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)

TEXTS = ("drug", "dci", "dose", "form", "posology", "duration")
NUMBERS = ("packs", "renewals")
LINE_FIELDS = (*TEXTS, *NUMBERS, "non_substitution")
_LINE_KEY = re.compile(r"lines-(\d{1,2})-([a-z_]+)")
# Where each error is shown: a line's field, or the patient's weight and height; the rest on top.
_AT_A_FIELD = re.compile(rf"lines\[\d+\]\.({'|'.join(LINE_FIELDS)})|patient\.(weight_kg|height_cm)")
_SCHEMA_FIELD = {"patient_weight_kg": "patient.weight_kg", "patient_height_cm": "patient.height_cm"}
_FRENCH = {
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu (par exemple 12,5)",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "string_too_long": "{max_length} caractères au plus",
    "too_long": "{max_length} médicaments au plus par ordonnance",
}
NOT_THE_PRESCRIBER = "réservé au professionnel de ce rendez-vous"
NOT_MEDICAL = "seuls un médecin, une sage-femme ou un chirurgien-dentiste peuvent prescrire"


@dataclass
class Sheet:
    """What the doctor typed, as typed, and what is wrong with it (field -> French reason)."""

    weight: str = ""
    height: str = ""
    lines: list[dict[str, str]] = field(default_factory=lambda: [{"renewals": "0"}])
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def fail(self, errors: list[dict[str, str]]) -> None:
        for error in errors:
            if _AT_A_FIELD.fullmatch(error["field"]):
                known = self.errors.get(error["field"])
                self.errors[error["field"]] = f"{known} ; {error['reason']}" if known else error["reason"]
            else:
                self.general.append(error["reason"])


def _blank(line: dict[str, str]) -> bool:
    """An added line left empty is dropped (renewals default to 0)."""
    typed = any(line.get(k) for k in (*TEXTS, "packs", "non_substitution"))
    return not typed and line.get("renewals", "") in ("", "0")


def sheet_of(form: FormData) -> Sheet:
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.multi_items():
        match = _LINE_KEY.fullmatch(key)
        if match and match[2] in LINE_FIELDS and isinstance(value, str):
            rows.setdefault(int(match[1]), {})[match[2]] = value.strip()
    weight, height = form.get("patient_weight_kg", ""), form.get("patient_height_cm", "")
    return Sheet(
        weight=weight.strip() if isinstance(weight, str) else "",
        height=height.strip() if isinstance(height, str) else "",
        lines=[row for _, row in sorted(rows.items()) if not _blank(row)],
    )


def _number(raw: str | None) -> str | None:
    """Left to the schema to parse; a French decimal comma is accepted."""
    return raw.replace(",", ".") if raw else None


def payload(sheet: Sheet, appointment: Appointment) -> dict[str, Any]:
    return {
        "patient_id": appointment.patient_id,
        "appointment_id": appointment.id,
        "patient_weight_kg": _number(sheet.weight),
        "patient_height_cm": _number(sheet.height),
        "lines": [
            {k: _number(v) if k in NUMBERS else (v or None) for k, v in line.items()} for line in sheet.lines
        ],
    }


def _at_field(error: dict[str, str]) -> dict[str, str]:
    """The rule `drug` asks for the drug's name or its DCI: shown at the DCI field, the first one."""
    if error["field"].endswith("].drug"):
        return {"field": error["field"].removesuffix("drug") + "dci", "reason": error["reason"]}
    return error


def _french(error: ErrorDetails) -> str:
    template = _FRENCH.get(error["type"], "valeur invalide")
    return template.format(**{k: _shown(v) for k, v in error.get("ctx", {}).items()})


def _shown(value: Any) -> str:
    """A bound as a French reader writes it: 1, 0,3, -1000 (never 1.0)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, "g").replace(".", ",")
    return str(value)


def schema_errors(exc: ValidationError) -> list[dict[str, str]]:
    """The schema's errors named like the rules' ones (lines[0].packs, patient.weight_kg)."""
    out = []
    for error in exc.errors():
        loc = error["loc"]
        if len(loc) == 3 and loc[0] == "lines":
            name = f"lines[{loc[1]}].{loc[2]}"
        else:
            name = _SCHEMA_FIELD.get(str(loc[0]), ".".join(map(str, loc)))
        out.append({"field": name, "reason": _french(error)})
    return out


# ---------------------------------------------------------------- access and rendering


async def prescriber_appointment(db: AsyncSession, actor: Actor, appointment_id: str) -> Appointment:
    """The appointment, for its own professional when they may prescribe; 404/403 otherwise."""
    appointment = await appointment_for(db, actor, appointment_id)
    if actor.professional_id != appointment.professional_id:
        raise Forbidden(NOT_THE_PRESCRIBER)
    professional = await service.professional_of(db, actor)
    if professional is None or not professional.is_medical:
        raise Forbidden(NOT_MEDICAL)
    return appointment


def _summary(checked: service.Checked) -> dict[str, Any]:
    lines = (checked.content or {}).get("lines", [])
    return {
        "public_id": checked.prescription.public_id,
        "printed_id": ids.printed(checked.prescription.public_id),
        "issued_at": checked.prescription.issued_at,
        "drugs": [pdf.line_text(line)[0] for line in lines],
        "problem": checked.problem,
    }


async def form_page(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    signer: Signer,
    appointment: Appointment,
    sheet: Sheet,
    status_code: int = 200,
) -> HTMLResponse:
    patient = await access_patient(db, actor, appointment.patient_id)
    age = service.age_on(patient.birth_date, datetime.now(service.PARIS).date())
    made = await service.checked_of_patient(db, patient, signer, appointment_id=appointment.id)
    return page(
        request,
        "prescription_form.html",
        status_code,
        actor=actor,
        appointment=appointment,
        patient=patient,
        age=age,
        weight_required=age < WEIGHT_REQUIRED_UNDER,
        weight_age=WEIGHT_REQUIRED_UNDER,
        sheet=sheet,
        made=[_summary(checked) for checked in made],
        non_substitution=NON_SUBSTITUTION,
    )


# ---------------------------------------------------------------- routes


@router.get("/teleconsultations/{appointment_id}/ordonnance")
async def prescription_form(
    request: Request, appointment_id: str, db: DbSession, actor: PageActor, signer: SignerDep
) -> HTMLResponse:
    """The ordonnance of this téléconsultation: the patient's identity, drug lines, those already signed."""
    appointment = await prescriber_appointment(db, actor, appointment_id)
    return await form_page(request, db, actor, signer, appointment, Sheet())


@router.post("/teleconsultations/{appointment_id}/ordonnance")
async def prescribe(
    request: Request, appointment_id: str, db: DbSession, actor: PageActor, signer: SignerDep
) -> Response:
    """Sign the ordonnance (CSRF-checked by deps); on a refusal the form comes back with 422."""
    appointment = await prescriber_appointment(db, actor, appointment_id)
    sheet = sheet_of(await request.form())
    try:
        data = PrescriptionCreate.model_validate(payload(sheet, appointment))
        # The API rolls the whole request back on a refusal; here the page goes on, so a
        # savepoint drops what the attempt wrote (its "create" audit event among it).
        async with db.begin_nested():
            prescription, _ = await service.create_prescription(db, actor, data, signer)
    except ValidationError as exc:
        sheet.fail(schema_errors(exc))
    except Invalid as exc:
        sheet.fail([_at_field(error) for error in exc.errors] or [{"field": "", "reason": exc.detail}])
    else:
        done = f"/teleconsultations/{appointment.id}/ordonnance/{prescription.public_id}"
        return RedirectResponse(done, status_code=303)
    return await form_page(request, db, actor, signer, appointment, sheet, 422)


@router.get("/teleconsultations/{appointment_id}/ordonnance/{public_id}")
async def prescription_done(
    request: Request, appointment_id: str, public_id: str, db: DbSession, actor: PageActor, signer: SignerDep
) -> HTMLResponse:
    """The signed ordonnance: its number in clear, its QR code and the PDF to download."""
    appointment = await prescriber_appointment(db, actor, appointment_id)
    checked = await service.read_as_patient_or_carer(db, actor, public_id, signer)
    if checked.prescription.appointment_id != appointment.id:
        raise NotFound(service.NOT_FOUND)
    qr = base64.b64encode(pdf.qr_png(checked.prescription.public_id)).decode()
    return page(
        request,
        "prescription_done.html",
        actor=actor,
        appointment=appointment,
        prescription=_summary(checked),
        lines=[pdf.line_text(line) for line in (checked.content or {}).get("lines", [])],
        qr=f"data:image/png;base64,{qr}",
    )
