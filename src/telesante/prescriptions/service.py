"""Prescribe, read, verify and dispense an ordonnance numérique.

The canonical content (signing.canonical) is built here from the database, checked
against every legal mention (rules.py), signed with the platform key and stored
encrypted. Verification re-reads the stored text and signature and checks that the
signature covers them and that the content belongs to this row (same public id and
patient), so neither an edited content nor a content copied from another prescription
passes. A prescription that fails verification is never shown nor dispensed.
"""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from telesante.audit.service import record, record_denied
from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.directory.professions import PROFESSION_LABELS, Profession
from telesante.errors import Conflict, Forbidden, Invalid, NotFound
from telesante.kit.crypto import DecryptionError
from telesante.patients.access import access_patient
from telesante.patients.models import Patient
from telesante.prescriptions import public_id as ids
from telesante.prescriptions.models import Dispensation, Prescription
from telesante.prescriptions.rules import broken_mentions
from telesante.prescriptions.schemas import (
    DispensationOut,
    DispenseIn,
    LineStatus,
    PrescriptionCreate,
    PrescriptionView,
)
from telesante.prescriptions.signing import Signer, canonical
from telesante.teleconsultation.models import Appointment
from telesante.timeline.service import add_entry

FORMAT = "telesante-ordonnance/1"
PARIS = ZoneInfo("Europe/Paris")
NOT_FOUND = "ordonnance introuvable"  # the same for an unknown, malformed or hidden id
PHARMACIST_ONLY = "réservé aux pharmaciens"


# ---------------------------------------------------------------- create


async def professional_of(db: AsyncSession, actor: Actor) -> Professional | None:
    if actor.role != "professional" or not actor.professional_id:
        return None
    return await db.scalar(
        select(Professional)
        .where(Professional.id == actor.professional_id)
        .options(selectinload(Professional.organisations))
    )


def french_phone(raw: str | None) -> str | None:
    """0X XX XX XX XX or +33 X… as "+33 X XX XX XX XX"; anything else as given (the rule will refuse it)."""
    if not raw:
        return None
    digits = re.sub(r"[\s.\-()]", "", raw)
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        digits = "+33" + digits[1:]
    if re.fullmatch(r"\+33[1-9]\d{8}", digits):
        rest = digits[3:]
        return "+33 " + rest[0] + "".join(f" {rest[i : i + 2]}" for i in range(1, 9, 2))
    return raw


def professional_address(professional: Professional) -> str | None:
    """The first organisation (by name) with a city, ending with "France" (R5132-3)."""
    for organisation in sorted(professional.organisations, key=lambda o: o.name):
        if organisation.city:
            return f"{organisation.name}, {organisation.city}, France"
    return None


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def prescriber_mentions(professional: Professional) -> dict[str, Any]:
    label = PROFESSION_LABELS.get(Profession(professional.profession), professional.profession)
    return {
        "id": professional.id,
        "family_name": professional.family_name,
        "given_names": professional.given_name,
        "qualification": label,
        "specialty": professional.specialty,
        "rpps": professional.rpps,
        "address": professional_address(professional),
        "phone": french_phone(professional.phone),
        "email": professional.email,
    }


def patient_mentions(patient: Patient, data: PrescriptionCreate, issued: datetime) -> dict[str, Any]:
    return {
        "id": patient.id,
        "family_name": patient.birth_family_name,
        "used_family_name": patient.used_family_name,
        "given_names": patient.birth_given_names,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat(),
        "age_years": age_on(patient.birth_date, issued.astimezone(PARIS).date()),
        "weight_kg": data.patient_weight_kg,
        "height_cm": data.patient_height_cm,
    }


async def _check_appointment(db: AsyncSession, data: PrescriptionCreate, professional_id: str) -> None:
    if data.appointment_id is None:
        return
    appointment = await db.get(Appointment, data.appointment_id)
    if (
        appointment is None
        or appointment.patient_id != data.patient_id
        or appointment.professional_id != professional_id
    ):
        raise Invalid.field("appointment_id", "pas une téléconsultation de ce patient avec ce prescripteur")


