"""The SAS GP line: the regulator offers the caller a GP's free slot within 48 h (regulation.md
§1: the SNP line aims at a city appointment within 48 hours) and books it in one click. The slots
are téléconsultation slots of the doctors' Telesante agendas, the patient's médecin traitant first.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.errors import Conflict
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.regulation.files import changed, require_open, require_regulator
from telesante.regulation.models import Decision, RegulationFile
from telesante.regulation.staff import Member
from telesante.teleconsultation import booking
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.agenda import PARIS
from telesante.teleconsultation.models import Appointment, ConsultationType

WINDOW = timedelta(hours=48)
PER_DOCTOR = 3  # the first free slots of each doctor
DOCTORS = 12


async def offers(db: AsyncSession, file: RegulationFile, now: datetime | None = None) -> list[dict[str, Any]]:
    """Free slots within 48 h: the patient's médecin traitant first, then the soonest."""
    now = now or utcnow()
    gp_id = (
        await db.scalar(select(Patient.gp_of_record_id).where(Patient.id == file.patient_id))
        if file.patient_id
        else None
    )
    kinds = (
        await db.execute(
            select(ConsultationType, Professional)
            .join(Professional, Professional.id == ConsultationType.professional_id)
            .where(Professional.profession == "physician")
            .order_by(Professional.family_name)
        )
    ).all()
    found = []
    first_day, last_day = now.astimezone(PARIS).date(), (now + WINDOW).astimezone(PARIS).date()
    for kind, professional in kinds[: DOCTORS * 3]:
        slots = [
            s for s in await agenda.slots(db, professional.id, kind, first_day, last_day) if s <= now + WINDOW
        ]
        found += [
            {
                "professional_id": professional.id,
                "professional": professional.display_name,
                "specialty": professional.specialty,
                "gp_of_record": professional.id == gp_id,
                "type_id": kind.id,
                "type": kind.label,
                "starts_at": start.isoformat(),
            }
            for start in slots[:PER_DOCTOR]
        ]
    found.sort(key=lambda offer: (not offer["gp_of_record"], offer["starts_at"]))
    return found


async def book(
    db: AsyncSession,
    bus: Bus | None,
    member: Member,
    file: RegulationFile,
    professional_id: str,
    type_id: str,
    starts_at: datetime,
) -> Appointment:
    """The appointment, and the regulator's decision that names it (ORIENT to a cabinet)."""
    require_open(file)
    require_regulator(member, file)
    if not file.patient_id:
        raise Conflict("un rendez-vous demande un patient identifié (INS) dans Telesante")
    appointment = await booking.book_in_agenda_of(
        db,
        bus,
        member.actor,
        file.patient_id,
        professional_id,
        type_id,
        starts_at,
        file.motive,
        timeline_title="Rendez-vous de soins non programmés (SAS)",
        announcement="Rendez-vous pris par le SAMU – SAS",
    )
    db.add(
        Decision(
            file_id=file.id,
            author_id=member.user_id,
            kind="ORIENT",
            decided_at=utcnow(),
            orientation="CABINET",
            medical_transport=False,
            appointment_id=appointment.id,
            details=f"Rendez-vous SAS le {starts_at.astimezone(PARIS):%d/%m/%Y à %H:%M}",
        )
    )
    await changed(db, bus, member, file, "decision", action="create", reason="rendez-vous SAS")
    return appointment
