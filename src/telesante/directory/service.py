from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from telesante.directory.models import Organisation, Professional
from telesante.directory.schemas import OrganisationCreate, ProfessionalCreate
from telesante.errors import Conflict, Invalid, NotFound


async def create_organisation(db: AsyncSession, data: OrganisationCreate) -> Organisation:
    if data.finess and await db.scalar(select(Organisation.id).where(Organisation.finess == data.finess)):
        raise Conflict("une organisation avec ce numéro FINESS existe déjà")
    organisation = Organisation(**data.model_dump())
    db.add(organisation)
    await db.flush()
    return organisation


async def list_organisations(db: AsyncSession, kind: str | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if kind:
        query = query.where(Organisation.kind == kind)
    return list(await db.scalars(query))


async def create_professional(db: AsyncSession, data: ProfessionalCreate) -> Professional:
    if await db.scalar(select(Professional.id).where(Professional.rpps == data.rpps)):
        raise Conflict("un professionnel avec ce numéro RPPS existe déjà")
    organisations = []
    for index, organisation_id in enumerate(data.organisation_ids):
        organisation = await db.get(Organisation, organisation_id)
        if organisation is None:
            raise Invalid.field(f"organisation_ids.{index}", "no such organisation")
        organisations.append(organisation)
    professional = Professional(**data.model_dump(exclude={"organisation_ids"}))
    professional.organisations = organisations
    db.add(professional)
    await db.flush()
    return professional


async def search_professionals(
    db: AsyncSession, name: str | None = None, profession: str | None = None, limit: int = 50
) -> list[Professional]:
    query = select(Professional).options(selectinload(Professional.organisations))
    if profession:
        query = query.where(Professional.profession == profession)
    if name:
        pattern = f"%{name.strip()}%"
        query = query.where(Professional.family_name.ilike(pattern) | Professional.given_name.ilike(pattern))
    return list(await db.scalars(query.order_by(Professional.family_name).limit(limit)))


async def get_professional(db: AsyncSession, professional_id: str) -> Professional:
    professional = await db.scalar(
        select(Professional)
        .where(Professional.id == professional_id)
        .options(selectinload(Professional.organisations))
    )
    if professional is None:
        raise NotFound("professionnel introuvable")
    return professional
