"""The close of each month: for every program that ran during it, the monthly report (a PDF
document of the record, filed on the timeline) and the operator forfait when its conditions hold.

Durable jobs (ADR 0005): `monitoring.monthly_close` runs two hours after the month's last Paris
midnight (late uploads land first), schedules one `monitoring.program_month` per program (each in
its own transaction, retried alone if it fails) and the next month's close. The chain starts from
`ensure_scheduled` (the operators' dashboard, the prescriber's on-demand report, the demo).

Idempotent by construction: a month's report is the document whose id derives from (program,
month), its forfait the billing line whose act id derives from the same pair; a rerun or a restart
finds them and adds nothing. So at most one forfait per program (patient × activity) and month.
A prescriber may ask for the report at any time: for a month still running it is an interim
report (one per day), which never bills.
"""

import hashlib
import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.billing import months
from telesante.billing.models import BillingLine
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.documents.models import Document
from telesante.errors import Forbidden, Invalid
from telesante.jobs.queue import job_handler, schedule
from telesante.monitoring import engine, forfait, report_pdf, wording
from telesante.monitoring.forfait import Assessment, month_name
from telesante.monitoring.models import Program
from telesante.monitoring.month_data import MonthData, month_data
from telesante.realtime.bus import Bus
from telesante.timeline.service import add_entry

PARIS = ZoneInfo("Europe/Paris")
MONTHLY_JOB = "monitoring.monthly_close"
PROGRAM_JOB = "monitoring.program_month"
CLOSE_DELAY = timedelta(hours=2)
ACT_TYPE = "telesurveillance"
SYSTEM = "system"  # who files a report the monthly job produced
IDS = uuid.UUID("6f1d3c2a-6a53-4f0e-9a57-7e1e55b0a0d1")  # namespace of the derived ids


def report_id(program_id: str, month: str, interim_day: date | None = None) -> str:
    suffix = f":{interim_day.isoformat()}" if interim_day else ""
    return str(uuid.uuid5(IDS, f"report:{program_id}:{month}{suffix}"))


def forfait_act_id(program_id: str, month: str) -> str:
    return str(uuid.uuid5(IDS, f"forfait:{program_id}:{month}"))


def following(month: str) -> str:
    _, end = months.bounds(month)
    return months.month_of(end)


async def schedule_close(db: AsyncSession, month: str) -> None:
    _, end = months.bounds(month)
    await schedule(
        db, MONTHLY_JOB, {"month": month}, due_at=end + CLOSE_DELAY, dedupe_key=f"{MONTHLY_JOB}:{month}"
    )


async def ensure_scheduled(db: AsyncSession, now: datetime | None = None) -> None:
    """Make sure the current month's close is scheduled; two racing callers both succeed."""
    try:
        async with db.begin_nested():
            await schedule_close(db, months.month_of(now or utcnow()))
    except IntegrityError:
        pass  # the other caller's row is the one: the dedupe key is unique


