"""Starting a téléassistance session, ringing a doctor or a team, the first acceptance, the guided
steps, the captured stills, the end and its report.

Access: the session is the assisted professional's and, once accepted, the doctor's; while it
rings, the doctors it rings see who calls and for what, nothing else. Anyone else gets 404.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record, record_denied
from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.consent.service import require_consent
from telesante.db import after_commit, utcnow
from telesante.directory.models import Professional, professional_organisations
from telesante.directory.professions import Profession, is_medical
from telesante.documents import service as documents
from telesante.documents.sniff import JPEG, PDF, PNG
from telesante.errors import Conflict, Forbidden, Invalid, NotFound
from telesante.jobs.queue import job_handler, schedule
from telesante.notifications.service import notify
from telesante.patients.access import access_patient
from telesante.patients.models import CareRelation
from telesante.realtime.bus import Bus, user_channel
from telesante.teleassistance.checklists import CHECKLISTS
from telesante.teleassistance.lifecycle import RING_FOR, Status, require
from telesante.teleassistance.models import AssistanceCapture, AssistanceSession, AssistanceStep
from telesante.teleassistance.schemas import Mark, StartIn
from telesante.teleconsultation.models import Appointment
from telesante.timeline.service import add_entry

MISSED_JOB = "teleassistance.missed"
CARE_AFTER = timedelta(days=7)  # the doctor reads the record and the report a week after the act
IN_PROGRESS = frozenset({"admitted", "in_call"})  # the téléconsultation statuses a session starts from
NOT_FOUND = "session de téléassistance introuvable"


async def start(db: AsyncSession, bus: Bus | None, actor: Actor, data: StartIn) -> AssistanceSession:
    assisted = await _professional(db, actor)
    if assisted.profession == Profession.call_taker:
        raise Forbidden("la téléassistance aide un professionnel de santé pendant un acte")
    patient = await access_patient(
        db, actor, data.patient_id, action="create", resource_type="AssistanceSession"
    )
    consent = await require_consent(db, patient.id, "teleassistance")
    if data.appointment_id:
        await _in_progress(db, data.appointment_id, patient.id)
    session = AssistanceSession(
        patient_id=patient.id,
        consent_id=consent.id,
        assisted_id=assisted.id,
        assisted_user_id=actor.user.id,
        act=data.act,
        status=Status.calling,
        called_id=data.doctor_id,
        team_organisation_id=data.team_organisation_id,
        team_specialty=data.team_specialty,
        appointment_id=data.appointment_id,
        incidents=[],
    )
    db.add(session)
    await db.flush()
    doctors = await ringing(db, session)
    if not doctors:
        raise Invalid.field("doctor_id" if data.doctor_id else "team_specialty", "aucun médecin à appeler")
    for user_id in doctors.values():
        await notify(
            db,
            bus,
            user_id,
            "Téléassistance demandée",
            f"{assisted.display_name} demande votre aide : {data.act}",
            link=f"/teleassistance/{session.id}",
            email=False,
        )
        _push(db, bus, user_id, session, "ringing")
    await schedule(
        db,
        MISSED_JOB,
        {"session_id": session.id},
        due_at=utcnow() + RING_FOR,
        dedupe_key=f"{MISSED_JOB}:{session.id}",
    )
    record(
        db,
        actor,
        action="create",
        resource_type="AssistanceSession",
        resource_id=session.id,
        patient_id=patient.id,
    )
    return session


async def _professional(db: AsyncSession, actor: Actor) -> Professional:
    if actor.role != "professional" or not actor.professional_id:
        raise Forbidden("réservé aux professionnels de santé")
    professional = await db.get(Professional, actor.professional_id)
    assert professional is not None
    return professional


async def _in_progress(db: AsyncSession, appointment_id: str, patient_id: str) -> None:
    appointment = await db.get(Appointment, appointment_id)
    if appointment is None or appointment.patient_id != patient_id:
        raise Invalid.field("appointment_id", "téléconsultation introuvable pour ce patient")
    if appointment.status not in IN_PROGRESS:
        raise Conflict("la téléconsultation n'est pas en cours")


async def ringing(db: AsyncSession, session: AssistanceSession) -> dict[str, str]:
    """The doctors this session rings, professional id → user id: the named one, or the team's
    médecins (a specialty within an organisation), never the caller."""
    query = select(Professional.id, Professional.profession, User.id).join(
        User, User.professional_id == Professional.id
    )
    if session.called_id:
        query = query.where(Professional.id == session.called_id)
    else:
        query = query.join(
            professional_organisations, professional_organisations.c.professional_id == Professional.id
        ).where(
            professional_organisations.c.organisation_id == session.team_organisation_id,
            func.lower(Professional.specialty) == func.lower(session.team_specialty or ""),
        )
    rows = await db.execute(query.where(Professional.id != session.assisted_id, User.is_active.is_(True)))
    return {pro: user for pro, profession, user in rows if is_medical(profession)}


def _push(db: AsyncSession, bus: Bus | None, user_id: str, session: AssistanceSession, state: str) -> None:
    if bus is None:
        return
    message = {"type": "assistance_call", "session_id": session.id, "state": state}
    after_commit(db, lambda: bus.publish(user_channel(user_id), message))


async def session_for(
    db: AsyncSession, actor: Actor, session_id: str, *, action: str = "read"
) -> AssistanceSession:
    """The session if the actor takes part (or is being rung); one audited 404 otherwise."""
    session = await db.get(AssistanceSession, session_id)
    if session is not None and await _takes_part(db, actor, session):
        record(
            db,
            actor,
            action=action,
            resource_type="AssistanceSession",
            resource_id=session.id,
            patient_id=session.patient_id,
        )
        return session
    record_denied(
        db,
        actor,
        action=action,
        resource_type="AssistanceSession",
        resource_id=session_id,
        patient_id=session.patient_id if session else None,
        purpose="care",
    )
    raise NotFound(NOT_FOUND)


async def _takes_part(db: AsyncSession, actor: Actor, session: AssistanceSession) -> bool:
    if actor.role != "professional" or not actor.professional_id:
        return False
    if actor.user.id == session.assisted_user_id or actor.professional_id == session.doctor_id:
        return True
    return session.status == Status.calling and actor.professional_id in await ringing(db, session)


async def calls_for(db: AsyncSession, actor: Actor) -> list[AssistanceSession]:
    """The sessions ringing for this doctor now, oldest first."""
    if actor.role != "professional" or not actor.professional_id:
        return []
    calling = await db.scalars(
        select(AssistanceSession)
        .where(AssistanceSession.status == Status.calling)
        .order_by(AssistanceSession.created_at)
    )
    return [s for s in calling if actor.professional_id in await ringing(db, s)]


def role_in(actor: Actor, session: AssistanceSession) -> str:
    if actor.user.id == session.assisted_user_id:
        return "assisted"
    return "doctor" if actor.professional_id == session.doctor_id else "rung"


async def accept(
    db: AsyncSession, bus: Bus | None, actor: Actor, session: AssistanceSession
) -> AssistanceSession:
    """The first doctor to accept gets the session (one guarded UPDATE); the others stop ringing."""
    rung = await ringing(db, session)
    if actor.professional_id not in rung:
        raise NotFound(NOT_FOUND)
    now = utcnow()
    won = await db.execute(
        update(AssistanceSession)
        .where(
            AssistanceSession.id == session.id,
            AssistanceSession.status == Status.calling,
            AssistanceSession.doctor_id.is_(None),
        )
        .values(status=Status.active, doctor_id=actor.professional_id, accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        await db.refresh(session)
        raise Conflict(
            "cette téléassistance a déjà été prise" if session.doctor_id else "cet appel n'est plus en cours"
        )
    await db.refresh(session)
    db.add(
        CareRelation(
            patient_id=session.patient_id,
            professional_id=actor.professional_id or "",
            reason="act",
            starts_at=now,
            ends_at=now + CARE_AFTER,
            created_by_user_id=actor.user.id,
        )
    )
    for professional_id, user_id in rung.items():
        if professional_id != actor.professional_id:
            _push(db, bus, user_id, session, "taken")
    _push(db, bus, session.assisted_user_id, session, "accepted")
    return session


async def cancel(
    db: AsyncSession, bus: Bus | None, actor: Actor, session: AssistanceSession
) -> AssistanceSession:
    if role_in(actor, session) != "assisted":
        raise Forbidden("seul le professionnel qui appelle peut annuler l'appel")
    require(session.status, Status.calling)
    session.status = Status.cancelled
    for user_id in (await ringing(db, session)).values():
        _push(db, bus, user_id, session, "cancelled")
    return session


@job_handler(MISSED_JOB)
async def missed(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    session = await db.get(AssistanceSession, payload["session_id"])
    if session is None or session.status != Status.calling:
        return
    session.status = Status.missed
    for user_id in (await ringing(db, session)).values():
        _push(db, bus, user_id, session, "missed")
    await notify(
        db,
        bus,
        session.assisted_user_id,
        "Téléassistance sans réponse",
        "Aucun médecin n'a accepté votre appel à temps.",
        link=f"/teleassistance/{session.id}",
        email=False,
    )


async def pick_checklist(
    db: AsyncSession, actor: Actor, session: AssistanceSession, code: str
) -> list[AssistanceStep]:
    if role_in(actor, session) != "doctor":
        raise Forbidden("le médecin qui assiste choisit la liste d'étapes")
    require(session.status, Status.active)
    if code not in CHECKLISTS:
        raise Invalid.field("checklist", f"liste inconnue ; listes : {', '.join(CHECKLISTS)}")
    if session.checklist:
        raise Conflict("une liste d'étapes est déjà choisie pour cette session")
    session.checklist = code
    steps = [
        AssistanceStep(session_id=session.id, position=i, label=label)
        for i, label in enumerate(CHECKLISTS[code][1])
    ]
    db.add_all(steps)
    await db.flush()
    return steps


async def tick(db: AsyncSession, actor: Actor, session: AssistanceSession, position: int) -> AssistanceStep:
    require(session.status, Status.active)
    step = await db.scalar(
        select(AssistanceStep).where(
            AssistanceStep.session_id == session.id, AssistanceStep.position == position
        )
    )
    if step is None:
        raise NotFound("étape introuvable")
    if step.done_at is None:
        step.done_at, step.done_by_user_id = utcnow(), actor.user.id
    return step


async def steps_of(db: AsyncSession, session: AssistanceSession) -> list[AssistanceStep]:
    return list(
        await db.scalars(
            select(AssistanceStep)
            .where(AssistanceStep.session_id == session.id)
            .order_by(AssistanceStep.position)
        )
    )


async def capture(
    db: AsyncSession,
    actor: Actor,
    session: AssistanceSession,
    data: bytes,
    content_type: str,
    source: str,
    marks: list[Mark],
) -> AssistanceCapture:
    """A still (as the doctor annotated it) into the patient's record, encrypted, with its marks."""
    require(session.status, Status.active)
    declared = documents.accepted_kind(content_type)
    if declared not in (JPEG, PNG):
        raise Invalid.field("content", "image JPEG ou PNG attendue")
    file = await documents.clean(data, declared, f"teleassistance{declared.extension}")
    document = await documents.store(
        db,
        session.patient_id,
        actor.user.id,
        file,
        title="Image de téléassistance",
        summary=f"Image annotée pendant la téléassistance ({source})",
        author_professional_id=actor.professional_id,
    )
    shot = AssistanceCapture(
        session_id=session.id,
        document_id=document.id,
        taken_by_user_id=actor.user.id,
        source=source,
        marks=[m.model_dump() for m in marks],
    )
    db.add(shot)
    await db.flush()
    return shot