async def create_prescription(
    db: AsyncSession, actor: Actor, data: PrescriptionCreate, signer: Signer
) -> tuple[Prescription, dict[str, Any]]:
    professional = await professional_of(db, actor)
    if professional is None or not professional.is_medical:
        raise Forbidden("seuls un médecin, une sage-femme ou un chirurgien-dentiste peuvent prescrire")
    public_id = ids.new_public_id()
    patient = await access_patient(
        db, actor, data.patient_id, action="create", resource_type="Prescription", resource_id=public_id
    )
    await _check_appointment(db, data, professional.id)
    issued = utcnow().replace(microsecond=0)
    content: dict[str, Any] = {
        "format": FORMAT,
        "public_id": public_id,
        "issued_at": issued.isoformat(),
        "appointment_id": data.appointment_id,
        "prescriber": prescriber_mentions(professional),
        "patient": patient_mentions(patient, data, issued),
        "lines": [line.model_dump() for line in data.lines],
    }
    for line in content["lines"]:
        if isinstance(line["non_substitution"], str):
            line["non_substitution"] = line["non_substitution"].strip().upper() or None
    errors = broken_mentions(content)
    if errors:
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        raise Invalid(f"mentions obligatoires manquantes ou invalides — {detail}", errors=errors)
    text = canonical(content)
    prescription = Prescription(
        public_id=public_id,
        patient_id=patient.id,
        prescriber_id=professional.id,
        appointment_id=data.appointment_id,
        content=text,
        signature=signer.sign(text),
        key_id=signer.key_id,
        issued_at=issued,
    )
    db.add(prescription)
    await db.flush()
    add_entry(
        db,
        patient.id,
        kind="prescription",
        title="Ordonnance",
        summary=", ".join(_drug_label(line) for line in content["lines"]),
        occurred_at=issued,
        source_type="Prescription",
        source_id=prescription.id,
        author_professional_id=professional.id,
    )
    return prescription, content


def _drug_label(line: dict[str, Any]) -> str:
    return " ".join(str(line[k]) for k in ("drug", "dci", "dose") if line.get(k))


# ---------------------------------------------------------------- read and verify


@dataclass
class Checked:
    prescription: Prescription
    content: dict[str, Any] | None  # None when the verification failed
    problem: str | None
    dispensations: list[Dispensation]

    @property
    def verified(self) -> bool:
        return self.content is not None


async def find(db: AsyncSession, raw_id: str, *, for_update: bool = False) -> Prescription | None:
    """The prescription behind a typed or scanned id; its content is read apart (see `check`)."""
    public_id = ids.normalise(raw_id)
    if public_id is None:
        return None
    query = (
        select(Prescription)
        .where(Prescription.public_id == public_id)
        .options(defer(Prescription.content, raiseload=True))
    )
    if for_update:
        query = query.with_for_update()
    return await db.scalar(query)


async def check(db: AsyncSession, prescription: Prescription, signer: Signer) -> Checked:
    """Verify the stored signature against the stored content, and that the content is this row's."""
    dispensations = list(
        await db.scalars(
            select(Dispensation)
            .where(Dispensation.prescription_id == prescription.id)
            .order_by(Dispensation.dispensed_at, Dispensation.line)
        )
    )
    try:
        text = await db.scalar(select(Prescription.content).where(Prescription.id == prescription.id))
    except DecryptionError:
        return Checked(prescription, None, "contenu chiffré illisible (altéré)", dispensations)
    if text is None or not signer.verify(prescription.key_id, text, prescription.signature):
        return Checked(
            prescription, None, "signature invalide : le contenu ou la signature a été modifié", dispensations
        )
    content: dict[str, Any] = json.loads(text)
    if content.get("public_id") != prescription.public_id or content.get("patient", {}).get("id") != (
        prescription.patient_id
    ):
        return Checked(
            prescription, None, "le contenu signé appartient à une autre ordonnance", dispensations
        )
    return Checked(prescription, content, None, dispensations)


def view(checked: Checked) -> PrescriptionView:
    p = checked.prescription
    lines = []
    for index, line in enumerate((checked.content or {}).get("lines", [])):
        allowed = 1 + int(line["renewals"])
        done = sum(1 for d in checked.dispensations if d.line == index)
        lines.append(
            LineStatus(line=index, allowed=allowed, dispensed=done, remaining=max(allowed - done, 0))
        )
    return PrescriptionView(
        public_id=p.public_id,
        printed_id=ids.printed(p.public_id),
        key_id=p.key_id,
        issued_at=p.issued_at,
        verified=checked.verified,
        problem=checked.problem,
        content=checked.content,
        lines=lines,
        dispensations=[
            DispensationOut(
                line=d.line, dispensed_at=d.dispensed_at, pharmacist_id=d.pharmacist_id, quantity=d.quantity
            )
            for d in checked.dispensations
        ],
    )


