import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from telesante.audit.service import record
from telesante.deps import CurrentActor, DbSession
from telesante.directory.models import Professional
from telesante.errors import PROBLEM_RESPONSES, Forbidden, NotFound
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.teleconsultation import booking, report, report_pdf, waiting
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.models import Appointment, ConsultationType, Report
from telesante.teleconsultation.schedule import ConsultationTypeIn, PeriodIn

router = APIRouter(prefix="/api", tags=["teleconsultation"], responses=PROBLEM_RESPONSES)


class ConsultationTypeOut(BaseModel):
    id: str
    professional_id: str
    label: str
    duration_minutes: int
    video: bool
    cancel_notice_hours: int


class AppointmentOut(BaseModel):
    id: str
    professional_id: str
    patient_id: str
    consultation_type_id: str
    starts_at: datetime
    ends_at: datetime
    status: str
    waiting_since: datetime | None


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    professional_id: str
    consultation_type_id: str
    starts_at: datetime
    reason: str | None = Field(default=None, max_length=2000, description="motif de consultation")
    referred_by_gp: bool = Field(default=False, description="adressé(e) par son médecin traitant")


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime


class AbsenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime
    ends_at: datetime
    label: str | None = Field(default=None, max_length=120)


class WaitingOut(BaseModel):
    appointment: AppointmentOut
    waited_seconds: int
    patient_name: str


class ProfessionalChoice(BaseModel):
    id: str
    display_name: str
    specialty: str | None
    is_gp_of_record: bool


def out(appointment: Appointment) -> AppointmentOut:
    return AppointmentOut.model_validate(appointment, from_attributes=True)


def bus_of(request: Request) -> Bus:
    runtime_bus: Bus = request.app.state.runtime.bus
    return runtime_bus


@router.put("/agenda/opening-hours")
async def set_opening_hours(periods: list[PeriodIn], db: DbSession, actor: CurrentActor) -> list[PeriodIn]:
    """Replace the weekly opening hours (Europe/Paris wall-clock times)."""
    rows = await agenda.set_opening_hours(db, actor, periods)
    return [PeriodIn(weekday=r.weekday, opens=r.opens, closes=r.closes) for r in rows]


@router.post("/agenda/consultation-types", status_code=status.HTTP_201_CREATED)
async def add_consultation_type(
    data: ConsultationTypeIn, db: DbSession, actor: CurrentActor
) -> ConsultationTypeOut:
    kind = await agenda.add_consultation_type(db, actor, data)
    return ConsultationTypeOut.model_validate(kind, from_attributes=True)


@router.post("/agenda/absences", status_code=status.HTTP_201_CREATED)
async def add_absence(data: AbsenceIn, db: DbSession, actor: CurrentActor) -> AbsenceIn:
    await agenda.add_absence(db, actor, data.starts_at, data.ends_at, data.label)
    return data


@router.get("/teleconsultation/professionals")
async def find_professionals(
    db: DbSession, actor: CurrentActor, q: Annotated[str, Query(max_length=120)] = ""
) -> list[ProfessionalChoice]:
    """Medical professionals offering video consultations; the patient's médecin traitant first."""
    gp_id = None
    if actor.patient_id:
        gp_id = await db.scalar(select(Patient.gp_of_record_id).where(Patient.id == actor.patient_id))
    query = select(Professional).where(
        Professional.id.in_(
            select(ConsultationType.professional_id).where(
                ConsultationType.active.is_(True), ConsultationType.video
            )
        )
    )
    if q.strip():
        pattern = f"%{q.strip()}%"
        query = query.where(Professional.family_name.ilike(pattern) | Professional.specialty.ilike(pattern))
    rows = [p for p in await db.scalars(query.order_by(Professional.family_name).limit(50)) if p.is_medical]
    rows.sort(key=lambda p: p.id != gp_id)
    return [
        ProfessionalChoice(
            id=p.id, display_name=p.display_name, specialty=p.specialty, is_gp_of_record=p.id == gp_id
        )
        for p in rows
    ]


@router.get("/professionals/{professional_id}/consultation-types")
async def consultation_types(
    professional_id: str, db: DbSession, _: CurrentActor
) -> list[ConsultationTypeOut]:
    return [
        ConsultationTypeOut.model_validate(k, from_attributes=True)
        for k in await agenda.types_of(db, professional_id)
    ]


@router.get("/professionals/{professional_id}/slots")
async def free_slots(
    professional_id: str,
    db: DbSession,
    _: CurrentActor,
    consultation_type_id: str,
    from_: Annotated[date, Query(alias="from")],
    to: date,
) -> list[datetime]:
    """Free start times (UTC) between two Paris calendar days, inclusive."""
    kind = await agenda.consultation_type(db, professional_id, consultation_type_id)
    return await agenda.slots(db, professional_id, kind, from_, to)


@router.post(
    "/teleconsultations",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The slot is not (or no longer) free"}},
)
async def book(data: BookingIn, request: Request, db: DbSession, actor: CurrentActor) -> AppointmentOut:
    """A patient books a free slot; exactly one of several racing patients wins it."""
    appointment = await booking.book(
        db,
        bus_of(request),
        actor,
        data.professional_id,
        data.consultation_type_id,
        data.starts_at,
        data.reason,
        data.referred_by_gp,
    )
    record(
        db,
        actor,
        action="create",
        resource_type="Appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
    )
    return out(appointment)


@router.get("/teleconsultations")
async def my_appointments(db: DbSession, actor: CurrentActor) -> list[AppointmentOut]:
    if actor.patient_id:
        condition = Appointment.patient_id == actor.patient_id
    elif actor.professional_id:
        condition = Appointment.professional_id == actor.professional_id
    else:
        raise Forbidden("réservé aux patients et aux professionnels")
    rows = list(await db.scalars(select(Appointment).where(condition).order_by(Appointment.starts_at)))
    for row in rows:
        record(
            db,
            actor,
            action="search",
            resource_type="Appointment",
            resource_id=row.id,
            patient_id=row.patient_id,
        )
    return [out(a) for a in rows]


