"""The device registry: a device belongs to one patient's program and holds its own token.

The token is shown once at registration. Stored are its SHA-256 (FHIR and MQTT send the token
itself) and its SHA-1 and SHA-512, which Nightscout uploaders send as `api-secret` when the token
is set as their API_SECRET. A device token opens ingestion only; it reads nothing of the record.
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.errors import Conflict, Forbidden, NotFound
from telesante.kit.tokens import random_token, token_hash
from telesante.monitoring.models import Device, Program

TOKEN_PREFIX = "tsd_"  # noqa: S105 - a prefix, not a secret
KINDS = (
    "cgm",
    "glucometer",
    "bp_monitor",
    "scale",
    "oximeter",
    "thermometer",
    "heart_rate_monitor",
    "gateway",
)


@dataclass(frozen=True)
class Registration:
    kind: str
    model: str
    serial: str


def secret_hashes(token: str) -> tuple[str, str]:
    return hashlib.sha1(token.encode()).hexdigest(), hashlib.sha512(token.encode()).hexdigest()  # noqa: S324 - Nightscout's scheme


async def register(
    db: AsyncSession, actor: Actor, program: Program, data: Registration
) -> tuple[Device, str]:
    """A new device for the program's patient, and its token (to show once, never stored)."""
    if actor.role != "professional":
        raise Forbidden("seul un professionnel de l'équipe enregistre un appareil")
    if program.status != "active":
        raise Conflict("ce programme de télésurveillance est terminé")
    token = random_token(prefix=TOKEN_PREFIX)
    sha1, sha512 = secret_hashes(token)
    device = Device(
        patient_id=program.patient_id,
        program_id=program.id,
        kind=data.kind,
        model=data.model,
        serial=data.serial,
        token_hash=token_hash(token),
        secret_sha1=sha1,
        secret_sha512=sha512,
        registered_by_user_id=actor.user.id,
    )
    db.add(device)
    await db.flush()
    record(
        db,
        actor,
        action="create",
        resource_type="MonitoringDevice",
        resource_id=device.id,
        patient_id=program.patient_id,
    )
    return device, token


async def devices_of(db: AsyncSession, program: Program) -> list[Device]:
    rows = await db.scalars(
        select(Device).where(Device.program_id == program.id).order_by(Device.created_at, Device.id)
    )
    return list(rows)


async def device_in(db: AsyncSession, program: Program, device_id: str) -> Device:
    device = await db.get(Device, device_id)
    if device is None or device.program_id != program.id:
        raise NotFound("appareil introuvable")
    return device


async def revoke(db: AsyncSession, actor: Actor, device: Device) -> Device:
    if actor.role != "professional":
        raise Forbidden("seul un professionnel de l'équipe révoque un appareil")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        record(
            db,
            actor,
            action="update",
            resource_type="MonitoringDevice",
            resource_id=device.id,
            patient_id=device.patient_id,
        )
    return device


async def by_token(db: AsyncSession, token: str) -> Device | None:
    """The live device behind a bearer token; None for a revoked device or any other token."""
    device = await db.scalar(select(Device).where(Device.token_hash == token_hash(token)))
    return device if device is not None and device.revoked_at is None else None


async def by_nightscout_secret(db: AsyncSession, api_secret: str) -> Device | None:
    """`api-secret` is the hex SHA-1 (or SHA-512) of the token; hex case does not matter."""
    digest = api_secret.strip().lower()
    if len(digest) not in (40, 128):
        return None
    device = await db.scalar(
        select(Device).where(or_(Device.secret_sha1 == digest, Device.secret_sha512 == digest))
    )
    return device if device is not None and device.revoked_at is None else None
