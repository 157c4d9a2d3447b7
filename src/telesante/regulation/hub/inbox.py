"""What arrives on this client's queue, handled in one transaction with its answer.

Each message is parsed, deduplicated on its distribution id, checked against its model, then
applied; its "in" row is stored and the answer (RC-REF, or RS-ERROR with the Hub's error code)
is queued in the outbox of the same transaction. A refused message changes nothing else.
"""

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.models import User
from telesante.db import utcnow
from telesante.realtime.bus import Bus
from telesante.regulation import live
from telesante.regulation.hub import messages, outbox
from telesante.regulation.hub.envelope import Envelope, Malformed, parse
from telesante.regulation.hub.kinds import ACKNOWLEDGED, Failure, InvalidContent, Kind, kind_of, validate
from telesante.regulation.models import (
    HubMessage,
    MedicalNote,
    Mission,
    MissionStatus,
    RegulationFile,
    RegulationStaff,
)
from telesante.regulation.states import CaseState

HUB_ID = re.compile(r"^[\w.-]{3,60}$")
MAX_CASE_ID = 80  # regulation_files.case_id


@dataclass(frozen=True)
class Arrival:
    """One delivery: the body, and the AMQP properties that stand in for an unreadable envelope."""

    body: bytes
    message_id: str | None = None
    app_id: str | None = None


@dataclass(frozen=True)
class Context:
    db: AsyncSession
    bus: Bus | None
    me: str  # this client's Hub id
    envelope: Envelope


class Refused(Exception):
    def __init__(self, failure: Failure, cause: str) -> None:
        super().__init__(cause)
        self.failure, self.cause = failure, cause


async def receive(db: AsyncSession, bus: Bus | None, me: str, arrival: Arrival) -> str:
    """Handle one delivery in the caller's transaction; the outcome, for the metrics."""
    try:
        envelope = parse(arrival.body)
    except Malformed as malformed:
        return await _unreadable(db, me, arrival, str(malformed))
    if await _known(db, envelope.distribution_id):
        return "duplicate"
    try:
        kind, file_id = await _apply(Context(db, bus, me, envelope))
    except Refused as refused:
        await _refuse(db, me, arrival, envelope, refused)
        return "refused"
    _store(db, envelope.distribution_id, envelope.sender_id, kind.code, arrival, file_id=file_id)
    if kind.code in ACKNOWLEDGED:
        reply = messages.reference(envelope.distribution_id)
        await outbox.send(db, "RC-REF", envelope.sender_id, reply, file_id, sender=me)
    return "done"


async def _apply(context: Context) -> tuple[Kind, str | None]:
    """Checked against its model, then applied in a savepoint: a refusal halfway leaves nothing."""
    kind = kind_of(context.envelope.message)
    if kind is None:
        raise Refused(Failure.SCHEMA_NOT_FOUND, "type de message inconnu ou absent du contenu")
    try:
        validate(kind, context.envelope.message)
    except InvalidContent as invalid:
        raise Refused(Failure.INVALID_MESSAGE, str(invalid)) from None
    async with context.db.begin_nested():
        return kind, await HANDLERS.get(kind.code, _attach)(context)


async def _unreadable(db: AsyncSession, me: str, arrival: Arrival, reason: str) -> str:
    """No envelope to go by: the AMQP message id and app id name the message and its sender."""
    distribution_id = (arrival.message_id or f"inconnu_{uuid.uuid4()}")[:120]
    if await _known(db, distribution_id):
        return "duplicate"
    _store(db, distribution_id, arrival.app_id or "inconnu", "inconnu", arrival, error=reason)
    if arrival.app_id and HUB_ID.match(arrival.app_id):
        reply = messages.error(Failure.UNRECOGNIZED_MESSAGE_FORMAT, reason, distribution_id)
        await outbox.send(db, "RS-ERROR", arrival.app_id, reply, sender=me)
    return "refused"


async def _known(db: AsyncSession, distribution_id: str) -> bool:
    found = await db.scalar(
        select(HubMessage.id).where(
            HubMessage.direction == "in", HubMessage.distribution_id == distribution_id
        )
    )
    return found is not None


def _store(
    db: AsyncSession,
    distribution_id: str,
    sender: str,
    kind: str,
    arrival: Arrival,
    *,
    file_id: str | None = None,
    error: str | None = None,
) -> None:
    db.add(
        HubMessage(
            direction="in",
            distribution_id=distribution_id,
            kind=kind,
            peer=sender[:60],
            file_id=file_id,
            envelope=arrival.body.decode(errors="replace"),
            status="error" if error else "done",
            error=error[:400] if error else None,
        )
    )