@job_handler(MONTHLY_JOB)
async def close_month(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    month = payload["month"]
    start, end = months.bounds(month)
    ids = await db.scalars(select(Program.id).where(Program.starts_at < end, Program.ends_at > start))
    for program_id in ids:
        await schedule(
            db,
            PROGRAM_JOB,
            {"program_id": program_id, "month": month},
            dedupe_key=f"{PROGRAM_JOB}:{program_id}:{month}",
        )
    await schedule_close(db, following(month))


@job_handler(PROGRAM_JOB)
async def close_program_month(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    program = await engine.lock_program(db, payload["program_id"])  # after any delivery in flight
    if program is not None:
        await close(db, program, payload["month"], utcnow())


async def close(
    db: AsyncSession, program: Program, month: str, now: datetime
) -> tuple[str, BillingLine | None]:
    """A finished month: its report and, if due, its forfait. Returns the report's document id."""
    data = await month_data(db, program, month, now)
    if not data.complete:
        raise ValueError(f"month {month} is not over")
    assessment = forfait.assess(data.facts(now))
    document_id = await file_report(db, data, now, assessment, None)
    return document_id, await bill(db, data, assessment)


async def on_demand(db: AsyncSession, actor: Actor, programs: list[Program], month: str) -> list[str]:
    """The prescriber asks for the report of a month, finished or running (the programs come from
    the gate). Returns the documents' ids."""
    months.require_not_future(month)
    start, end = months.bounds(month)
    mine = [p for p in programs if p.prescriber_id == actor.professional_id]
    if not mine:
        raise Forbidden("seul le médecin prescripteur demande un rapport de télésurveillance")
    running = [p for p in mine if p.starts_at < end and p.ends_at > start]
    if not running:
        raise Invalid.field("month", f"aucun programme que vous avez prescrit ne couvre {month_name(month)}")
    await ensure_scheduled(db)
    now, filed = utcnow(), []
    for program in running:
        data = await month_data(db, program, month, now)
        assessment = forfait.assess(data.facts(now)) if data.complete else None
        filed.append(await file_report(db, data, now, assessment, actor))
    return filed


async def file_report(
    db: AsyncSession, data: MonthData, now: datetime, assessment: Assessment | None, author: Actor | None
) -> str:
    """The report as a document of the record, on the timeline; once per month (interim: per day)."""
    program = data.program
    interim_day = None if data.complete else now.astimezone(PARIS).date()
    document_id = report_id(program.id, data.month, interim_day)
    if await db.scalar(select(Document.id).where(Document.id == document_id)):
        return document_id
    content = await report_pdf.report_pdf(report_pdf.printed(data, now, assessment))
    db.add(
        Document(
            id=document_id,
            patient_id=program.patient_id,
            uploaded_by_user_id=author.user.id if author else SYSTEM,
            filename=f"telesurveillance-{program.indication}-{data.month}.pdf",
            content_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
        )
    )
    await db.flush()
    indication = wording.indication_label(program.indication)
    title = f"Rapport de télésurveillance : {indication}, {month_name(data.month)}"
    add_entry(
        db,
        program.patient_id,
        kind="telemonitoring",
        title=title + ("" if data.complete else f" (intermédiaire, au {now.astimezone(PARIS):%d/%m/%Y})"),
        occurred_at=now,
        source_type="Document",
        source_id=document_id,
        author_professional_id=author.professional_id if author else None,
    )
    return document_id


async def bill(db: AsyncSession, data: MonthData, assessment: Assessment) -> BillingLine | None:
    """The operator forfait of a finished month, when its conditions hold; at most once."""
    if not assessment.billable or assessment.forfait is None:
        return None
    act_id = forfait_act_id(data.program.id, data.month)
    existing = await db.scalar(
        select(BillingLine).where(BillingLine.act_type == ACT_TYPE, BillingLine.act_id == act_id)
    )
    if existing is not None:
        return existing
    line = BillingLine(
        act_type=ACT_TYPE,
        act_id=act_id,
        professional_id=await operator_of(db, data.program),
        patient_id=data.program.patient_id,
        code=assessment.forfait.code,
        amount_cents=assessment.forfait.amount_cents,
        reimbursable=True,
        rules=[asdict(check) for check in assessment.checks]
        + [{"name": "tariff_verified", "ok": assessment.tariff_verified, "why": assessment.forfait.source}],
    )
    db.add(line)
    await db.flush()
    return line


async def operator_of(db: AsyncSession, program: Program) -> str:
    """Who bills: the first doctor of the operator team (an operator is a doctor or a team with one)."""
    doctors = set(
        await db.scalars(
            select(Professional.id).where(
                Professional.id.in_(program.operator_team), Professional.profession == "physician"
            )
        )
    )
    return next((p for p in program.operator_team if p in doctors), program.prescriber_id)