async def captures_of(db: AsyncSession, session: AssistanceSession) -> list[AssistanceCapture]:
    return list(
        await db.scalars(
            select(AssistanceCapture)
            .where(AssistanceCapture.session_id == session.id)
            .order_by(AssistanceCapture.created_at)
        )
    )


def add_incident(session: AssistanceSession, kind: str, at: datetime | None = None) -> None:
    """A technical incident the report must show (R6316-4): a drop, a reconnection, a relay…"""
    require(session.status, Status.active)
    if len(session.incidents) >= 200:
        raise Conflict("trop d'incidents enregistrés pour cette session")
    session.incidents = [*session.incidents, {"kind": kind, "at": (at or utcnow()).isoformat()}]


async def end(db: AsyncSession, actor: Actor, session: AssistanceSession) -> AssistanceSession:
    """Ends the session and files its report (PDF, on the timeline)."""
    from telesante.teleassistance import report_pdf  # the report reads this module's helpers

    require(session.status, Status.active)
    session.status, session.ended_at = Status.ended, utcnow()
    await db.flush()
    content = await report_pdf.render(db, session)
    file = documents.CleanFile(PDF, content, "teleassistance.pdf")
    report = await documents.store(
        db,
        session.patient_id,
        actor.user.id,
        file,
        title="Compte rendu de téléassistance",
        summary=f"Téléassistance : {session.act}",
        author_professional_id=session.doctor_id,
    )
    session.report_document_id = report.id
    add_entry(
        db,
        session.patient_id,
        kind="teleassistance",
        title="Téléassistance médicale",
        summary=session.act,
        occurred_at=session.accepted_at or session.created_at,
        source_type="AssistanceSession",
        source_id=session.id,
        author_professional_id=session.doctor_id,
    )
    return session
