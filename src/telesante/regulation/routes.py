"""The room's JSON API: ARM intake, the queue, regulation, resources and missions, the crew's
phone page API (mission token), and the telephony connector's endpoint."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse

from telesante.audit.service import record
from telesante.deps import CurrentActor, DbSession, SettingsDep
from telesante.errors import PROBLEM_RESPONSES, NotFound
from telesante.prescriptions.routes import SignerDep
from telesante.realtime.bus import Bus
from telesante.regulation import decisions, files, missions, sas, telephony, views
from telesante.regulation.models import Mission, RegulationFile, Resource
from telesante.regulation.schemas import (
    BilanIn,
    CareLevelIn,
    DecisionIn,
    FileOpen,
    Intake,
    NoteIn,
    SasBookingIn,
    StateIn,
    StatusIn,
    TelephonyEvent,
)
from telesante.regulation.staff import file_for, membership

router = APIRouter(prefix="/api/regulation", tags=["regulation"], responses=PROBLEM_RESPONSES)
Authorization = Annotated[str | None, Header()]


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.runtime.bus
    return bus


async def _detail(db: DbSession, file: RegulationFile) -> dict[str, Any]:
    return await views.detail(db, file)


@router.get("/queue", response_class=JSONResponse)
async def queue(db: DbSession, actor: CurrentActor) -> JSONResponse:
    """Refetched by every screen of the room on every change: plain JSON, no model encoding."""
    member = await membership(db, actor)
    return JSONResponse(await views.queue(db, member.centre_id))


@router.post("/files", status_code=status.HTTP_201_CREATED)
async def open_file(data: FileOpen, request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    member = await membership(db, actor)
    file = await files.open_file(db, bus_of(request), member, data)
    return await _detail(db, file)


@router.get("/files/{file_id}")
async def read_file(file_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    _, file = await file_for(db, actor, file_id)
    record(
        db,
        actor,
        action="read",
        resource_type="RegulationFile",
        resource_id=file.id,
        patient_id=file.patient_id,
        purpose="regulation",
    )
    return await _detail(db, file)


@router.patch("/files/{file_id}")
async def update_file(
    file_id: str, data: Intake, request: Request, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    member, file = await file_for(db, actor, file_id, action="update")
    await files.update_intake(db, bus_of(request), member, file, data)
    return await _detail(db, file)


@router.post("/files/{file_id}/take")
async def take(file_id: str, request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    member, file = await file_for(db, actor, file_id, action="update")
    await files.take(db, bus_of(request), member, file)
    return await _detail(db, file)


@router.post("/files/{file_id}/notes", status_code=status.HTTP_201_CREATED)
async def add_note(
    file_id: str, data: NoteIn, request: Request, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    member, file = await file_for(db, actor, file_id, action="update")
    await files.add_note(db, bus_of(request), member, file, data.text)
    return await _detail(db, file)


@router.put("/files/{file_id}/care-level")
async def care_level(
    file_id: str, data: CareLevelIn, request: Request, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    member, file = await file_for(db, actor, file_id, action="update")
    await files.set_care_level(db, bus_of(request), member, file, data.care_level)
    return await _detail(db, file)


@router.post("/files/{file_id}/decisions", status_code=status.HTTP_201_CREATED)
async def decide(
    file_id: str, data: DecisionIn, request: Request, db: DbSession, actor: CurrentActor, signer: SignerDep
) -> dict[str, Any]:
    member, file = await file_for(db, actor, file_id, action="update")
    _decision, produced = await decisions.decide(db, bus_of(request), member, file, data, signer)
    return {"file": await _detail(db, file), "produced": produced}


@router.post("/files/{file_id}/state")
async def move(
    file_id: str, data: StateIn, request: Request, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    member, file = await file_for(db, actor, file_id, action="update")
    await files.move(db, bus_of(request), member, file, data.state)
    return await _detail(db, file)


@router.get("/files/{file_id}/sas-slots")
async def sas_slots(file_id: str, db: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    """Free GP slots within 48 h for this caller, the médecin traitant first."""
    _, file = await file_for(db, actor, file_id)
    return await sas.offers(db, file)


@router.post("/files/{file_id}/sas-booking", status_code=status.HTTP_201_CREATED)
async def sas_booking(
    file_id: str, data: SasBookingIn, request: Request, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    member, file = await file_for(db, actor, file_id, action="update")
    appointment = await sas.book(
        db, bus_of(request), member, file, data.professional_id, data.type_id, data.starts_at
    )
    return {"appointment_id": appointment.id, "file": await _detail(db, file)}


@router.get("/resources")
async def resources(db: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    member = await membership(db, actor)
    return await views.resources(db, member.centre_id)


@router.post("/missions/{mission_id}/status")
async def room_status(
    mission_id: str, data: StatusIn, request: Request, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """The room sets a status the crew could not (radio, phone call)."""
    mission, file = await _room_mission(db, actor, mission_id)
    await missions.set_status(db, bus_of(request), mission, data.status, by="room")
    return await _detail(db, file)


async def _room_mission(
    db: DbSession, actor: CurrentActor, mission_id: str
) -> tuple[Mission, RegulationFile]:
    """A mission of the actor's centre; 404 for any other."""
    member = await membership(db, actor)
    mission = await db.get(Mission, mission_id)
    file = await db.get(RegulationFile, mission.file_id) if mission else None
    if mission is None or file is None or file.centre_id != member.centre_id:
        raise NotFound("mission introuvable")
    record(
        db,
        actor,
        action="update",
        resource_type="Mission",
        resource_id=mission.id,
        patient_id=file.patient_id,
        purpose="regulation",
    )
    return mission, file


