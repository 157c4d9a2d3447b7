"""The regulator's timestamped decisions (Hub `decisionType`), each doing what it says:
INTER engages a resource, PMT signs a real e-prescription, ORIENT names where and how."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import utcnow
from telesante.errors import Conflict, Invalid
from telesante.prescriptions.schemas import PrescriptionCreate
from telesante.prescriptions.service import create_prescription
from telesante.prescriptions.signing import Signer
from telesante.realtime.bus import Bus
from telesante.regulation import missions
from telesante.regulation.files import changed, require_open, require_regulator
from telesante.regulation.models import Decision, RegulationFile, Resource
from telesante.regulation.schemas import DecisionIn
from telesante.regulation.staff import Member
from telesante.regulation.states import CaseState


async def decide(
    db: AsyncSession, bus: Bus | None, member: Member, file: RegulationFile, data: DecisionIn, signer: Signer
) -> tuple[Decision, dict[str, Any]]:
    """The decision, and what it produced (the crew's link for INTER, the ordonnance for PMT)."""
    require_open(file)
    require_regulator(member, file)
    now = utcnow()
    decision = Decision(
        file_id=file.id,
        author_id=member.user_id,
        kind=data.kind,
        decided_at=now,
        details=data.details,
        orientation=data.orientation,
        destination=data.destination,
        medical_transport=data.medical_transport,
    )
    produced: dict[str, Any] = {}
    if data.kind == "INTER":
        if not data.resource_id:
            raise Invalid.field("resource_id", "choisissez le moyen à engager")
        mission, token = await missions.engage(
            db, bus, file, data.resource_id, by_user_id=member.user_id, now=now
        )
        resource = await db.get(Resource, mission.resource_id)
        decision.mission_id, decision.resource_type = mission.id, resource.resource_type if resource else None
        produced = {"mission_id": mission.id, "crew_link": missions.crew_link(token)}
    elif data.kind == "ORIENT":
        if not data.orientation:
            raise Invalid.field("orientation", "indiquez l'orientation")
        if data.medical_transport is None:
            raise Invalid.field("medical_transport", "précisez si un transport médicalisé est nécessaire")
    elif data.kind == "PMT":
        if not file.patient_id:
            raise Conflict("une prescription par téléphone demande un patient identifié (INS)")
        if not data.prescription:
            raise Invalid.field("prescription", "ajoutez au moins une ligne de médicament")
        prescription, content = await create_prescription(
            db, member.actor, PrescriptionCreate(patient_id=file.patient_id, lines=data.prescription), signer
        )
        decision.prescription_id = prescription.id
        produced = {"prescription_id": prescription.public_id, "content": content}
    if file.state == CaseState.ACHEVE:
        file.state = CaseState.ACTIF  # a new decision reopens a finished file
    db.add(decision)
    await changed(db, bus, member, file, "decision", action="create", reason=data.kind)
    return decision, produced


async def decisions_of(db: AsyncSession, file_id: str) -> list[Decision]:
    return list(
        await db.scalars(select(Decision).where(Decision.file_id == file_id).order_by(Decision.decided_at))
    )
