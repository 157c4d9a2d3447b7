"""The regulation file (DR → DRM): opened by the ARM, taken and regulated by a doctor, validated,
closed 24 h later by a durable timer (states.py)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.models import User
from telesante.db import new_id, utcnow
from telesante.directory.models import Organisation
from telesante.errors import Conflict
from telesante.jobs.queue import job_handler, schedule
from telesante.notifications.service import notify
from telesante.patients.models import CareRelation, Patient
from telesante.realtime.bus import Bus
from telesante.regulation import live, metrics
from telesante.regulation.codes import ESCALATING, HUB_ROLES, REGULATORS, WAIT_LIMITS_SECONDS, Function
from telesante.regulation.models import MedicalNote, RegulationCall, RegulationFile, RegulationStaff
from telesante.regulation.schemas import FileOpen, Intake
from telesante.regulation.staff import Member, require
from telesante.regulation.states import OPEN_STATES, CaseState, check_case_move
from telesante.settings import get_settings
from telesante.timeline.service import add_entry

CLOSE_JOB = "regulation.close"
ESCALATE_JOB = "regulation.escalate"
# Hub `etat`: CLOTURE comes by itself 24 h after the regulation is validated (regulation.md §2).
CLOSE_AFTER = timedelta(hours=24)
# A regulator who took a file may read the identified patient's record for this long.
REGULATION_ACCESS = timedelta(hours=24)
INTAKE_FIELDS = tuple(
    name for name in Intake.model_fields if name not in {"patient_ins", "priority", "perimeter"}
)


def hub_org_id(centre: Organisation) -> str:
    """The centre's Hub id: this deployment's client id, or one made from its FINESS."""
    configured = get_settings().hub_client_id
    return configured or f"fr.health.samu{centre.finess or centre.id[:8]}"


async def open_file(
    db: AsyncSession,
    bus: Bus | None,
    member: Member,
    data: FileOpen,
    *,
    call: RegulationCall | None = None,
    now: datetime | None = None,
) -> RegulationFile:
    """A new DR in the member's centre. A P0 engages the reflex resource at once."""
    require(member, {Function.ARM, Function.MRU, Function.MRL}, "ouvrir un dossier")
    now = now or utcnow()
    centre = await db.get(Organisation, member.centre_id)
    assert centre is not None
    file = RegulationFile(
        id=new_id(),  # known before the insert: the timeline entry of a matched patient cites it
        centre_id=member.centre_id,
        state=CaseState.ACTIF,
        perimeter=data.perimeter,
        origin=data.origin,
        priority=data.priority,
        opened_by_id=member.user_id,
        received_at=call.received_at if call else now,
    )
    await _apply_intake(db, member, file, data)
    await _number(db, file, centre, now)
    metrics.file_opened(file)
    if call:
        call.file_id = file.id
    await _watch_wait(db, file)
    if file.priority == "P0":
        from telesante.regulation import missions  # missions needs files' helpers

        await missions.engage_reflex(db, bus, file, now=now)
    await changed(db, bus, member, file, "opened", action="create")
    return file


async def _number(db: AsyncSession, file: RegulationFile, centre: Organisation, now: datetime) -> None:
    """The day's next number; two ARMs opening at once race on the unique case id, and the
    loser takes the next number (inside a savepoint, so nothing else is undone)."""
    day = now.strftime("%Y%m%d")
    prefix = f"{hub_org_id(centre)}.DRM{day}"
    for _ in range(20):
        latest = await db.scalar(
            select(func.max(RegulationFile.number)).where(
                RegulationFile.centre_id == file.centre_id, RegulationFile.case_id.startswith(prefix)
            )
        )
        file.number = (latest or 0) + 1
        file.case_id = f"{prefix}{file.number:05d}"
        try:
            async with db.begin_nested():
                db.add(file)
                await db.flush()
            return
        except IntegrityError:
            if file in db:  # the savepoint's rollback usually detached it already
                db.expunge(file)
    raise Conflict("numérotation des dossiers saturée, réessayez")


