"""The outbox: a Hub message is a row written in the caller's transaction, sent later by the
connector once the broker confirms it, acknowledged when the recipient's RC-REF comes back.

A rolled-back request sends nothing; a broker outage delays, never loses. Two processes may
publish the same row twice: receivers deduplicate on the distribution id.
"""

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import utcnow
from telesante.errors import Invalid
from telesante.regulation.hub.envelope import build
from telesante.regulation.hub.kinds import KINDS, InvalidContent, validate
from telesante.regulation.models import HubMessage


async def send(
    db: AsyncSession,
    kind: str,
    recipient: str,
    message: dict[str, Any],
    file_id: str | None = None,
    *,
    sender: str,
) -> HubMessage:
    """Queue `message` (a use case's root) for `recipient`; nothing leaves before the commit."""
    spec = KINDS[kind]
    try:
        validate(spec, message)
    except InvalidContent as invalid:
        raise Invalid(f"message Hub Santé non conforme, rien n'est envoyé : {invalid}") from None
    envelope = build(
        sender=sender, recipient=recipient, kind=spec.distribution_kind, body=message, now=utcnow()
    )
    row = HubMessage(
        direction="out",
        distribution_id=envelope["distributionID"],
        kind=kind,
        peer=recipient,
        file_id=file_id,
        envelope=json.dumps(envelope, ensure_ascii=False),
        status="pending",
    )
    db.add(row)
    await db.flush()
    return row


async def pending(db: AsyncSession, limit: int) -> list[HubMessage]:
    """The next rows to publish, oldest first."""
    rows = await db.scalars(
        select(HubMessage)
        .where(HubMessage.direction == "out", HubMessage.status == "pending")
        .order_by(HubMessage.created_at, HubMessage.id)
        .limit(limit)
    )
    return list(rows)


async def mark_sent(db: AsyncSession, row_id: str) -> None:
    """Confirmed by the broker. Guarded: an RC-REF that came back first keeps its "acked"."""
    await db.execute(
        update(HubMessage)
        .where(HubMessage.id == row_id, HubMessage.status == "pending")
        .values(status="sent", sent_at=utcnow(), attempts=HubMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )


async def mark_undeliverable(db: AsyncSession, row_id: str, reason: str) -> None:
    await db.execute(
        update(HubMessage)
        .where(HubMessage.id == row_id, HubMessage.status == "pending")
        .values(status="error", error=reason[:400], attempts=HubMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )


async def _ours(db: AsyncSession, distribution_id: str, peer: str) -> HubMessage | None:
    """An out row, only as its own recipient may speak of it."""
    return await db.scalar(
        select(HubMessage).where(
            HubMessage.direction == "out",
            HubMessage.distribution_id == distribution_id,
            HubMessage.peer == peer,
        )
    )


async def acknowledged(db: AsyncSession, distribution_id: str, peer: str) -> HubMessage | None:
    """The recipient's RC-REF: the row is "acked" (sent, whatever the sender loop recorded)."""
    row = await _ours(db, distribution_id, peer)
    if row is not None:
        now = utcnow()
        row.status, row.acked_at, row.sent_at = "acked", now, row.sent_at or now
    return row


async def refused(db: AsyncSession, distribution_id: str, peer: str, cause: str) -> HubMessage | None:
    """The recipient's RS-ERROR: the row is in error, with the recipient's reason."""
    row = await _ours(db, distribution_id, peer)
    if row is not None:
        row.status, row.error = "error", cause[:400]
    return row


async def of_file(db: AsyncSession, file_id: str) -> list[HubMessage]:
    rows = await db.scalars(
        select(HubMessage).where(HubMessage.file_id == file_id).order_by(HubMessage.created_at, HubMessage.id)
    )
    return list(rows)
