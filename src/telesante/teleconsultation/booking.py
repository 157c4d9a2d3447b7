"""Booking, cancelling and moving a téléconsultation; confirmation and reminders.

Reminders are durable timers (jobs): the day before and one hour before. Their dedupe key holds
the start time, so a restart never repeats one, and a moved appointment's old reminders find the
start time changed and do nothing.
"""

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.db import utcnow
from telesante.errors import Conflict, Forbidden, NotFound
from telesante.jobs.queue import job_handler, schedule
from telesante.notifications.service import notify
from telesante.patients.models import CareRelation
from telesante.realtime.bus import Bus
from telesante.settings import get_settings
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.agenda import PARIS
from telesante.teleconsultation.ics import invitation
from telesante.teleconsultation.lifecycle import Status, move
from telesante.teleconsultation.models import Appointment
from telesante.timeline.service import add_entry

REMINDER_JOB = "teleconsultation.reminder"
REMINDERS = {"day_before": timedelta(days=1), "hour_before": timedelta(hours=1)}
CARE_AFTER = timedelta(days=7)  # the act's care relation outlasts the call, for the compte rendu
log = structlog.get_logger()


async def book(
    db: AsyncSession,
    bus: Bus | None,
    actor: Actor,
    professional_id: str,
    type_id: str,
    starts_at: datetime,
    reason: str | None,
    referred_by_gp: bool = False,
) -> Appointment:
    if actor.role != "patient" or not actor.patient_id:
        raise Forbidden("un patient réserve pour lui-même")
    appointment = await _reserve(
        db, actor, actor.patient_id, professional_id, type_id, starts_at, reason, referred_by_gp
    )
    await _open_to(db, actor, appointment, "Téléconsultation réservée")
    await _announce(db, bus, appointment, "Téléconsultation confirmée")
    return appointment


async def book_for_patient(
    db: AsyncSession,
    bus: Bus | None,
    actor: Actor,
    patient_id: str,
    type_id: str,
    starts_at: datetime,
    reason: str | None,
    *,
    timeline_title: str,
    announcement: str,
) -> Appointment:
    """A professional books one of their own slots for a patient the access gate handed out (after
    a télésurveillance alert, an expert's request…): the same checks as the patient's booking, and
    the patient is told, e-mailed the .ics and reminded the same way."""
    if actor.role != "professional" or not actor.professional_id:
        raise Forbidden("un professionnel réserve dans son propre agenda")
    appointment = await _reserve(
        db, actor, patient_id, actor.professional_id, type_id, starts_at, reason, False
    )
    add_entry(
        db,
        patient_id,
        kind="teleconsultation",
        title=timeline_title,
        occurred_at=starts_at,
        source_type="Appointment",
        source_id=appointment.id,
        author_professional_id=actor.professional_id,
    )
    await _announce(db, bus, appointment, announcement)
    return appointment


async def book_in_agenda_of(
    db: AsyncSession,
    bus: Bus | None,
    actor: Actor,
    patient_id: str,
    professional_id: str,
    type_id: str,
    starts_at: datetime,
    reason: str | None,
    *,
    timeline_title: str,
    announcement: str,
) -> Appointment:
    """A regulator of the SAS books a doctor's free slot for a caller who is a Telesante patient
    (the regulation module checks who may): as for the patient's own booking, the doctor gets the
    act's care relation and the patient is told and reminded."""
    appointment = await _reserve(db, actor, patient_id, professional_id, type_id, starts_at, reason, False)
    await _open_to(db, actor, appointment, timeline_title)
    await _announce(db, bus, appointment, announcement)
    return appointment


async def _open_to(db: AsyncSession, actor: Actor, appointment: Appointment, timeline_title: str) -> None:
    """The booked professional may see the patient until a week after the call (the compte rendu);
    the booking is on the patient's timeline."""
    db.add(
        CareRelation(
            patient_id=appointment.patient_id,
            professional_id=appointment.professional_id,
            reason="act",
            starts_at=utcnow(),
            ends_at=appointment.ends_at + CARE_AFTER,
            created_by_user_id=actor.user.id,
        )
    )
    add_entry(
        db,
        appointment.patient_id,
        kind="teleconsultation",
        title=timeline_title,
        occurred_at=appointment.starts_at,
        source_type="Appointment",
        source_id=appointment.id,
        author_professional_id=actor.professional_id,
    )


async def _reserve(
    db: AsyncSession,
    actor: Actor,
    patient_id: str,
    professional_id: str,
    type_id: str,
    starts_at: datetime,
    reason: str | None,
    referred_by_gp: bool,
) -> Appointment:
    """A free slot of the professional's agenda becomes the patient's appointment, or a clear 409."""
    await agenda.require_professional(db, professional_id)
    kind = await agenda.consultation_type(db, professional_id, type_id)
    local_day = starts_at.astimezone(PARIS).date()
    if starts_at not in await agenda.slots(db, professional_id, kind, local_day, local_day):
        raise Conflict("ce créneau n'est pas libre")
    appointment = Appointment(
        professional_id=professional_id,
        patient_id=patient_id,
        consultation_type_id=kind.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=kind.duration_minutes),
        status="booked",
        reason=reason,
        referred_by_gp=referred_by_gp,
        booked_by_user_id=actor.user.id,
        incidents=[],
    )
    db.add(appointment)
    try:
        await db.flush()  # the unique index settles a race for the slot
    except IntegrityError:  # the edge rolls the whole request back
        raise Conflict("ce créneau vient d'être réservé par quelqu'un d'autre") from None
    return appointment