async def update_intake(
    db: AsyncSession, bus: Bus | None, member: Member, file: RegulationFile, data: Intake
) -> RegulationFile:
    require_open(file)
    before = file.priority
    await _apply_intake(db, member, file, data)
    if data.priority and data.priority != before:
        await _watch_wait(db, file)
        if data.priority == "P0":
            from telesante.regulation import missions

            await missions.engage_reflex(db, bus, file, now=utcnow())
    await changed(db, bus, member, file, "updated")
    return file


async def _apply_intake(db: AsyncSession, member: Member, file: RegulationFile, data: Intake) -> None:
    for name in INTAKE_FIELDS:
        if name in data.model_fields_set:  # sent empty: cleared; not sent: kept
            setattr(file, name, getattr(data, name))
    if data.priority:
        file.priority = data.priority
    if data.perimeter:
        file.perimeter = data.perimeter
    if data.patient_ins:
        await _match_patient(db, member, file, data.patient_ins)


async def _match_patient(db: AsyncSession, member: Member, file: RegulationFile, ins: str) -> None:
    """Links the file to the Telesante patient with this INS, if any. The ARM sees only that a
    match exists; the record itself opens to the regulator who takes the file."""
    patient = await db.scalar(select(Patient).where(Patient.ins_matricule == ins))
    if patient is None:
        return
    if file.patient_id == patient.id:
        return
    file.patient_id = patient.id
    add_entry(
        db,
        patient.id,
        kind="regulation",
        title="Appel au SAMU – Centre 15",
        summary="Un dossier de régulation médicale vous concerne",
        occurred_at=file.received_at,
        source_type="RegulationFile",
        source_id=file.id,
    )
    record(
        db,
        member.actor,
        action="match",
        resource_type="Patient",
        resource_id=patient.id,
        patient_id=patient.id,
        purpose="regulation",
    )


async def take(db: AsyncSession, bus: Bus | None, member: Member, file: RegulationFile) -> RegulationFile:
    """The regulator takes the file: it becomes a DRM; the identified patient's record opens to
    them for the regulation (a care relation of reason `regulation`, audited, time-limited)."""
    require(member, {Function.MRU, Function.MRL}, "réguler un dossier")
    require_open(file)
    if file.regulator_id and file.regulator_id != member.user_id:
        raise Conflict("ce dossier est déjà régulé par un autre médecin")
    now = utcnow()
    file.regulator_id = member.user_id
    if file.regulation_started_at is None:
        file.regulation_started_at = now
        metrics.file_taken(file)
    if file.patient_id and member.actor.professional_id:
        db.add(
            CareRelation(
                patient_id=file.patient_id,
                professional_id=member.actor.professional_id,
                reason="regulation",
                starts_at=now,
                ends_at=now + REGULATION_ACCESS,
                created_by_user_id=member.user_id,
            )
        )
    await changed(db, bus, member, file, "taken", action="take")
    return file


async def add_note(
    db: AsyncSession, bus: Bus | None, member: Member, file: RegulationFile, text: str
) -> MedicalNote:
    require_open(file)
    note = MedicalNote(file_id=file.id, author_id=member.user_id, role=HUB_ROLES[member.function], text=text)
    db.add(note)
    await changed(db, bus, member, file, "note")
    return note


async def set_care_level(
    db: AsyncSession, bus: Bus | None, member: Member, file: RegulationFile, level: str
) -> None:
    require_regulator(member, file)
    file.care_level = level
    await changed(db, bus, member, file, "care_level")


