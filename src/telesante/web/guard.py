"""Page-side authentication: redirect to the login or second-factor page."""

from typing import Annotated

from fastapi import Depends

from telesante.auth.actor import Actor
from telesante.deps import OptionalActor


class LoginRequired(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


async def page_actor(actor: OptionalActor) -> Actor:
    if actor is None:
        raise LoginRequired("/login")
    if not actor.fully_authenticated:
        raise LoginRequired("/mfa" if actor.user.totp_enabled_at else "/mfa/enrol")
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]
