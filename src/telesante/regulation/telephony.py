"""Calls as the centre's telephony connector reports them (docs/regulation-telephony.md).

The connector authenticates with the deployment's telephony secret. Events are idempotent: the
same event twice changes nothing, so the connector may retry. An answered call opens its DR in
the name of the ARM who picked up; the audio stays in the telephony system, referenced here with
its retention (5 years for the calls the SAMU must record, arrêté du 20 octobre 2011;
regulation.md §7).
"""

import hmac
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.db import utcnow
from telesante.directory.models import Organisation, Professional
from telesante.errors import Invalid, NotFound, Unauthorized
from telesante.realtime.bus import Bus
from telesante.regulation import files, live, metrics
from telesante.regulation.codes import Function
from telesante.regulation.models import RegulationCall, RegulationFile, RegulationStaff
from telesante.regulation.schemas import FileOpen, TelephonyEvent
from telesante.regulation.staff import Member
from telesante.settings import Settings

RECORDING_RETENTION = timedelta(days=5 * 365)


def check_secret(settings: Settings, authorization: str | None) -> None:
    expected = settings.telephony_token
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("connecteur de téléphonie non reconnu")


async def handle(
    db: AsyncSession, bus: Bus | None, event: TelephonyEvent
) -> tuple[RegulationCall, RegulationFile | None]:
    centre = await db.scalar(select(Organisation).where(Organisation.finess == event.centre_finess))
    if centre is None or centre.kind != "samu":
        raise NotFound("centre de régulation inconnu")
    at = event.at or utcnow()
    call = await db.scalar(
        select(RegulationCall).where(
            RegulationCall.centre_id == centre.id, RegulationCall.external_id == event.call_id
        )
    )
    if call is None:
        call = RegulationCall(
            centre_id=centre.id,
            external_id=event.call_id,
            line=event.line,
            caller_number=event.caller_number,
            state="ringing",
            received_at=at,
        )
        db.add(call)
        await db.flush()
        metrics.call_received(call)
    if event.recording_ref:
        call.recording_ref = event.recording_ref
        call.recording_kept_until = at + RECORDING_RETENTION
    file = await db.get(RegulationFile, call.file_id) if call.file_id else None
    if event.event == "answered" and call.answered_at is None:
        member = await _agent(db, centre.id, event.agent_rpps)
        call.state, call.answered_at, call.answered_by_id = "answered", at, member.user_id
        metrics.call_answered(call)
        file = await files.open_file(
            db,
            bus,
            member,
            FileOpen(origin=event.line, caller_phone=event.caller_number or call.caller_number),
            call=call,
            now=at,
        )
    elif event.event == "hung_up" and call.ended_at is None:
        call.state, call.ended_at = "ended", at
        if call.answered_at is None:
            metrics.call_abandoned()
    await live.call_changed(db, bus, call)
    return call, file


async def _agent(db: AsyncSession, centre_id: str, rpps: str | None) -> Member:
    """The ARM who picked up, acting in the room (the connector speaks for them)."""
    if not rpps:
        raise Invalid.field("agent_rpps", "l'ARM qui a décroché est requis pour un appel décroché")
    row = (
        await db.execute(
            select(User, RegulationStaff)
            .join(Professional, Professional.id == User.professional_id)
            .join(RegulationStaff, RegulationStaff.professional_id == Professional.id)
            .where(Professional.rpps == rpps, RegulationStaff.centre_id == centre_id)
        )
    ).first()
    if row is None:
        raise Invalid.field("agent_rpps", "cet agent ne travaille pas dans ce centre")
    user, staff = row
    return Member(Actor(user=user, mfa_passed=True, via="system"), centre_id, Function(staff.function))
