"""The room's Hub Santé endpoints: share a file, and see what went to and came from partners."""

from fastapi import APIRouter, status

from telesante.deps import CurrentActor, DbSession, RuntimeDep
from telesante.errors import PROBLEM_RESPONSES, Conflict
from telesante.regulation.hub import outbox, service
from telesante.regulation.hub.schemas import HubMessageOut, ShareIn
from telesante.regulation.staff import file_for

router = APIRouter(prefix="/api/regulation", tags=["regulation"], responses=PROBLEM_RESPONSES)


@router.post("/files/{file_id}/share", status_code=status.HTTP_202_ACCEPTED)
async def share(
    file_id: str, data: ShareIn, db: DbSession, actor: CurrentActor, runtime: RuntimeDep
) -> HubMessageOut:
    """Queued for the Hub: 202 with the message's id and status ("pending" until it leaves)."""
    _, file = await file_for(db, actor, file_id, action="share")
    sender = runtime.settings.hub_client_id
    if not sender:
        raise Conflict("Hub Santé non configuré sur ce serveur (TELESANTE_HUB_CLIENT_ID)")
    message = await service.share(db, actor, file, data.recipient, data.kind, sender=sender)
    return HubMessageOut.model_validate(message)


@router.get("/files/{file_id}/hub")
async def hub_messages(file_id: str, db: DbSession, actor: CurrentActor) -> list[HubMessageOut]:
    _, file = await file_for(db, actor, file_id)
    return [HubMessageOut.model_validate(row) for row in await outbox.of_file(db, file.id)]
