"""Telling the parties of a request: in-app (and e-mail) notifications to professionals' accounts.

The notification says there is something to read and links to the request; the clinical content
stays behind the request's gate.
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import User
from telesante.directory.models import Professional, professional_organisations
from telesante.notifications.service import notify
from telesante.realtime.bus import Bus
from telesante.teleexpertise.models import ExpertAssignment, ExpertRequest
from telesante.teleexpertise.rules import EXPERT_PROFESSIONS


def link_of(request: ExpertRequest) -> str:
    return f"/teleexpertise/{request.id}"


async def tell(
    db: AsyncSession,
    bus: Bus | None,
    professional_ids: Iterable[str],
    request: ExpertRequest,
    title: str,
    body: str,
) -> int:
    """Notify each professional's account; how many were told."""
    ids = sorted(set(professional_ids))
    if not ids:
        return 0
    users = await db.scalars(select(User).where(User.professional_id.in_(ids)).order_by(User.id))
    told = 0
    for user in users:
        await notify(db, bus, user.id, title, body, link=link_of(request))
        told += 1
    return told


async def active_experts(db: AsyncSession, request: ExpertRequest) -> list[str]:
    rows = await db.scalars(
        select(ExpertAssignment.professional_id).where(
            ExpertAssignment.request_id == request.id, ExpertAssignment.status == "active"
        )
    )
    return list(rows)


async def pool_members(db: AsyncSession, request: ExpertRequest) -> list[str]:
    """The medical professionals of the pool's organisation with the pool's specialty."""
    if request.pool_specialty is None or request.pool_organisation_id is None:
        return []
    rows = await db.scalars(
        select(Professional)
        .join(professional_organisations, professional_organisations.c.professional_id == Professional.id)
        .where(
            professional_organisations.c.organisation_id == request.pool_organisation_id,
            Professional.profession.in_(EXPERT_PROFESSIONS),
            Professional.id != request.requester_id,
        )
    )
    wanted = request.pool_specialty.lower()
    return [p.id for p in rows if (p.specialty or "").lower() == wanted]