async def move(
    db: AsyncSession, bus: Bus | None, member: Member, file: RegulationFile, target: str
) -> RegulationFile:
    """Finishing (ACHEVE), validating (VALIDE: the regulator), filing away (CLASSE, ARCHIVE)."""
    wanted = CaseState(target)
    if wanted in {CaseState.ACHEVE, CaseState.VALIDE}:
        require_regulator(member, file)
    else:
        require(member, {Function.MRU, Function.MRL, Function.SUPERVISOR}, "classer un dossier")
    if wanted is CaseState.VALIDE and file.state == CaseState.ACTIF:
        _to(file, CaseState.ACHEVE)  # validating a running file finishes it first
    _to(file, wanted)
    now = utcnow()
    if file.state == CaseState.VALIDE:
        if file.care_level is None:
            raise Conflict("fixez le niveau de soins (R1 à R4) avant de valider le dossier")
        file.validated_at = now
        await schedule(
            db, CLOSE_JOB, {"file_id": file.id}, due_at=now + CLOSE_AFTER, dedupe_key=f"{CLOSE_JOB}:{file.id}"
        )
    await changed(db, bus, member, file, "state", reason=f"état {file.state}")
    return file


async def changed(
    db: AsyncSession,
    bus: Bus | None,
    member: Member,
    file: RegulationFile,
    change: str,
    *,
    action: str = "update",
    reason: str | None = None,
) -> None:
    """Every change to a file: audited (purpose regulation), written, and told to the room."""
    record(
        db,
        member.actor,
        action=action,
        resource_type="RegulationFile",
        resource_id=file.id,
        patient_id=file.patient_id,
        purpose="regulation",
        reason=reason,
    )
    await db.flush()
    await live.room_changed(db, bus, file, change)


def _to(file: RegulationFile, target: str) -> None:
    file.state = check_case_move(file.state, target)


async def _watch_wait(db: AsyncSession, file: RegulationFile) -> None:
    """A P0/P1 file still waiting for a regulator at its limit escalates (one timer per priority)."""
    limit = WAIT_LIMITS_SECONDS.get(file.priority)
    if file.priority in ESCALATING and limit is not None and file.regulator_id is None:
        await schedule(
            db,
            ESCALATE_JOB,
            {"file_id": file.id},
            due_at=file.received_at + timedelta(seconds=limit),
            dedupe_key=f"{ESCALATE_JOB}:{file.id}:{file.priority}",
        )


@job_handler(ESCALATE_JOB)
async def escalate(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    """Still nobody on it: highlighted on every screen, and every regulator of the room is told."""
    file = await db.get(RegulationFile, payload["file_id"])
    if file is None or file.regulator_id or file.state not in OPEN_STATES or file.escalated_at:
        return
    file.escalated_at = utcnow()
    regulators = await db.scalars(
        select(User.id)
        .join(RegulationStaff, RegulationStaff.professional_id == User.professional_id)
        .where(RegulationStaff.centre_id == file.centre_id, RegulationStaff.function.in_(list(REGULATORS)))
    )
    for user_id in regulators:
        await notify(
            db,
            bus,
            user_id,
            f"Dossier {file.priority} en attente de régulation",
            f"Le dossier n° {file.number} attend un médecin régulateur.",
            link=f"/regulation/dossiers/{file.id}",
            email=False,
        )
    await live.room_changed(db, bus, file, "escalated")


@job_handler(CLOSE_JOB)
async def close_file(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    """CLOTURE, once: a file moved on since (or already closed) is left as it is."""
    file = await db.get(RegulationFile, payload["file_id"])
    if file is None or file.state != CaseState.VALIDE:
        return
    file.state = CaseState.CLOTURE
    await live.room_changed(db, bus, file, "state")


def require_open(file: RegulationFile) -> None:
    if file.state not in OPEN_STATES:
        raise Conflict("ce dossier n'est plus ouvert")


def require_regulator(member: Member, file: RegulationFile) -> None:
    require(member, {Function.MRU, Function.MRL}, "décider")
    if file.regulator_id != member.user_id:
        raise Conflict("prenez d'abord le dossier en régulation")
