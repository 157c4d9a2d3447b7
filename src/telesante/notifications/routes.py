from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel

from telesante.deps import CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES, NotFound
from telesante.notifications import service

router = APIRouter(prefix="/api/notifications", tags=["notifications"], responses=PROBLEM_RESPONSES)


class NotificationOut(BaseModel):
    id: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


@router.get("")
async def my_notifications(db: DbSession, actor: CurrentActor) -> list[NotificationOut]:
    """The caller's in-app inbox, newest first."""
    rows = await service.inbox(db, actor.user.id)
    return [NotificationOut.model_validate(n, from_attributes=True) for n in rows]


@router.post("/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(notification_id: str, db: DbSession, actor: CurrentActor) -> None:
    if not await service.mark_read(db, actor.user.id, notification_id):
        raise NotFound("notification introuvable")
