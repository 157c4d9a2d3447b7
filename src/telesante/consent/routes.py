from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel

from telesante.consent import service
from telesante.consent.models import Consent
from telesante.consent.service import Act, ConsentCreate
from telesante.deps import CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES
from telesante.patients.access import access_patient

router = APIRouter(
    prefix="/api/patients/{patient_id}/consents", tags=["consent"], responses=PROBLEM_RESPONSES
)


class ConsentOut(BaseModel):
    id: str
    act: str
    decision: str
    method: str
    information: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    in_force: bool


class ConsentStatus(BaseModel):
    act: str
    in_force: bool


def consent_out(consent: Consent, in_force: bool) -> ConsentOut:
    return ConsentOut(
        id=consent.id,
        act=consent.act,
        decision=consent.decision,
        method=consent.method,
        information=consent.information,
        recorded_at=consent.recorded_at,
        withdrawn_at=consent.withdrawn_at,
        in_force=in_force,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def record_consent(
    patient_id: str, data: ConsentCreate, db: DbSession, actor: CurrentActor
) -> ConsentOut:
    """Record the patient's informed consent (or refusal) to one kind of act."""
    patient = await access_patient(db, actor, patient_id, action="create", resource_type="Consent")
    consent = await service.record_consent(db, actor, patient, data)
    return consent_out(consent, data.decision == "granted")


@router.get("")
async def list_consents(patient_id: str, db: DbSession, actor: CurrentActor) -> list[ConsentOut]:
    patient = await access_patient(db, actor, patient_id, resource_type="Consent")
    consents = await service.consents_of(db, patient)
    in_force = {
        c.id for act in service.ACT_LABELS if (c := await service.current_consent(db, patient.id, act))
    }
    return [consent_out(c, c.id in in_force) for c in consents]


@router.get("/status/{act}")
async def consent_status(patient_id: str, act: Act, db: DbSession, actor: CurrentActor) -> ConsentStatus:
    """Whether a new act of this kind may start: the check every act runs first."""
    patient = await access_patient(db, actor, patient_id, resource_type="Consent")
    return ConsentStatus(act=act, in_force=await service.current_consent(db, patient.id, act) is not None)


@router.post("/{consent_id}/withdraw")
async def withdraw_consent(
    patient_id: str, consent_id: str, db: DbSession, actor: CurrentActor
) -> ConsentOut:
    """Withdraw a consent: new acts of that kind are refused from now on."""
    patient = await access_patient(db, actor, patient_id, action="update", resource_type="Consent")
    return consent_out(await service.withdraw(db, actor, patient, consent_id), False)