@router.post("/missions/{mission_id}/link")
async def new_crew_link(mission_id: str, db: DbSession, actor: CurrentActor) -> dict[str, str]:
    """A new link for the crew (a reflex departure, a lost link): the previous one stops working."""
    mission, _ = await _room_mission(db, actor, mission_id)
    return {"crew_link": missions.crew_link(await missions.reissue_link(db, mission))}


# The crew's phone: the mission token is its only key, and it opens this mission only.


@router.get("/crew/mission")
async def crew_mission(db: DbSession, authorization: Authorization = None) -> dict[str, Any]:
    mission = await missions.crew_mission(db, _bearer(authorization))
    return await _crew_view(db, mission)


@router.post("/crew/status")
async def crew_status(
    data: StatusIn, request: Request, db: DbSession, authorization: Authorization = None
) -> dict[str, Any]:
    mission = await missions.crew_mission(db, _bearer(authorization))
    await missions.set_status(db, bus_of(request), mission, data.status, by="crew")
    return await _crew_view(db, mission)


@router.post("/crew/bilan", status_code=status.HTTP_201_CREATED)
async def crew_bilan(
    data: BilanIn, request: Request, db: DbSession, authorization: Authorization = None
) -> dict[str, Any]:
    mission = await missions.crew_mission(db, _bearer(authorization))
    await missions.add_bilan(db, bus_of(request), mission, data)
    return await _crew_view(db, mission)


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


async def _crew_view(db: DbSession, mission: Mission) -> dict[str, Any]:
    """What a crew needs to go and act: where, why, how urgent; not the rest of the file."""
    file = await db.get(RegulationFile, mission.file_id)
    resource = await db.get(Resource, mission.resource_id)
    assert file is not None and resource is not None
    [(_, _, history)] = [row for row in await missions.missions_of(db, file.id) if row[0].id == mission.id]
    return {
        **missions.mission_view(mission, resource, history),
        "case_id": file.case_id,
        "priority": file.priority,
        "motive": file.motive,
        "address": file.address,
        "city": file.city,
        "access_details": file.access_details,
        "latitude": file.latitude,
        "longitude": file.longitude,
        "patient": {"age": file.patient_age, "sex": file.patient_sex},
    }


@router.post("/telephony/events", status_code=status.HTTP_202_ACCEPTED)
async def telephony_event(
    event: TelephonyEvent,
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    authorization: Authorization = None,
) -> dict[str, Any]:
    telephony.check_secret(settings, authorization)
    call, file = await telephony.handle(db, bus_of(request), event)
    return {
        "call_id": call.id,
        "state": call.state,
        "file_id": file.id if file else None,
        "case_id": file.case_id if file else None,
    }
