from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from telesante.audit.access_log import access_log
from telesante.deps import CurrentActor, DbSession, SettingsDep
from telesante.errors import PROBLEM_RESPONSES
from telesante.patients import service
from telesante.patients.access import access_patient
from telesante.patients.break_glass import open_break_glass
from telesante.patients.models import CareRelation, Patient
from telesante.patients.schemas import (
    CareRelationCreate,
    CareRelationOut,
    InsOut,
    PatientCreate,
    PatientOut,
    TimelineEntryOut,
)
from telesante.timeline.service import entries_for

router = APIRouter(prefix="/api/patients", tags=["patients"], responses=PROBLEM_RESPONSES)
break_glass_router = APIRouter(tags=["patients"], responses=PROBLEM_RESPONSES)


def patient_out(patient: Patient) -> PatientOut:
    ins = (
        InsOut(matricule=patient.ins_matricule, oid=patient.ins_oid or "") if patient.ins_matricule else None
    )
    return PatientOut(
        id=patient.id,
        ins=ins,
        identity_status=patient.identity_status,
        birth_family_name=patient.birth_family_name,
        birth_given_names=patient.birth_given_names,
        used_family_name=patient.used_family_name,
        used_given_name=patient.used_given_name,
        display_name=patient.display_name,
        sex=patient.sex,
        birth_date=patient.birth_date,
        birth_place_code=patient.birth_place_code,
        email=patient.email,
        phone=patient.phone,
        address=patient.address,
        gp_of_record_id=patient.gp_of_record_id,
    )


def relation_out(relation: CareRelation) -> CareRelationOut:
    return CareRelationOut(
        id=relation.id,
        patient_id=relation.patient_id,
        professional_id=relation.professional_id,
        professional_name=relation.professional.display_name,
        reason=relation.reason,
        starts_at=relation.starts_at,
        ends_at=relation.ends_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_patient(
    data: PatientCreate, db: DbSession, actor: CurrentActor, settings: SettingsDep
) -> PatientOut:
    """Register a patient's identity. A duplicate INS matricule is refused with 409."""
    patient = await service.create_patient(
        db, actor, data, allow_test_identities=settings.allow_test_identities
    )
    return patient_out(patient)


@router.get("")
async def search_patients(
    db: DbSession,
    actor: CurrentActor,
    name: Annotated[str | None, Query(max_length=120)] = None,
    birth_date: date | None = None,
    ins: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[PatientOut]:
    """Search among the patients the caller may see (name prefix, birth date, INS)."""
    patients = await service.search_patients(
        db, actor, name=name, birth_date=birth_date, ins=ins, limit=limit, offset=offset
    )
    return [patient_out(p) for p in patients]


@router.get("/{patient_id}")
async def read_patient(patient_id: str, db: DbSession, actor: CurrentActor) -> PatientOut:
    return patient_out(await access_patient(db, actor, patient_id))


@router.get("/{patient_id}/timeline")
async def read_timeline(patient_id: str, db: DbSession, actor: CurrentActor) -> list[TimelineEntryOut]:
    patient = await access_patient(db, actor, patient_id, resource_type="Timeline")
    return [TimelineEntryOut.model_validate(e, from_attributes=True) for e in await entries_for(db, patient)]


@router.get("/{patient_id}/care-relations")
async def list_care_relations(patient_id: str, db: DbSession, actor: CurrentActor) -> list[CareRelationOut]:
    patient = await access_patient(db, actor, patient_id, resource_type="CareRelation")
    return [relation_out(r) for r in await service.care_relations(db, patient)]


@router.post("/{patient_id}/care-relations", status_code=status.HTTP_201_CREATED)
async def add_care_relation(
    patient_id: str, data: CareRelationCreate, db: DbSession, actor: CurrentActor
) -> CareRelationOut:
    """A member of the care team adds a professional to it (or declares the médecin traitant)."""
    patient = await access_patient(db, actor, patient_id, action="update", resource_type="CareRelation")
    relation = await service.add_care_relation(db, actor, patient, data)
    relations = await service.care_relations(db, patient)
    return relation_out(next(r for r in relations if r.id == relation.id))


class BreakGlassRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ins: str = Field(max_length=20, description="the patient's INS matricule")
    birth_date: date
    reason: str = Field(min_length=15, max_length=1000, description="why the emergency requires it")


class BreakGlassOut(BaseModel):
    patient_id: str
    expires_at: datetime


class AccessLogEntryOut(BaseModel):
    at: datetime
    who: str
    role: str
    action: str
    what: str
    purpose: str
    reason: str | None
    outcome: str


@break_glass_router.post("/api/break-glass", status_code=status.HTTP_201_CREATED)
async def break_glass(
    data: BreakGlassRequest, request: Request, db: DbSession, actor: CurrentActor
) -> BreakGlassOut:
    """Emergency access outside the care team (bris de glace): time-limited, audited, shown to the patient."""
    grant = await open_break_glass(
        db, request.app.state.runtime.bus, actor, data.ins, data.birth_date, data.reason
    )
    return BreakGlassOut(patient_id=grant.patient_id, expires_at=grant.expires_at)


@router.get("/{patient_id}/access-log")
async def read_access_log(patient_id: str, db: DbSession, actor: CurrentActor) -> list[AccessLogEntryOut]:
    """Qui a consulté mon dossier: who accessed the record, when, and why."""
    patient = await access_patient(db, actor, patient_id, resource_type="AccessLog")
    return [AccessLogEntryOut(**vars(e)) for e in await access_log(db, patient)]