@router.get("/teleconsultations/{appointment_id}")
async def read_appointment(appointment_id: str, db: DbSession, actor: CurrentActor) -> AppointmentOut:
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    return out(appointment)


@router.post("/teleconsultations/{appointment_id}/cancel")
async def cancel(appointment_id: str, request: Request, db: DbSession, actor: CurrentActor) -> AppointmentOut:
    appointment = await waiting.appointment_for(db, actor, appointment_id, action="update")
    await booking.cancel(db, bus_of(request), actor, appointment)
    return out(appointment)


@router.post("/teleconsultations/{appointment_id}/move")
async def move(
    appointment_id: str, data: MoveIn, request: Request, db: DbSession, actor: CurrentActor
) -> AppointmentOut:
    appointment = await waiting.appointment_for(db, actor, appointment_id, action="update")
    await booking.reschedule(db, bus_of(request), actor, appointment, data.starts_at)
    return out(appointment)


@router.post("/teleconsultations/{appointment_id}/waiting-room")
async def enter_waiting_room(
    appointment_id: str, request: Request, db: DbSession, actor: CurrentActor
) -> AppointmentOut:
    """The patient enters the waiting room, up to 10 minutes before the appointment."""
    appointment = await waiting.appointment_for(db, actor, appointment_id, action="update")
    return out(await waiting.enter(db, bus_of(request), actor, appointment))


@router.post("/teleconsultations/{appointment_id}/admit")
async def admit(appointment_id: str, request: Request, db: DbSession, actor: CurrentActor) -> AppointmentOut:
    appointment = await waiting.appointment_for(db, actor, appointment_id, action="update")
    return out(await waiting.admit(db, bus_of(request), actor, appointment))


@router.get("/waiting-room")
async def waiting_room(db: DbSession, actor: CurrentActor) -> list[WaitingOut]:
    """Who waits for the professional, and for how long."""
    entries = await waiting.waiting_room(db, actor)
    result = []
    for entry in entries:
        patient = await db.get(Patient, entry.appointment.patient_id)
        record(
            db,
            actor,
            action="read",
            resource_type="Appointment",
            resource_id=entry.appointment.id,
            patient_id=entry.appointment.patient_id,
        )
        result.append(
            WaitingOut(
                appointment=out(entry.appointment),
                waited_seconds=int(entry.waited.total_seconds()),
                patient_name=patient.display_name if patient else "",
            )
        )
    return result


class ReportOut(BaseModel):
    id: str
    appointment_id: str
    status: str
    sections: dict[str, str]
    signed_at: datetime | None
    record: dict[str, object]


def report_out(found: Report) -> ReportOut:
    return ReportOut(
        id=found.id,
        appointment_id=found.appointment_id,
        status=found.status,
        sections=json.loads(found.sections),
        signed_at=found.signed_at,
        record=found.record,
    )


@router.get("/report-templates")
async def report_templates(_: CurrentActor) -> dict[str, dict[str, str]]:
    return report.TEMPLATES


@router.put("/teleconsultations/{appointment_id}/report")
async def save_report(
    appointment_id: str, data: report.ReportSections, db: DbSession, actor: CurrentActor
) -> ReportOut:
    """Save the draft of the compte rendu (motif, anamnèse, examen, conclusion, conduite à tenir)."""
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    saved = await report.save_draft(db, actor, appointment, data)
    record(
        db, actor, action="update", resource_type="Report", resource_id=saved.id, patient_id=saved.patient_id
    )
    return report_out(saved)


@router.post("/teleconsultations/{appointment_id}/report/sign")
async def sign_report(appointment_id: str, request: Request, db: DbSession, actor: CurrentActor) -> ReportOut:
    """Sign and lock the compte rendu; it joins the timeline and reaches the médecin traitant."""
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    signed = await report.sign(db, bus_of(request), actor, appointment)
    record(
        db,
        actor,
        action="update",
        resource_type="Report",
        resource_id=signed.id,
        patient_id=signed.patient_id,
    )
    return report_out(signed)


@router.get("/teleconsultations/{appointment_id}/report")
async def read_report(appointment_id: str, db: DbSession, actor: CurrentActor) -> ReportOut:
    appointment = await waiting.appointment_for(db, actor, appointment_id)
    found = await report.report_of(db, appointment)
    if found is None or (actor.patient_id and found.status != "signed"):
        raise NotFound("compte rendu introuvable")
    record(
        db, actor, action="read", resource_type="Report", resource_id=found.id, patient_id=found.patient_id
    )
    return report_out(found)


PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "Le compte rendu signé, imprimable", "content": {"application/pdf": {}}},
    409: {"description": "The report is still a draft (its author asks)"},
}


@router.get("/teleconsultations/{appointment_id}/report.pdf", response_class=Response, responses=PDF)
async def read_report_pdf(appointment_id: str, db: DbSession, actor: CurrentActor) -> Response:
    """The signed compte rendu as a PDF, for the patient, the professional and the patient's care team."""
    appointment = await report.report_appointment(db, actor, appointment_id)
    signed = await report.signed_report(db, actor, appointment)
    data = await report_pdf.report_pdf(db, signed)
    record(
        db,
        actor,
        action="read",
        resource_type="ReportPdf",
        resource_id=signed.id,
        patient_id=signed.patient_id,
    )
    name = f"compte-rendu-{appointment.starts_at.astimezone(report_pdf.PARIS):%Y-%m-%d}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
    )
