from typing import Annotated

from fastapi import APIRouter, Query, status

from telesante.deps import AdminActor, CurrentActor, DbSession
from telesante.directory import service
from telesante.directory.models import Organisation, Professional
from telesante.directory.professions import OrganisationKind, Profession
from telesante.directory.schemas import (
    OrganisationCreate,
    OrganisationOut,
    ProfessionalCreate,
    ProfessionalOut,
)
from telesante.errors import PROBLEM_RESPONSES, NotFound

router = APIRouter(prefix="/api", tags=["directory"], responses=PROBLEM_RESPONSES)


def organisation_out(organisation: Organisation) -> OrganisationOut:
    return OrganisationOut.model_validate(organisation, from_attributes=True)


def professional_out(professional: Professional) -> ProfessionalOut:
    return ProfessionalOut(
        id=professional.id,
        rpps=professional.rpps,
        family_name=professional.family_name,
        given_name=professional.given_name,
        display_name=professional.display_name,
        profession=professional.profession,
        specialty=professional.specialty,
        is_medical=professional.is_medical,
        organisation_ids=[o.id for o in professional.organisations],
    )


@router.post("/organisations", status_code=status.HTTP_201_CREATED)
async def create_organisation(data: OrganisationCreate, db: DbSession, _: AdminActor) -> OrganisationOut:
    """Register an organisation; a FINESS number, when given, must pass its check key."""
    return organisation_out(await service.create_organisation(db, data))


@router.get("/organisations")
async def list_organisations(
    db: DbSession, _: CurrentActor, kind: OrganisationKind | None = None
) -> list[OrganisationOut]:
    return [organisation_out(o) for o in await service.list_organisations(db, kind)]


@router.get("/organisations/{organisation_id}")
async def read_organisation(organisation_id: str, db: DbSession, _: CurrentActor) -> OrganisationOut:
    organisation = await db.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("organisation introuvable")
    return organisation_out(organisation)


@router.post("/professionals", status_code=status.HTTP_201_CREATED)
async def create_professional(data: ProfessionalCreate, db: DbSession, _: AdminActor) -> ProfessionalOut:
    """Register a professional with an 11-digit RPPS number."""
    professional = await service.create_professional(db, data)
    return professional_out(await service.get_professional(db, professional.id))


@router.get("/professionals")
async def search_professionals(
    db: DbSession,
    _: CurrentActor,
    name: Annotated[str | None, Query(max_length=120)] = None,
    profession: Profession | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ProfessionalOut]:
    professionals = await service.search_professionals(db, name, profession, limit)
    return [professional_out(p) for p in professionals]


@router.get("/professionals/{professional_id}")
async def read_professional(professional_id: str, db: DbSession, _: CurrentActor) -> ProfessionalOut:
    return professional_out(await service.get_professional(db, professional_id))
