"""The device behind a request: a separate dependency from the user's, so neither token opens the
other's doors (a user token cannot send measurements, a device token reads nothing)."""

from typing import Annotated

from fastapi import Depends, Request

from telesante.deps import DbSession
from telesante.errors import Unauthorized
from telesante.monitoring import devices
from telesante.monitoring.models import Device


async def get_device(request: Request, db: DbSession) -> Device:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Unauthorized("jeton d'appareil requis (Authorization: Bearer …)")
    device = await devices.by_token(db, header[7:].strip())
    if device is None:
        raise Unauthorized("jeton d'appareil invalide ou révoqué")
    return device


CurrentDevice = Annotated[Device, Depends(get_device)]