async def _refuse(db: AsyncSession, me: str, arrival: Arrival, envelope: Envelope, refused: Refused) -> None:
    """Store the refusal and tell the sender why; an error or an ack is never answered by an error."""
    kind = kind_of(envelope.message)
    code = kind.code if kind else "inconnu"
    _store(db, envelope.distribution_id, envelope.sender_id, code, arrival, error=refused.cause)
    if code not in {"RS-ERROR", "RC-REF"}:
        reply = messages.error(refused.failure, refused.cause, envelope.distribution_id)
        await outbox.send(db, "RS-ERROR", envelope.sender_id, reply, sender=me)


async def _shared_case(context: Context) -> str:
    """RS-EDA: the DRM becomes a file of this centre (once per caseId), opened in the name of the
    room's first member: the file needs an author, and no one here wrote it."""
    case = context.envelope.message["createCaseHealth"]
    if len(case["caseId"]) > MAX_CASE_ID:
        raise Refused(Failure.INVALID_MESSAGE, f"caseId : {MAX_CASE_ID} caractères au plus")
    db, sender = context.db, context.envelope.sender_id
    existing = await db.scalar(select(RegulationFile).where(RegulationFile.case_id == case["caseId"]))
    if existing is not None:
        return existing.id
    centre_id, author_id = await _room(db)
    file = RegulationFile(
        centre_id=centre_id,
        state=CaseState.ACTIF,
        origin="CRRA",  # the Hub's origin code for a call passed on by another regulation centre
        opened_by_id=author_id,
        shared_from=sender,
        number=await _next_number(db, centre_id),
        **messages.file_fields(case),
    )
    db.add(file)
    await db.flush()
    for role, text in messages.shared_notes(case):
        db.add(
            MedicalNote(
                file_id=file.id, author_id=author_id, role=role, text=f"Transmis par {sender} : {text}"
            )
        )
    record(
        db,
        None,
        action="create",
        resource_type="RegulationFile",
        resource_id=file.id,
        purpose="regulation",
        reason=f"dossier partagé par {sender} (Hub Santé)",
    )
    await live.room_changed(db, context.bus, file, "opened")
    return file.id


async def _room(db: AsyncSession) -> tuple[str, str]:
    """The centre this connector serves, and the user of its first member."""
    row = (
        await db.execute(
            select(RegulationStaff.centre_id, User.id)
            .join(User, User.professional_id == RegulationStaff.professional_id)
            .order_by(RegulationStaff.created_at, RegulationStaff.id)
            .limit(1)
        )
    ).first()
    if row is None:
        raise Refused(Failure.INVALID_MESSAGE, "dossier non intégré : aucune salle de régulation ici")
    return row[0], row[1]


async def _next_number(db: AsyncSession, centre_id: str) -> int:
    """After the centre's highest number of the day (UTC, as the room numbers its own files)."""
    day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    latest = await db.scalar(
        select(RegulationFile.number)
        .where(RegulationFile.centre_id == centre_id, RegulationFile.created_at >= day)
        .order_by(RegulationFile.number.desc())
        .limit(1)
    )
    return (latest or 0) + 1


async def _file_id(db: AsyncSession, case_id: str) -> str | None:
    return await db.scalar(select(RegulationFile.id).where(RegulationFile.case_id == case_id))


async def _resource_status(context: Context) -> str | None:
    """RS-SR: kept with the file it names; the mission of that file and resource, if there is one
    here, gets the status in its history."""
    status = context.envelope.message["resourcesStatus"]
    file_id = await _file_id(context.db, status["caseId"])
    if file_id is None:
        return None
    resource_id = status["resourceId"].rsplit(".", 1)[-1]
    mission = await context.db.scalar(
        select(Mission).where(Mission.file_id == file_id, Mission.resource_id == resource_id)
    )
    if mission is not None:
        state = status["state"]
        at = datetime.fromisoformat(state["datetime"])
        context.db.add(MissionStatus(mission_id=mission.id, status=state["status"], at=at, by="hub"))
        file = await context.db.get(RegulationFile, file_id)
        assert file is not None
        await live.room_changed(context.db, context.bus, file, "mission")
    return file_id


async def _attach(context: Context) -> str | None:
    """RC-EDA, RS-BPV: kept, with the file they name if it is here."""
    kind = kind_of(context.envelope.message)
    assert kind is not None
    content: dict[str, Any] = context.envelope.message[kind.root]
    return await _file_id(context.db, content["caseId"])


async def _reference(context: Context) -> str | None:
    reference = context.envelope.message["reference"]
    row = await outbox.acknowledged(context.db, reference["distributionID"], context.envelope.sender_id)
    return row.file_id if row else None


async def _error(context: Context) -> str | None:
    error = context.envelope.message["error"]
    cause = f"{error['errorCode']['statusString']} : {error['errorCause']}"
    row = await outbox.refused(
        context.db, error["referencedDistributionID"], context.envelope.sender_id, cause
    )
    return row.file_id if row else None


HANDLERS: dict[str, Callable[[Context], Awaitable[str | None]]] = {
    "RS-EDA": _shared_case,
    "RS-SR": _resource_status,
    "RC-REF": _reference,
    "RS-ERROR": _error,
}
