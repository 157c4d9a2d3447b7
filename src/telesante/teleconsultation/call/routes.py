"""The call's page, its JSON endpoints (join token, ICE servers, invitations, files) and its socket."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, WebSocket
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from telesante.auth.models import User
from telesante.deps import CurrentActor, DbSession
from telesante.directory.models import Professional
from telesante.directory.professions import PROFESSION_LABELS, Profession
from telesante.errors import PROBLEM_RESPONSES, Forbidden, Invalid
from telesante.notifications.service import notify
from telesante.teleconsultation.call.consultation import ConsultationCall, require_live
from telesante.teleconsultation.call.file_routes import router as files_api
from telesante.teleconsultation.call.joining import serve_call, turn_settings
from telesante.teleconsultation.call.participants import participant
from telesante.teleconsultation.call.tokens import (
    INVITATION_TTL,
    JOIN_TTL,
    Role,
    invite_companion,
    invite_professional,
    issue_join_token,
)
from telesante.teleconsultation.call.turn import ice_config
from telesante.teleconsultation.routes import bus_of
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter()
api = APIRouter(prefix="/api/teleconsultations", tags=["teleconsultation"], responses=PROBLEM_RESPONSES)


class JoinOut(BaseModel):
    token: str
    expires_in: int
    socket: str


class InvitationIn(BaseModel):
    """Either a name, for a one-time link; or an RPPS, for a professional who joins with their account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str | None = Field(
        default=None, min_length=1, max_length=120, description="ex. « Infirmière M. Petit »"
    )
    rpps: str | None = Field(
        default=None, pattern=r"^\d{11}$", description="RPPS of a registered professional"
    )

    @model_validator(mode="after")
    def one_of_them(self) -> "InvitationIn":
        if (self.display_name is None) == (self.rpps is None):
            raise ValueError("donner soit un nom (lien à usage unique), soit un RPPS (compte Telesante)")
        return self


class InvitationOut(BaseModel):
    url: str
    expires_in: int
    with_account: bool = False


@router.get("/teleconsultations/{appointment_id}/appel", include_in_schema=False)
async def call_page(request: Request, db: DbSession, actor: PageActor, appointment_id: str) -> HTMLResponse:
    appointment, role, name = await participant(db, actor, appointment_id)
    return page(
        request, "call_page.html", actor=actor, appointment_id=appointment.id, role=role, me=name, guest=False
    )


@router.get("/teleconsultations/{appointment_id}/invitation", include_in_schema=False)
async def guest_page(request: Request, appointment_id: str) -> HTMLResponse:
    """A companion's page: the one-time token stays in the URL fragment, never sent to servers."""
    return page(
        request,
        "call_page.html",
        actor=None,
        appointment_id=appointment_id,
        role="companion",
        me="",
        guest=True,
    )


@api.post("/{appointment_id}/call/token")
async def join_token(db: DbSession, actor: CurrentActor, appointment_id: str) -> JoinOut:
    appointment, role, name = await participant(db, actor, appointment_id)
    require_live(appointment)
    token = await issue_join_token(db, appointment, actor.user, role, name, JOIN_TTL)
    return JoinOut(token=token, expires_in=int(JOIN_TTL.total_seconds()), socket=f"/ws/call/{appointment.id}")


@api.get("/{appointment_id}/call/ice")
async def ice_servers(
    request: Request, db: DbSession, actor: CurrentActor, appointment_id: str
) -> dict[str, Any]:
    await participant(db, actor, appointment_id)
    return ice_config(turn_settings(request.app), actor.user.id)


@api.post("/{appointment_id}/call/invitations", status_code=201)
async def invite(
    request: Request, db: DbSession, actor: CurrentActor, appointment_id: str, body: InvitationIn
) -> InvitationOut:
    """Invite a companion at the patient's side (at most 4 participants in all)."""
    appointment, role, name = await participant(db, actor, appointment_id)
    if role is not Role.professional:
        raise Forbidden("seul le professionnel invite un accompagnant")
    expires_in = int(INVITATION_TTL.total_seconds())
    if body.rpps is None:
        token = await invite_companion(db, appointment, body.display_name or "")
        return InvitationOut(
            url=f"/teleconsultations/{appointment.id}/invitation#jeton={token}", expires_in=expires_in
        )
    invitee, shown = await _registered_professional(db, body.rpps)
    if invitee.professional_id == appointment.professional_id:
        raise Invalid.field("rpps", "vous participez déjà à cette téléconsultation")
    await invite_professional(db, appointment, invitee, shown)
    link = f"/teleconsultations/{appointment.id}/appel"
    await notify(
        db,
        bus_of(request),
        invitee.id,
        "Invitation à une téléconsultation",
        f"{name} vous invite à rejoindre une téléconsultation en cours, aux côtés du patient.",
        link=link,
    )
    return InvitationOut(url=link, expires_in=expires_in, with_account=True)


async def _registered_professional(db: DbSession, rpps: str) -> tuple[User, str]:
    """The account of a health professional (or psychologist) who may sit at the patient's side."""
    found = await db.execute(
        select(User, Professional)
        .join(Professional, User.professional_id == Professional.id)
        .where(Professional.rpps == rpps, User.is_active.is_(True))
    )
    row = found.first()
    if row is None:
        raise Invalid.field("rpps", "aucun professionnel inscrit sur Telesante avec ce RPPS")
    user, professional = row
    if professional.profession == Profession.call_taker:
        raise Invalid.field("rpps", "seul un professionnel de santé ou un psychologue accompagne le patient")
    label = PROFESSION_LABELS.get(Profession(professional.profession), professional.profession)
    return user, f"{professional.display_name} ({label.lower()})"


@router.websocket("/ws/call/{appointment_id}")
async def call_socket(websocket: WebSocket, appointment_id: str, token: Annotated[str, Query()] = "") -> None:
    await serve_call(websocket, ConsultationCall(appointment_id), token)


router.include_router(api)
router.include_router(files_api)