async def read_as_patient_or_carer(db: AsyncSession, actor: Actor, raw_id: str, signer: Signer) -> Checked:
    """For the patient and their care team (the prescriber among them), through the access gate."""
    prescription = await find(db, raw_id)
    if prescription is None:
        raise NotFound(NOT_FOUND)
    try:
        await access_patient(
            db,
            actor,
            prescription.patient_id,
            resource_type="Prescription",
            resource_id=prescription.public_id,
        )
    except NotFound:
        raise NotFound(NOT_FOUND) from None  # the same answer as an unknown id
    return await check(db, prescription, signer)


async def require_pharmacist(db: AsyncSession, actor: Actor) -> Professional:
    professional = await professional_of(db, actor)
    if professional is None or professional.profession != Profession.pharmacist:
        raise Forbidden(PHARMACIST_ONLY)
    return professional


async def _pharmacist_find(db: AsyncSession, actor: Actor, raw_id: str, action: str) -> Prescription:
    """The pharmacist holds no care relation: the public id is the authorisation. Misses are audited."""
    await require_pharmacist(db, actor)
    prescription = await find(db, raw_id, for_update=action == "dispense")
    if prescription is None:
        record_denied(
            db,
            actor,
            action=action,
            resource_type="Prescription",
            resource_id=raw_id[:36],
            patient_id=None,
            purpose="dispensation",
        )
        raise NotFound(NOT_FOUND)
    return prescription


async def verify(db: AsyncSession, actor: Actor, raw_id: str, signer: Signer) -> Checked:
    prescription = await _pharmacist_find(db, actor, raw_id, "verify")
    checked = await check(db, prescription, signer)
    record(
        db,
        actor,
        action="verify",
        resource_type="Prescription",
        resource_id=prescription.public_id,
        patient_id=prescription.patient_id,
        purpose="dispensation",
        reason=checked.problem,
    )
    return checked


async def dispense(db: AsyncSession, actor: Actor, raw_id: str, data: DispenseIn, signer: Signer) -> Checked:
    """Dispense lines: each at most 1 + renewals times; never an altered prescription."""
    prescription = await _pharmacist_find(db, actor, raw_id, "dispense")
    checked = await check(db, prescription, signer)
    if checked.content is None:
        record_denied(
            db,
            actor,
            action="dispense",
            resource_type="Prescription",
            resource_id=prescription.public_id,
            patient_id=prescription.patient_id,
            purpose="dispensation",
        )
        raise Conflict(f"ordonnance non délivrable : {checked.problem}")
    lines = checked.content["lines"]
    counts = {i: sum(1 for d in checked.dispensations if d.line == i) for i in range(len(lines))}
    now = utcnow()
    added = []
    for position, wanted in enumerate(data.lines):
        if wanted.line >= len(lines):
            raise Invalid.field(f"lines[{position}].line", f"l'ordonnance a {len(lines)} ligne(s)")
        allowed = 1 + int(lines[wanted.line]["renewals"])
        if counts[wanted.line] >= allowed:
            raise Conflict(
                f"ligne {wanted.line + 1} déjà délivrée {counts[wanted.line]} fois sur {allowed} autorisée(s)"
            )
        counts[wanted.line] += 1
        dispensation = Dispensation(
            prescription_id=prescription.id,
            line=wanted.line,
            pharmacist_id=actor.professional_id,
            dispensed_at=now,
            quantity=wanted.quantity,
        )
        db.add(dispensation)
        added.append(dispensation)
    await db.flush()
    for dispensation in added:
        record(
            db,
            actor,
            action="dispense",
            resource_type="Dispensation",
            resource_id=dispensation.id,
            patient_id=prescription.patient_id,
            purpose="dispensation",
        )
    checked.dispensations.extend(added)
    return checked


async def checked_of_patient(
    db: AsyncSession, patient: Patient, signer: Signer, *, appointment_id: str | None = None
) -> list[Checked]:
    """A patient's prescriptions (of one appointment if given), newest first, each verified.

    Takes a Patient from the access gate.
    """
    query = select(Prescription).where(Prescription.patient_id == patient.id)
    if appointment_id is not None:
        query = query.where(Prescription.appointment_id == appointment_id)
    rows = await db.scalars(
        query.options(defer(Prescription.content, raiseload=True))
        .order_by(Prescription.issued_at.desc())
        .limit(200)
    )
    return [await check(db, p, signer) for p in rows]
