"""Sharing a file through the Hub, and keeping the partners it was shared with informed.

A DRM goes to another SAMU as RS-EDA, or to a fire service as RC-EDA. Once a SAMU has it, the
room's resource statuses (RS-SR) and crew bilans (RS-BPV) follow it there. Fire services get
neither: both are 15-15 / 15-SMUR models, which the Hub does not route to NexSIS.
"""

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.errors import Invalid
from telesante.regulation.hub import messages, outbox
from telesante.regulation.models import (
    Bilan,
    Decision,
    HubMessage,
    MedicalNote,
    Mission,
    RegulationFile,
    Resource,
)

# Who may receive what: RS-EDA stays among SAMUs, RC-EDA goes to fire services.
RECIPIENTS = {"RS-EDA": "fr.health.", "RC-EDA": "fr.fire."}


async def share(
    db: AsyncSession, actor: Actor, file: RegulationFile, recipient: str, kind: str, *, sender: str
) -> HubMessage:
    """Queue the file for `recipient`; it leaves once the request's transaction commits."""
    if not recipient.startswith(RECIPIENTS[kind]):
        raise Invalid.field("recipient", f"un message {kind} s'adresse à un identifiant {RECIPIENTS[kind]}…")
    if recipient == sender:
        raise Invalid.field("recipient", "le destinataire est ce centre lui-même")
    if kind == "RS-EDA":
        notes = await db.scalars(
            select(MedicalNote).where(MedicalNote.file_id == file.id).order_by(MedicalNote.created_at)
        )
        decisions = await db.scalars(
            select(Decision).where(Decision.file_id == file.id).order_by(Decision.decided_at)
        )
        body = messages.create_case_health(file, list(notes), list(decisions), sender=sender)
    else:
        body = messages.create_case(file)
    message = await outbox.send(db, kind, recipient, body, file.id, sender=sender)
    record(
        db,
        actor,
        action="share",
        resource_type="RegulationFile",
        resource_id=file.id,
        patient_id=file.patient_id,
        purpose="regulation",
        reason=f"Hub Santé {kind} vers {recipient}",
    )
    return message


async def _samus_sharing(db: AsyncSession, file_id: str) -> dict[str, str]:
    """The SAMUs this file was shared with, each with the Hub id the file was sent as."""
    rows = await db.scalars(
        select(HubMessage).where(
            HubMessage.file_id == file_id, HubMessage.direction == "out", HubMessage.kind == "RS-EDA"
        )
    )
    return {row.peer: json.loads(row.envelope)["senderID"] for row in rows}


async def on_mission_status(db: AsyncSession, mission: Mission, status: str) -> list[HubMessage]:
    """RS-SR to every SAMU the mission's file was shared with (call it after the status change)."""
    file = await db.get(RegulationFile, mission.file_id)
    resource = await db.get(Resource, mission.resource_id)
    assert file is not None and resource is not None
    queued = []
    for recipient, sender in (await _samus_sharing(db, file.id)).items():
        body = messages.resources_status(file, resource, status, mission.status_at, sender=sender)
        queued.append(await outbox.send(db, "RS-SR", recipient, body, file.id, sender=sender))
    return queued


async def on_bilan(db: AsyncSession, bilan: Bilan) -> list[HubMessage]:
    """RS-BPV to every SAMU the bilan's file was shared with."""
    file = await db.get(RegulationFile, bilan.file_id)
    mission = await db.get(Mission, bilan.mission_id)
    assert file is not None and mission is not None
    resource = await db.get(Resource, mission.resource_id)
    assert resource is not None
    body = messages.intervention_report(file, bilan, resource)
    return [
        await outbox.send(db, "RS-BPV", recipient, body, file.id, sender=sender)
        for recipient, sender in (await _samus_sharing(db, file.id)).items()
    ]
