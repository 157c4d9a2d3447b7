from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from telesante.auth import service
from telesante.auth.models import User
from telesante.deps import AdminActor, CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES, Invalid

router = APIRouter(prefix="/api", tags=["accounts"], responses=PROBLEM_RESPONSES)


class UserOut(BaseModel):
    id: str
    email: str
    role: str
    professional_id: str | None
    patient_id: str | None
    totp_enabled: bool


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=12, max_length=200)
    role: Literal["patient", "professional", "admin", "auditor"]
    professional_id: str | None = None
    patient_id: str | None = None


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        role=user.role,
        professional_id=user.professional_id,
        patient_id=user.patient_id,
        totp_enabled=user.totp_enabled_at is not None,
    )


@router.get("/me")
async def me(actor: CurrentActor) -> UserOut:
    return user_out(actor.user)


@router.post("/admin/users", status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, db: DbSession, _: AdminActor) -> UserOut:
    """Create an account. A professional account is tied to its RPPS record, a patient's to the patient."""
    if data.role == "professional" and not data.professional_id:
        raise Invalid.field("professional_id", "required for a professional account")
    if data.role == "patient" and not data.patient_id:
        raise Invalid.field("patient_id", "required for a patient account")
    user = await service.create_user(
        db,
        email=data.email,
        password=data.password,
        role=data.role,
        professional_id=data.professional_id,
        patient_id=data.patient_id,
    )
    return user_out(user)


@router.get("/admin/users")
async def list_users(db: DbSession, _: AdminActor) -> list[UserOut]:
    return [user_out(u) for u in await service.list_users(db)]
