"""The thread of a request: the expert asks the requérant, the requérant replies.

Messages are encrypted at rest (EncryptedText) and each tells the other side.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.errors import Conflict, Forbidden
from telesante.realtime.bus import Bus
from telesante.teleexpertise import notify
from telesante.teleexpertise.access import Access, Role
from telesante.teleexpertise.lifecycle import Status, move, require_open
from telesante.teleexpertise.models import ExpertAssignment, ExpertMessage, ExpertRequest

MESSAGE_TITLE = "Téléexpertise : nouveau message"


async def post_message(
    db: AsyncSession, bus: Bus | None, actor: Actor, access: Access, body: str
) -> ExpertMessage:
    request = access.request
    if access.role not in (Role.requester, Role.expert) or actor.professional_id is None:
        raise Forbidden("seuls le demandeur et les experts sollicités échangent sur la demande")
    require_open(request)
    if access.role is Role.expert:
        await require_active(db, request, actor.professional_id)
    message = ExpertMessage(request_id=request.id, author_professional_id=actor.professional_id, body=body)
    db.add(message)
    if request.status != Status.in_progress:
        move(request, Status.in_progress)
    await db.flush()
    await notify.tell(
        db,
        bus,
        await _other_side(db, access),
        request,
        MESSAGE_TITLE,
        "Un message vous attend sur la demande.",
    )
    return message


async def require_active(db: AsyncSession, request: ExpertRequest, professional_id: str) -> ExpertAssignment:
    """The expert's assignment, if they may still act on the request; 409 otherwise."""
    assignment = await db.scalar(
        select(ExpertAssignment).where(
            ExpertAssignment.request_id == request.id, ExpertAssignment.professional_id == professional_id
        )
    )
    if assignment is None or assignment.status == "reassigned":
        raise Conflict("cette demande a été confiée à un autre expert")
    if assignment.status == "answered":
        raise Conflict("vous avez déjà répondu à cette demande")
    return assignment


async def _other_side(db: AsyncSession, access: Access) -> list[str]:
    if access.role is Role.expert:
        return [access.request.requester_id]
    return await notify.active_experts(db, access.request)


async def messages_of(db: AsyncSession, request: ExpertRequest) -> list[ExpertMessage]:
    rows = await db.scalars(
        select(ExpertMessage)
        .where(ExpertMessage.request_id == request.id)
        .order_by(ExpertMessage.created_at, ExpertMessage.id)
    )
    return list(rows)
