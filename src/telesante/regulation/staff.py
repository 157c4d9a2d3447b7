"""Who may see a centre's files: its ARM and regulators, nobody else (not even other doctors)."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record_denied
from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.errors import Forbidden, NotFound
from telesante.regulation.codes import REGULATORS, Function
from telesante.regulation.models import RegulationFile, RegulationStaff


@dataclass(frozen=True)
class Member:
    actor: Actor
    centre_id: str
    function: Function

    @property
    def user_id(self) -> str:
        return self.actor.user.id

    @property
    def is_regulator(self) -> bool:
        return self.function in REGULATORS


async def membership(db: AsyncSession, actor: Actor, centre_id: str | None = None) -> Member:
    """The actor's place in a room (the given centre, or their only one); 403 for anyone else."""
    if actor.role != "professional" or not actor.professional_id or not actor.fully_authenticated:
        raise Forbidden("réservé au personnel de la salle de régulation")
    query = select(RegulationStaff).where(RegulationStaff.professional_id == actor.professional_id)
    if centre_id:
        query = query.where(RegulationStaff.centre_id == centre_id)
    rows = list(await db.scalars(query.order_by(RegulationStaff.created_at).limit(1)))
    if not rows:
        raise Forbidden("réservé au personnel de la salle de régulation")
    return Member(actor, rows[0].centre_id, Function(rows[0].function))


def require(member: Member, functions: Iterable[Function], what: str) -> None:
    if member.function not in set(functions):
        raise Forbidden(f"{what} : réservé {_whom(functions)}")


def _whom(functions: Iterable[Function]) -> str:
    wanted = set(functions)
    if wanted <= REGULATORS:
        return "au médecin régulateur"
    if wanted == {Function.ARM}:
        return "à l'ARM"
    return "au personnel de régulation"


async def file_for(
    db: AsyncSession, actor: Actor, file_id: str, *, action: str = "read"
) -> tuple[Member, RegulationFile]:
    """The file if the actor works in its centre; 404 otherwise (as if it did not exist), audited."""
    member = await membership(db, actor)
    file = await db.get(RegulationFile, file_id)
    if file is None or file.centre_id != member.centre_id:
        record_denied(
            db,
            actor,
            action=action,
            resource_type="RegulationFile",
            resource_id=file_id,
            patient_id=None,
            purpose="regulation",
        )
        raise NotFound("dossier de régulation introuvable")
    return member, file


async def room_users(db: AsyncSession, centre_id: str) -> list[str]:
    """The user ids of everyone in the room, for live events."""
    rows = await db.scalars(
        select(User.id)
        .join(RegulationStaff, RegulationStaff.professional_id == User.professional_id)
        .where(RegulationStaff.centre_id == centre_id)
    )
    return list(rows)