async def cancel(db: AsyncSession, bus: Bus | None, actor: Actor, appointment: Appointment) -> Appointment:
    await _check_notice(db, actor, appointment)
    move(appointment, Status.cancelled)
    add_entry(
        db,
        appointment.patient_id,
        kind="teleconsultation",
        title="Téléconsultation annulée",
        source_type="Appointment",
        source_id=appointment.id,
    )
    await _announce(db, bus, appointment, "Téléconsultation annulée")
    return appointment


async def reschedule(
    db: AsyncSession, bus: Bus | None, actor: Actor, appointment: Appointment, starts_at: datetime
) -> Appointment:
    await _check_notice(db, actor, appointment)
    if appointment.status != Status.booked:
        raise Conflict("seul un rendez-vous réservé peut être déplacé")
    kind = await agenda.consultation_type(db, appointment.professional_id, appointment.consultation_type_id)
    local_day = starts_at.astimezone(PARIS).date()
    if starts_at not in await agenda.slots(db, appointment.professional_id, kind, local_day, local_day):
        raise Conflict("ce créneau n'est pas libre")
    appointment.starts_at, appointment.ends_at = (
        starts_at,
        starts_at + (appointment.ends_at - appointment.starts_at),
    )
    try:
        await db.flush()
    except IntegrityError:
        raise Conflict("ce créneau vient d'être réservé par quelqu'un d'autre") from None
    await _announce(db, bus, appointment, "Téléconsultation déplacée")
    return appointment


async def _check_notice(db: AsyncSession, actor: Actor, appointment: Appointment) -> None:
    if actor.role == "professional" and actor.professional_id == appointment.professional_id:
        return  # the professional may always cancel their own appointment
    if actor.patient_id != appointment.patient_id:
        raise NotFound("rendez-vous introuvable")
    kind = await agenda.consultation_type(db, appointment.professional_id, appointment.consultation_type_id)
    if appointment.starts_at - utcnow() < timedelta(hours=kind.cancel_notice_hours):
        raise Conflict(
            f"ce professionnel demande d'annuler ou déplacer au moins {kind.cancel_notice_hours} h avant"
        )


async def _announce(db: AsyncSession, bus: Bus | None, appointment: Appointment, title: str) -> None:
    """Tell the patient now (in the app, and by e-mail with the .ics), then schedule the reminders."""
    patient_user = await db.scalar(select(User).where(User.patient_id == appointment.patient_id))
    if patient_user is None:
        return
    when = appointment.starts_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    await notify(
        db,
        bus,
        patient_user.id,
        title,
        f"Rendez-vous le {when}.",
        link=f"/teleconsultations/{appointment.id}",
        email=False,
    )
    await schedule(
        db,
        REMINDER_JOB,
        _payload(appointment, patient_user, title),
        dedupe_key=f"tlc:{appointment.id}:{title}:{appointment.starts_at.isoformat()}",
    )
    if appointment.status == Status.cancelled:
        return
    for name, before in REMINDERS.items():
        due = appointment.starts_at - before
        if due > utcnow():
            await schedule(
                db,
                REMINDER_JOB,
                _payload(appointment, patient_user, "Rappel de téléconsultation"),
                due_at=due,
                dedupe_key=f"tlc:{appointment.id}:{name}:{appointment.starts_at.isoformat()}",
            )


def _payload(appointment: Appointment, user: User, title: str) -> dict[str, Any]:
    return {
        "appointment_id": appointment.id,
        "user_id": user.id,
        "title": title,
        "starts_at": appointment.starts_at.isoformat(),
    }


@job_handler(REMINDER_JOB)
async def send_reminder(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    appointment = await db.get(Appointment, payload["appointment_id"])
    user = await db.get(User, payload["user_id"])
    if appointment is None or user is None:
        return
    if appointment.starts_at.isoformat() != payload["starts_at"]:
        return  # moved since: the new time has its own reminders
    cancelled = appointment.status == Status.cancelled
    if cancelled and payload["title"] != "Téléconsultation annulée":
        return
    if payload["title"].startswith("Rappel"):
        when = appointment.starts_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
        await notify(
            db,
            bus,
            user.id,
            "Rappel de téléconsultation",
            f"Rendez-vous le {when}.",
            link=f"/teleconsultations/{appointment.id}",
            email=False,
        )
    await _email(appointment, user, payload["title"])


async def _email(appointment: Appointment, user: User, title: str) -> None:
    settings = get_settings()
    if not settings.smtp_host:
        return
    link = f"{settings.base_url}/teleconsultations/{appointment.id}"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        settings.smtp_sender,
        user.email,
        f"Telesante : {title}",
    )
    when = appointment.starts_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    message.set_content(f"Bonjour,\n\n{title} : le {when} (heure de Paris).\nSalle d'attente : {link}\n")
    message.add_attachment(
        invitation(appointment, link, utcnow()).encode(),
        maintype="text",
        subtype="calendar",
        filename="teleconsultation.ics",
    )
    await aiosmtplib.send(message, hostname=settings.smtp_host, port=settings.smtp_port, timeout=20)
