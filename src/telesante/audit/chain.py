"""The audit hash chain: every event holds the hash of the one before it.

Requests append events without taking any lock; the sealer (run by the worker,
and by `telesante audit verify --seal`) numbers the new events in insertion
order and chains them: hash = SHA-256(previous hash + the event's canonical
fields). Altering, deleting or inserting a sealed event breaks the chain at
that point, which `verify` reports. The head hash is logged at each seal so
that a copy outside the database can vouch for the end of the chain.
"""

import hashlib
import json
from dataclasses import dataclass

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.models import AuditEvent

log = structlog.get_logger()
GENESIS = "0" * 64
SEAL_BATCH = 5000


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    fields = [
        event.seq,
        event.id,
        event.at.isoformat(),
        event.actor_user_id,
        event.actor_role,
        event.patient_id,
        event.action,
        event.resource_type,
        event.resource_id,
        event.outcome,
        event.purpose,
        event.reason,
    ]
    canonical = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


async def seal(db: AsyncSession) -> int:
    """Chain the events not sealed yet; returns how many. One sealer at a time."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(7270101)"))
    last = await db.scalar(
        select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq.desc()).limit(1)
    )
    seq, prev = (last.seq or 0, last.hash or GENESIS) if last else (0, GENESIS)
    pending = list(
        await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq.is_(None))
            .order_by(AuditEvent.at, AuditEvent.id)
            .limit(SEAL_BATCH)
        )
    )
    for event in pending:
        seq += 1
        event.seq, event.prev_hash = seq, prev
        event.hash = prev = event_hash(prev, event)
    if pending:
        await db.flush()
        log.info("audit.sealed", head_seq=seq, head_hash=prev, count=len(pending))
    return len(pending)


@dataclass(frozen=True)
class Break:
    seq: int
    event_id: str
    problem: str


async def verify(db: AsyncSession) -> tuple[int, list[Break]]:
    """Walk the sealed chain; returns the number of events checked and every break found."""
    breaks: list[Break] = []
    expected_seq, prev = 1, GENESIS
    checked = 0
    result = await db.stream_scalars(
        select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
    )
    async for event in result:
        checked += 1
        seq = event.seq or 0
        if seq != expected_seq:
            breaks.append(Break(seq, event.id, f"events {expected_seq}..{seq - 1} are missing (deleted)"))
        if event.prev_hash != prev:
            breaks.append(Break(seq, event.id, "does not follow the previous event (inserted or reordered)"))
        if event.hash != event_hash(event.prev_hash or "", event):
            breaks.append(Break(seq, event.id, "content altered (hash mismatch)"))
        prev, expected_seq = event.hash or "", seq + 1
    return checked, breaks


async def unsealed_count(db: AsyncSession) -> int:
    return int(
        await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))) or 0
    )
