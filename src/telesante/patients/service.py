"""Patient identities and care relations. Reads go through the access gate."""

from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.errors import Conflict, Forbidden, Invalid
from telesante.identifiers import parse_nir
from telesante.identifiers.systems import INS_NIA, TEST_OIDS
from telesante.kit.text import fold
from telesante.patients.access import visible_patients
from telesante.patients.models import CareRelation, Patient
from telesante.patients.schemas import IDENTITY_STATUS_LABELS, CareRelationCreate, PatientCreate
from telesante.timeline.service import add_entry

CARE_REASON_LABELS = {
    "gp_of_record": "médecin traitant",
    "care_team": "équipe de soins",
    "act": "acte de télémédecine",
}


def name_matches(name: str) -> ColumnElement[bool]:
    """Birth or used family name starting with `name`, ignoring case and accents."""
    pattern = fold(name).replace("\\", "").replace("%", "").replace("_", "") + "%"
    return or_(Patient.search_name.like(pattern), Patient.search_used_name.like(pattern))


def check_ins_traits(data: PatientCreate, allow_test_identities: bool) -> None:
    """The INS must agree with the traits it was issued for (identifiers.md §1-2)."""
    if data.ins is None:
        if data.identity_status in ("RECUP", "QUAL"):
            raise Invalid.field("ins", "an identity retrieved from INSi (RECUP, QUAL) carries its INS")
        return
    if data.ins.oid in TEST_OIDS and not allow_test_identities:
        raise Invalid.field("ins.oid", "test and demo INS OIDs are refused in production")
    if data.ins.oid == INS_NIA:
        return  # a NIA follows the NIR shape but its digits do not encode the traits (unverified)
    nir = parse_nir(data.ins.matricule)
    expected_sex = {"1": "M", "2": "F"}.get(nir.sex_digit)
    if expected_sex and data.sex != "U" and expected_sex != data.sex:
        raise Invalid.field(
            "ins.matricule", f"the NIR's sex digit {nir.sex_digit} contradicts sex {data.sex}"
        )
    if nir.year != data.birth_date.year % 100:
        raise Invalid.field("ins.matricule", "the NIR's birth year contradicts birth_date")
    if nir.month is not None and nir.month != data.birth_date.month:
        raise Invalid.field("ins.matricule", "the NIR's birth month contradicts birth_date")


async def create_patient(
    db: AsyncSession, actor: Actor, data: PatientCreate, *, allow_test_identities: bool
) -> Patient:
    if actor.role not in ("professional", "admin"):
        raise Forbidden("seuls les professionnels et les administrateurs créent des patients")
    if data.birth_date > date.today():
        raise Invalid.field("birth_date", "is in the future")
    check_ins_traits(data, allow_test_identities)
    if data.ins and await db.scalar(select(Patient.id).where(Patient.ins_matricule == data.ins.matricule)):
        raise Conflict("un patient avec ce matricule INS existe déjà")
    if data.gp_of_record_id and not await db.get(Professional, data.gp_of_record_id):
        raise Invalid.field("gp_of_record_id", "no such professional")
    fields = data.model_dump(exclude={"ins"})
    patient = Patient(
        **fields,
        ins_matricule=data.ins.matricule if data.ins else None,
        ins_oid=data.ins.oid if data.ins else None,
        search_name=fold(data.birth_family_name),
        search_used_name=fold(data.used_family_name) if data.used_family_name else None,
    )
    db.add(patient)
    await db.flush()
    add_entry(
        db,
        patient.id,
        kind="identity",
        title="Identité enregistrée",
        summary=f"Statut de l'identité : {IDENTITY_STATUS_LABELS[patient.identity_status]}",
    )
    if actor.professional_id:
        await _relate(db, actor, patient, actor.professional_id, "care_team", None)
    if data.gp_of_record_id:
        await _relate(db, actor, patient, data.gp_of_record_id, "gp_of_record", None)
    record(db, actor, action="create", resource_type="Patient", resource_id=patient.id, patient_id=patient.id)
    return patient


async def search_patients(
    db: AsyncSession,
    actor: Actor,
    *,
    name: str | None = None,
    birth_date: date | None = None,
    ins: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Patient]:
    """Only among the patients the actor may see; each one returned is audited."""
    query = select(Patient).where(visible_patients(actor))
    if name:
        query = query.where(name_matches(name))
    if birth_date:
        query = query.where(Patient.birth_date == birth_date)
    if ins:
        query = query.where(Patient.ins_matricule == ins.replace(" ", ""))
    query = query.order_by(Patient.search_name, Patient.id).limit(limit).offset(offset)
    patients = list(await db.scalars(query))
    for patient in patients:
        record(
            db, actor, action="search", resource_type="Patient", resource_id=patient.id, patient_id=patient.id
        )
    return patients


async def add_care_relation(
    db: AsyncSession, actor: Actor, patient: Patient, data: CareRelationCreate
) -> CareRelation:
    """`patient` comes from the access gate, so the actor already cares for them."""
    if actor.role != "professional":
        raise Forbidden("seul un professionnel de l'équipe de soins ajoute un membre")
    if not await db.get(Professional, data.professional_id):
        raise Invalid.field("professional_id", "no such professional")
    if data.ends_at and data.ends_at <= utcnow():
        raise Invalid.field("ends_at", "must be in the future")
    return await _relate(db, actor, patient, data.professional_id, data.reason, data)


async def _relate(
    db: AsyncSession,
    actor: Actor,
    patient: Patient,
    professional_id: str,
    reason: str,
    data: CareRelationCreate | None,
) -> CareRelation:
    now = utcnow()
    if reason == "gp_of_record":
        await _end_gp_relations(db, patient.id, now)
        patient.gp_of_record_id = professional_id
    relation = CareRelation(
        patient_id=patient.id,
        professional_id=professional_id,
        reason=reason,
        starts_at=now,
        ends_at=data.ends_at if data else None,
        created_by_user_id=actor.user.id,
    )
    db.add(relation)
    await db.flush()
    professional = await db.get(Professional, professional_id)
    name = professional.display_name if professional else professional_id
    add_entry(
        db,
        patient.id,
        kind="care_relation",
        title=f"{name} : {CARE_REASON_LABELS[reason]}",
        source_type="CareRelation",
        source_id=relation.id,
        author_professional_id=actor.professional_id,
    )
    record(
        db,
        actor,
        action="create",
        resource_type="CareRelation",
        resource_id=relation.id,
        patient_id=patient.id,
    )
    return relation


async def _end_gp_relations(db: AsyncSession, patient_id: str, now: object) -> None:
    await db.execute(
        update(CareRelation)
        .where(
            and_(
                CareRelation.patient_id == patient_id,
                CareRelation.reason == "gp_of_record",
                CareRelation.ends_at.is_(None),
            )
        )
        .values(ends_at=now)
    )


async def care_relations(db: AsyncSession, patient: Patient) -> list[CareRelation]:
    rows = await db.scalars(
        select(CareRelation)
        .where(CareRelation.patient_id == patient.id)
        .options(selectinload(CareRelation.professional))
        .order_by(CareRelation.starts_at.desc())
    )
    return list(rows)
